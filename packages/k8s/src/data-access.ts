/**
 * `dataset.access` of a job config: who reads the dataset's files, and so
 * which pods need them. `ship`: the coordinator reads the data and sends the
 * workers their chunks over its connection, so only its pod needs the files.
 * `shared`: every worker reads its own samples, from the same paths or
 * http(s) URLs as the coordinator. `auto` (the default): the coordinator
 * picks at run time, shared for a large dataset; the manifests cannot know
 * which, so they prepare for shared.
 */
import { K8sError, K8sErrorCode } from './k8s-error.js';

export const DATA_ACCESS = ['ship', 'shared', 'auto'] as const;
export type DataAccess = (typeof DATA_ACCESS)[number];

/** What an absent `dataset.access` means; the coordinator's loader has the same default. */
export const DEFAULT_DATA_ACCESS: DataAccess = 'auto';

/**
 * `dataset.access` as the config has it, {@link DEFAULT_DATA_ACCESS} when absent.
 * Read from the config's own text, not the coordinator's parsed type, so the
 * manifests follow what the user wrote.
 * @throws K8sError (DTRAIN_K8S_CONFIG_PATH, field `dataset.access`) for any other value.
 */
export function dataAccess(document: Record<string, unknown>): DataAccess {
  const dataset = document['dataset'];
  const value = typeof dataset === 'object' && dataset !== null ? (dataset as Record<string, unknown>)['access'] : undefined;
  if (value === undefined || value === null) return DEFAULT_DATA_ACCESS;
  if (typeof value !== 'string' || !(DATA_ACCESS as readonly string[]).includes(value)) {
    throw new K8sError(K8sErrorCode.CONFIG_PATH, `expected one of ${DATA_ACCESS.join(', ')}, got ${JSON.stringify(value)}`, { field: 'dataset.access' });
  }
  return value as DataAccess;
}

/** Whether the workers may read the dataset themselves, and then need it where the coordinator has it. */
export function workersReadData(access: DataAccess): boolean {
  return access !== 'ship';
}
