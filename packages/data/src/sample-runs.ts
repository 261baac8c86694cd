import { DataError } from './data-error.js';

/** Consecutive samples of one shard, read with one range request. */
export interface SampleRun {
  readonly shard: number;
  /** Index of the run's first sample within its shard. */
  readonly first: number;
  readonly count: number;
}

/** The runs a list of ids needs, and where each requested id sits in them. */
export interface RunPlan {
  readonly runs: readonly SampleRun[];
  /** For position i of the ids: the run holding it. */
  readonly runOf: Uint32Array;
  /** For position i of the ids: its row within that run. */
  readonly rowInRun: Uint32Array;
}

/**
 * The shard holding global sample `id`, by binary search.
 * @param shardStarts the first global id of each shard, then the total: length shards + 1 (empty shards allowed).
 */
export function shardOfSample(shardStarts: ArrayLike<number>, id: number): number {
  let lo = 0;
  let hi = shardStarts.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((shardStarts[mid] as number) <= id) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Groups sample ids into runs of consecutive ids within one shard, so a
 * batch costs one range read per run rather than per sample. Ids come in any
 * order (an epoch plan shuffles them) and may repeat; they are visited in
 * ascending order. An id ≥ the dataset's size is DTRAIN_DATA_RANGE.
 * @param shardStarts the first global id of each shard, then the total: length shards + 1.
 */
export function planRuns(ids: Uint32Array, shardStarts: ArrayLike<number>, source: string): RunPlan {
  const total = shardStarts[shardStarts.length - 1] as number;
  const order = Uint32Array.from(ids.keys()).sort((a, b) => (ids[a] as number) - (ids[b] as number));
  const runs: SampleRun[] = [];
  const runOf = new Uint32Array(ids.length);
  const rowInRun = new Uint32Array(ids.length);
  let shard = 0;
  let run: { shard: number; first: number; count: number } | undefined;
  let lastId = -1;
  for (const position of order) {
    const id = ids[position] as number;
    if (id >= total) {
      throw new DataError('DTRAIN_DATA_RANGE', `${source}: sample ${id} (position ${position}) does not exist; expected 0..${total - 1}`);
    }
    while (id >= (shardStarts[shard + 1] as number)) shard++;
    const local = id - (shardStarts[shard] as number);
    const extends_ = run !== undefined && run.shard === shard && (id === lastId || id === lastId + 1);
    if (!extends_ || run === undefined) {
      run = { shard, first: local, count: 1 };
      runs.push(run);
    } else if (id !== lastId) {
      run.count++;
    }
    runOf[position] = runs.length - 1;
    rowInRun[position] = local - run.first;
    lastId = id;
  }
  return { runs, runOf, rowInRun };
}
