import type { FlatRange } from '@dtrain/protocol';
import type { OptimizerState } from './optimizer.js';
import { ParameterServerError } from './parameter-server-error.js';

/** The optimizer state of one range of the flat layout, as the optimizer over that range reports it. */
export interface RangeOptimizerState {
  /** The flat elements [start, end) the state's arrays cover. */
  readonly range: FlatRange;
  readonly state: OptimizerState;
}

/**
 * Joins the states of optimizers over ranges that together cover [0, size)
 * exactly once (e.g. the K shards of a job, in any order) into one state over
 * [0, size), the form a checkpoint stores. The parts must agree on everything
 * but their arrays: they are steps of one optimizer.
 * @throws ParameterServerError `DTRAIN_PS_OPTIMIZER_STATE` naming the first part that does not fit.
 */
export function assembleOptimizerState(parts: readonly RangeOptimizerState[], size: number): OptimizerState {
  if (!(Number.isSafeInteger(size) && size >= 0)) throw stateError(`size must be a non-negative integer, got ${size}`);
  const first = parts[0];
  if (first === undefined) throw stateError('no parts to assemble');
  const sorted = [...parts].sort((a, b) => a.range.start - b.range.start || a.range.end - b.range.end);
  const names = Object.keys(first.state.arrays).sort();
  const arrays = Object.fromEntries(names.map((name) => [name, new Float32Array(size)]));
  let at = 0;
  for (const { range, state } of sorted) {
    const where = `part [${range.start}, ${range.end})`;
    if (!(Number.isSafeInteger(range.start) && Number.isSafeInteger(range.end) && range.start <= range.end)) {
      throw stateError(`${where} is not a range of integers`);
    }
    if (range.start !== at) {
      throw stateError(
        range.start < at
          ? `${where} overlaps the part before it, which ends at ${at}`
          : `no part covers [${at}, ${range.start})`,
      );
    }
    if (range.end > size) throw stateError(`${where} ends beyond the ${size} elements to assemble`);
    const mismatch = differs(first.state, state);
    if (mismatch !== undefined) throw stateError(`${where} disagrees with part [${first.range.start}, ${first.range.end}) on ${mismatch}`);
    for (const name of names) {
      const array = state.arrays[name] as Float32Array;
      if (!(array instanceof Float32Array) || array.length !== range.end - range.start) {
        throw stateError(`${where}: array ${name} must be a Float32Array of ${range.end - range.start} elements`);
      }
      (arrays[name] as Float32Array).set(array, range.start);
    }
    at = range.end;
  }
  if (at !== size) throw stateError(`no part covers [${at}, ${size})`);
  return {
    name: first.state.name,
    iterations: first.state.iterations,
    learningRate: first.state.learningRate,
    scalars: { ...first.state.scalars },
    arrays,
  };
}

/**
 * Cuts a state (e.g. a checkpoint's, over the whole layout) into the states of
 * `ranges`, indices into the state's arrays; each is what an optimizer over
 * that range takes in `setState`. The arrays are views into `state`'s, not
 * copies (`setState` copies them in): a resume does not hold the model's
 * optimizer state twice.
 * @throws ParameterServerError `DTRAIN_PS_OPTIMIZER_STATE` if a range does not lie within the arrays.
 */
export function splitOptimizerState(state: OptimizerState, ranges: readonly FlatRange[]): OptimizerState[] {
  const lengths = new Set(Object.values(state.arrays).map((array) => array.length));
  if (lengths.size > 1) throw stateError(`the state's arrays differ in length (${[...lengths].join(', ')})`);
  const [length] = lengths;
  return ranges.map(({ start, end }) => {
    const fits = Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && start <= end;
    if (!fits || (length !== undefined && end > length)) {
      throw stateError(`range [${start}, ${end}) does not lie within the state's ${length ?? 'arrays'} elements`);
    }
    return {
      name: state.name,
      iterations: state.iterations,
      learningRate: state.learningRate,
      scalars: { ...state.scalars },
      arrays: Object.fromEntries(Object.entries(state.arrays).map(([name, array]) => [name, array.subarray(start, end)])),
    };
  });
}

/** What two states of one optimizer's ranges disagree on, besides their arrays' contents. */
function differs(a: OptimizerState, b: OptimizerState): string | undefined {
  if (a.name !== b.name) return `the optimizer (${a.name} vs ${b.name})`;
  if (a.iterations !== b.iterations) return `iterations (${a.iterations} vs ${b.iterations})`;
  if (!Object.is(a.learningRate, b.learningRate)) return `learningRate (${a.learningRate} vs ${b.learningRate})`;
  const keys = Object.keys(a.scalars).sort();
  if (keys.join() !== Object.keys(b.scalars).sort().join()) return 'which scalars there are';
  for (const key of keys) {
    if (!Object.is(a.scalars[key], b.scalars[key])) return `scalar ${key} (${a.scalars[key]} vs ${b.scalars[key]})`;
  }
  if (Object.keys(a.arrays).sort().join() !== Object.keys(b.arrays).sort().join()) return 'which arrays there are';
  return undefined;
}

function stateError(message: string): ParameterServerError {
  return new ParameterServerError('DTRAIN_PS_OPTIMIZER_STATE', `optimizer state: ${message}`);
}
