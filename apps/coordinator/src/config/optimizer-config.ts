/**
 * `training.optimizer`: an optimizer name plus tfjs's hyper-parameter names
 * for it. Hyper-parameters left out are absent from the result, so the
 * parameter server applies tfjs's defaults in one place.
 */
import type { OptimizerConfig, OptimizerName } from '@dtrain/parameter-server';
import { invalidField } from './config-error.js';
import {
  FRACTION,
  NON_NEGATIVE_NUMBER,
  POSITIVE_NUMBER,
  expectedGot,
  isPlainObject,
  joinPath,
  objectWithKeys,
  oneOf,
  optionalBoolean,
  optionalNumber,
  requireNumber,
  type Fields,
} from './validators.js';

export const OPTIMIZER_NAMES: readonly OptimizerName[] = ['sgd', 'momentum', 'adam', 'rmsprop'];

/** Each optimizer's keys beside `name` and `learningRate`, as tfjs names them. */
const HYPER_PARAMETERS: Readonly<Record<OptimizerName, readonly string[]>> = {
  sgd: [],
  momentum: ['momentum', 'useNesterov'],
  adam: ['beta1', 'beta2', 'epsilon'],
  rmsprop: ['decay', 'momentum', 'epsilon', 'centered'],
};

/** `field`: where the optimizer sits in the job config (`training.optimizer`, `training.outerOptimizer`). */
export function parseOptimizerConfig(raw: unknown, field = 'training.optimizer'): OptimizerConfig {
  const FIELD = field;
  if (raw === undefined || raw === null) throw invalidField(FIELD, 'required');
  if (!isPlainObject(raw)) {
    throw expectedGot(FIELD, `an object { name, learningRate, … } with name one of ${OPTIMIZER_NAMES.join(', ')}`, raw);
  }
  const rawName = raw['name'] ?? undefined;
  if (rawName === undefined) {
    // A misspelt key (`nmae`) deserves "did you mean" rather than "required".
    objectWithKeys(raw, FIELD, ['name', 'learningRate', ...new Set(Object.values(HYPER_PARAMETERS).flat())]);
    throw invalidField(joinPath(FIELD, 'name'), 'required');
  }
  const name = oneOf(rawName, joinPath(FIELD, 'name'), OPTIMIZER_NAMES);
  const allowed = ['name', 'learningRate', ...HYPER_PARAMETERS[name]];
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key) && OPTIMIZER_NAMES.some((other) => HYPER_PARAMETERS[other].includes(key))) {
      const takes = allowed.slice(1).join(', ');
      throw invalidField(joinPath(FIELD, key), `not a hyper-parameter of optimizer "${name}" (it takes ${takes})`);
    }
  }
  const fields = objectWithKeys(raw, FIELD, allowed);
  const learningRate = requireNumber(fields, 'learningRate', POSITIVE_NUMBER);
  switch (name) {
    case 'sgd':
      return { name, learningRate };
    case 'momentum':
      return { name, learningRate, ...numbers(fields, { momentum: NON_NEGATIVE_NUMBER }), ...flags(fields, ['useNesterov']) };
    case 'adam':
      return { name, learningRate, ...numbers(fields, { beta1: FRACTION, beta2: FRACTION, epsilon: POSITIVE_NUMBER }) };
    case 'rmsprop':
      return {
        name,
        learningRate,
        ...numbers(fields, { decay: FRACTION, momentum: NON_NEGATIVE_NUMBER, epsilon: POSITIVE_NUMBER }),
        ...flags(fields, ['centered']),
      };
  }
}

/** The keys of `rules` that are present, each checked against its rule. */
function numbers<K extends string>(fields: Fields, rules: Readonly<Record<K, Parameters<typeof optionalNumber>[2]>>): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  for (const key of Object.keys(rules) as K[]) {
    const value = optionalNumber(fields, key, rules[key]);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

function flags<K extends string>(fields: Fields, keys: readonly K[]): Partial<Record<K, boolean>> {
  const out: Partial<Record<K, boolean>> = {};
  for (const key of keys) {
    const value = optionalBoolean(fields, key);
    if (value !== undefined) out[key] = value;
  }
  return out;
}
