/**
 * The samples of a Prometheus text exposition (what /metrics serves), by
 * series as written: `name` or `name{label="value",…}` → value. Comments
 * (# HELP, # TYPE) and blank lines are skipped; a timestamp after the value
 * is ignored.
 */
export function parsePromText(text: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    // Label values may hold spaces; the series ends at the closing brace when there is one.
    const close = line.lastIndexOf('}');
    const end = close >= 0 ? close + 1 : line.indexOf(' ');
    if (end <= 0) continue;
    const value = Number(line.slice(end).trim().split(/\s+/)[0]);
    series.set(line.slice(0, end), value);
  }
  return series;
}

/** What a worker's /metrics says about reading its samples (shared access), summed over the workers given. */
export interface WorkerReads {
  /** Samples of assignments found in the cache (prefetched ones included), and read from the source. */
  readonly hits: number;
  readonly misses: number;
  /** Feature bytes read from the source, prefetches included. */
  readonly bytesRead: number;
  /** dtrain_worker_data_seconds: steps and their summed time getting the batch's samples. */
  readonly dataSteps: number;
  readonly dataSeconds: number;
}

/** Sums the read counters of workers' /metrics texts; a missing series counts 0. */
export function workerReads(texts: readonly string[]): WorkerReads {
  const total = { hits: 0, misses: 0, bytesRead: 0, dataSteps: 0, dataSeconds: 0 };
  for (const text of texts) {
    const s = parsePromText(text);
    const get = (key: string): number => s.get(key) ?? 0;
    total.hits += get('dtrain_worker_sample_reads_total{result="hit"}');
    total.misses += get('dtrain_worker_sample_reads_total{result="miss"}');
    total.bytesRead += get('dtrain_worker_sample_read_bytes_total');
    total.dataSteps += get('dtrain_worker_data_seconds_count');
    total.dataSeconds += get('dtrain_worker_data_seconds_sum');
  }
  return total;
}
