/**
 * `dataset.normalise` (or `normalize`): how features are scaled before
 * training. Accepted forms:
 *
 *     normalise: scale                       # divide by the largest value seen
 *     normalise: { kind: scale, scale: 255 } # divide by 255
 *     normalise: standardize                 # (x - mean) / std per feature
 */
import type { Normalisation } from '@dtrain/data';
import { invalidField } from './config-error.js';
import { POSITIVE_NUMBER, describeValue, fieldPath, get, has, isPlainObject, objectWithKeys, oneOf, optionalNumber } from './validators.js';

type NormalisationKind = Normalisation['kind'];

const KINDS: readonly NormalisationKind[] = ['none', 'scale', 'standardize'];

/** British spellings people type; the stored kind stays the data package's. */
const ALIASES: Readonly<Record<string, NormalisationKind>> = { standardise: 'standardize' };

export const DEFAULT_NORMALISATION: Normalisation = { kind: 'none' };

function kindOf(value: unknown, field: string): NormalisationKind {
  if (typeof value === 'string' && Object.hasOwn(ALIASES, value)) return ALIASES[value] as NormalisationKind;
  return oneOf(value, field, KINDS);
}

/** `value` (absent → none) as a Normalisation; `field` is the key the user wrote. */
export function parseNormalisation(value: unknown, field: string): Normalisation {
  if (value === undefined || value === null) return DEFAULT_NORMALISATION;
  if (typeof value === 'string') return { kind: kindOf(value, field) };
  if (!isPlainObject(value)) {
    throw invalidField(field, `expected one of "none", "scale", "standardize" or { kind, scale }, got ${describeValue(value)}`);
  }
  const fields = objectWithKeys(value, field, ['kind', 'scale']);
  if (!has(fields, 'kind')) throw invalidField(fieldPath(fields, 'kind'), 'required');
  const kind = kindOf(get(fields, 'kind'), fieldPath(fields, 'kind'));
  if (kind !== 'scale') {
    if (has(fields, 'scale')) throw invalidField(fieldPath(fields, 'scale'), `only used with kind "scale", not "${kind}"`);
    return { kind };
  }
  const scale = optionalNumber(fields, 'scale', POSITIVE_NUMBER);
  return scale === undefined ? { kind } : { kind, scale };
}
