import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PushRecord, type PushRecordLine } from './push-record.js';

describe('PushRecord', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });
  const line = (step: number, finite = true): PushRecordLine => ({ step, epoch: 0, version: step, batchId: step * 3, workerId: 1, sampleIds: [step, step + 1], finite });

  it('appends one JSON line per push, readable before it is closed, after what the file held', () => {
    dir = mkdtempSync(join(tmpdir(), 'push-record-'));
    const path = join(dir, 'w.jsonl');
    writeFileSync(path, `${JSON.stringify(line(0))}\n`);
    const record = new PushRecord(path);
    record.append(line(1));
    record.append(line(2, false));
    // On disk at once: a SIGKILL right after append must not lose the line.
    expect(readFileSync(path, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as PushRecordLine)).toEqual([line(0), line(1), line(2, false)]);
    record.close();
    record.append(line(3));
    record.close();
    expect(readFileSync(path, 'utf8').split('\n').filter((l) => l !== '')).toHaveLength(3);
  });

  it('throws at construction when the file cannot be opened', () => {
    dir = mkdtempSync(join(tmpdir(), 'push-record-'));
    expect(() => new PushRecord(join(dir!, 'missing', 'w.jsonl'))).toThrow(/ENOENT/);
  });
});
