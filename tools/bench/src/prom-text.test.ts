import { describe, expect, it } from 'vitest';
import { parsePromText, workerReads } from './prom-text.js';

const worker = (hits: number, misses: number, bytes: number, steps: number, seconds: number): string =>
  [
    '# HELP dtrain_worker_sample_reads_total Shared access: samples of assignments found in the sample cache.',
    '# TYPE dtrain_worker_sample_reads_total counter',
    `dtrain_worker_sample_reads_total{result="hit"} ${hits}`,
    `dtrain_worker_sample_reads_total{result="miss"} ${misses}`,
    `dtrain_worker_sample_read_bytes_total ${bytes}`,
    '# TYPE dtrain_worker_data_seconds histogram',
    'dtrain_worker_data_seconds_bucket{le="0.001"} 3',
    `dtrain_worker_data_seconds_bucket{le="+Inf"} ${steps}`,
    `dtrain_worker_data_seconds_sum ${seconds}`,
    `dtrain_worker_data_seconds_count ${steps}`,
    '',
  ].join('\n');

describe('parsePromText', () => {
  it('reads series with and without labels, skipping comments', () => {
    const s = parsePromText(worker(5, 7, 3072, 12, 0.25));
    expect(s.get('dtrain_worker_sample_reads_total{result="hit"}')).toBe(5);
    expect(s.get('dtrain_worker_data_seconds_bucket{le="+Inf"}')).toBe(12);
    expect(s.get('dtrain_worker_data_seconds_sum')).toBe(0.25);
    expect([...s.keys()].some((k) => k.startsWith('#'))).toBe(false);
  });
  it('keeps label values with spaces and ignores a timestamp', () => {
    const s = parsePromText('dtrain_info{job="a b",version="1"} 1 1700000000000\nup 0\n');
    expect(s.get('dtrain_info{job="a b",version="1"}')).toBe(1);
    expect(s.get('up')).toBe(0);
  });
});

describe('workerReads', () => {
  it('sums the workers and counts a missing series as 0', () => {
    expect(workerReads([worker(5, 7, 3072, 12, 0.25), worker(1, 2, 1024, 3, 0.5), 'up 1\n'])).toEqual({ hits: 6, misses: 9, bytesRead: 4096, dataSteps: 15, dataSeconds: 0.75 });
  });
});
