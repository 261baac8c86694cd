/**
 * Makes a job config runnable inside the coordinator's pod. On the user's
 * machine relative paths resolve against the config file's folder; in the
 * pod the config comes from a ConfigMap (mounted elsewhere) and that folder
 * is mounted or baked in at {@link JOB_ROOT}. So every file path becomes
 * absolute under JOB_ROOT, and the checkpoint folder moves to the state
 * volume; when asked, `cluster.psShards` is set to the number of shard pods
 * rendered beside it. An http(s) URL names the same file in every pod and
 * stays as written. Everything else stays as the user wrote it, comments
 * included.
 */
import { isAbsolute, posix, relative, resolve, sep } from 'node:path';
import { isMap, isScalar, isSeq, parseDocument, type Scalar } from 'yaml';
import { K8sError, K8sErrorCode } from './k8s-error.js';
import { CHECKPOINT_DIR, JOB_ROOT } from './pod-layout.js';

/** Where a config names files. Keep in step with the coordinator's config readers (a test checks the known ones). */
const FILE_FIELDS: readonly (readonly string[])[] = [
  ['model', 'topology'],
  ['dataset', 'images'],
  ['dataset', 'labels'],
  ['dataset', 'path'],
  ['dataset', 'features'],
  ['dataset', 'test', 'images'],
  ['dataset', 'test', 'labels'],
  ['dataset', 'test', 'path'],
  ['dataset', 'test', 'features'],
];

export interface RelocateOptions {
  /** Set `cluster.psShards` to this (the shard pods rendered with the job); default: leave it as written. */
  readonly psShards?: number;
}

export interface RelocatedConfig {
  /** The config text with file paths under JOB_ROOT, `checkpoint.dir` on the state volume and any override applied. */
  readonly text: string;
  /** The same, as a plain object. */
  readonly document: Record<string, unknown>;
  /** The files the config names, relative to the config's folder (POSIX separators), in field order. */
  readonly files: readonly string[];
  /** The http(s) URLs the config names instead of files, as written, in field order. */
  readonly urls: readonly string[];
}

/**
 * An `http://` or `https://` location: the test `isHttpUrl` of @dtrain/data
 * makes (http-byte-source.ts), repeated so this package needs no data readers.
 */
function isHttpUrl(location: string): boolean {
  return /^https?:\/\//i.test(location);
}

/**
 * @param text the config file's text (YAML or JSON), already validated by the coordinator's loader.
 * @param configDir absolute folder of the config file on this machine.
 * @throws K8sError (DTRAIN_K8S_CONFIG_PATH) naming the field whose file lies outside `configDir`.
 */
export function relocateJobConfig(text: string, configDir: string, options: RelocateOptions = {}): RelocatedConfig {
  const doc = parseDocument(text);
  if (doc.errors.length > 0 || !isMap(doc.contents)) throw new K8sError(K8sErrorCode.CONFIG_PATH, 'expected the job config to be a YAML or JSON object');
  const files: string[] = [];
  const urls: string[] = [];
  /** The path under JOB_ROOT for one configured path (or glob: a pattern relocates like a path); a URL as it is. */
  const relocate = (value: string, field: string): string => {
    if (isHttpUrl(value)) {
      urls.push(value);
      return value;
    }
    const rel = relative(configDir, resolve(configDir, value));
    if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
      throw new K8sError(
        K8sErrorCode.CONFIG_PATH,
        `${value} is outside the config's folder ${configDir}; in Kubernetes the pods see only that folder (at ${JOB_ROOT}): move the file under it`,
        { field },
      );
    }
    const portable = rel.split(sep).join('/');
    files.push(portable);
    return posix.join(JOB_ROOT, portable);
  };
  for (const path of FILE_FIELDS) {
    const value: unknown = doc.getIn(path);
    const field = path.join('.');
    if (typeof value === 'string') doc.setIn(path, relocate(value, field));
    // A sharded source may list its files. Rewritten item by item, so comments between them stay.
    else if (isSeq(value) && value.items.every((item) => isScalar(item) && typeof item.value === 'string')) {
      (value.items as Scalar<string>[]).forEach((item, i) => {
        item.value = relocate(item.value, `${field}[${i}]`);
      });
    }
  }
  doc.setIn(['checkpoint', 'dir'], CHECKPOINT_DIR);
  if (options.psShards !== undefined) doc.setIn(['cluster', 'psShards'], options.psShards);
  return { text: doc.toString({ lineWidth: 0 }), document: doc.toJS() as Record<string, unknown>, files, urls };
}
