/** Stable codes of {@link K8sError}: what went wrong decides what the caller does next. Never rename one: scripts and tests match on them. */
export const K8sErrorCode = {
  /** The job config cannot run as is in a pod (e.g. a data file outside the config's folder): the user fixes the config. */
  CONFIG_PATH: 'DTRAIN_K8S_CONFIG_PATH',
  /** A render option is malformed (name, image, size): the user fixes the flag. */
  OPTION: 'DTRAIN_K8S_OPTION',
  /** A manifest is not valid YAML, not a Kubernetes object, or fails its schema; for generated manifests a bug in this package, never the user's doing: report it. */
  INVALID_MANIFEST: 'DTRAIN_K8S_INVALID_MANIFEST',
  /** An input file of the generator (dashboard, alert rules) is missing or malformed: fix the file in the repository. */
  SOURCE: 'DTRAIN_K8S_SOURCE',
} as const;
export type K8sErrorCode = (typeof K8sErrorCode)[keyof typeof K8sErrorCode];

/** Extra context for a {@link K8sError}; `cause` as for any Error. */
export interface K8sErrorOptions extends ErrorOptions {
  /** The config field or option at fault; the message is then prefixed with `<field>: `. */
  readonly field?: string;
}

/** The one error class of @dtrain/k8s. `field` names the config field or option at fault, when there is one. */
export class K8sError extends Error {
  override readonly name = 'K8sError';
  readonly code: K8sErrorCode;
  readonly field: string | undefined;

  constructor(code: K8sErrorCode, message: string, options: K8sErrorOptions = {}) {
    super(options.field === undefined ? message : `${options.field}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.field = options.field;
  }

  /** True for mistakes the user fixes (config, options, input files), false for bugs. */
  get isUserError(): boolean {
    return this.code !== K8sErrorCode.INVALID_MANIFEST;
  }
}
