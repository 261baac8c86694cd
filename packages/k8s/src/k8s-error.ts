/** Stable codes of {@link K8sError}: what went wrong decides what the caller does next. */
export const K8sErrorCode = {
  /** The job config cannot run as is in a pod (e.g. a data file outside the config's folder): the user fixes the config. */
  configPath: 'DTRAIN_K8S_CONFIG_PATH',
  /** A render option is malformed (name, image, size): the user fixes the flag. */
  option: 'DTRAIN_K8S_OPTION',
  /** A generated manifest failed its schema: a bug in this package, never the user's doing. */
  invalidManifest: 'DTRAIN_K8S_INVALID_MANIFEST',
  /** An input file of the generator (dashboard, alert rules) is missing or malformed. */
  source: 'DTRAIN_K8S_SOURCE',
} as const;
export type K8sErrorCode = (typeof K8sErrorCode)[keyof typeof K8sErrorCode];

/** The one error class of @dtrain/k8s. `field` names the config field or option at fault, when there is one. */
export class K8sError extends Error {
  readonly code: K8sErrorCode;
  readonly field: string | undefined;

  constructor(code: K8sErrorCode, message: string, field?: string) {
    super(field === undefined ? message : `${field}: ${message}`);
    this.name = 'K8sError';
    this.code = code;
    this.field = field;
  }

  /** True for mistakes the user fixes (config, options, input files), false for bugs. */
  get isUserError(): boolean {
    return this.code !== K8sErrorCode.invalidManifest;
  }
}
