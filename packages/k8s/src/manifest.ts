/**
 * A generated Kubernetes object: a kubernetes-models instance (typed fields,
 * `validate()` against the API schema) or anything with the same two methods.
 */
export interface Manifest {
  /** The plain object kubectl gets. */
  toJSON(): unknown;
  /** Throws when the object breaks its API schema. */
  validate(): void;
}
