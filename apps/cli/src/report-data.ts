import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HistoryEpoch, HistoryEvent, HistoryPoint, JobSummary, RunHistoryJson } from '@dtrain/coordinator';
import { UsageError, UsageErrorCode } from './usage-error.js';

/*
 * history.json's shapes are @dtrain/coordinator's RunHistoryJson (its
 * RunHistory writes the file). The report does not trust a cast: it validates
 * what it reads field by field, so a hand-edited or truncated file is one
 * line naming the file and the field.
 */
export type { HistoryEpoch, HistoryEvent, HistoryPoint, RunHistoryJson };

/**
 * The part of summary.json (JobSummary) the report uses; its per-epoch
 * history read as HistoryEpoch (a loss that was not finite is null: JSON has no NaN).
 */
export type ReportSummary = Pick<JobSummary, 'name' | 'state' | 'failure' | 'epochs' | 'steps' | 'samples' | 'wallSeconds' | 'samplesPerSecond' | 'workers' | 'backend' | 'final'> & {
  readonly history: readonly HistoryEpoch[];
};

export interface RunData {
  readonly summary: ReportSummary;
  /** Absent when the run folder has no history.json (an older coordinator). */
  readonly history: RunHistoryJson | undefined;
}

const SUMMARY_STATES: readonly JobSummary['state'][] = ['done', 'failed', 'stopped'];
const EVENT_KINDS: readonly HistoryEvent['kind'][] = ['joined', 'left', 'evicted', 'checkpoint', 'rollback', 'state'];

/** Reads and validates RUN_DIR/summary.json and, when present, RUN_DIR/history.json. */
export function readRunData(runDir: string): RunData {
  const summaryPath = join(runDir, 'summary.json');
  const summary = parseSummary(summaryPath, readJson(summaryPath, true));
  const historyPath = join(runDir, 'history.json');
  const raw = readJson(historyPath, false);
  return { summary, history: raw === undefined ? undefined : parseHistory(historyPath, raw) };
}

function readJson(path: string, required: boolean): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    if (missing && !required) return undefined;
    const why = missing ? 'no such file (is this the --out folder of a run?)' : (error as Error).message;
    throw new UsageError(UsageErrorCode.USAGE, `dtrain report: cannot read ${path}: ${why}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(UsageErrorCode.USAGE, `dtrain report: ${path}: not JSON: ${(error as Error).message}`);
  }
}

/** Reads typed fields out of one JSON object, naming the file and the field path in every error. */
class Fields {
  constructor(
    private readonly file: string,
    private readonly path: string,
    private readonly obj: Record<string, unknown>,
  ) {}

  static of(file: string, path: string, value: unknown): Fields {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(file, path || '(top level)', 'an object', value);
    return new Fields(file, path, value as Record<string, unknown>);
  }

  private at(key: string): string {
    return this.path === '' ? key : `${this.path}.${key}`;
  }

  number(key: string): number {
    const v = this.obj[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) fail(this.file, this.at(key), 'a number', v);
    return v;
  }

  /** A number or null; an absent key reads as null (JSON.stringify drops undefined). */
  nullableNumber(key: string): number | null {
    const v = this.obj[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'number' || !Number.isFinite(v)) fail(this.file, this.at(key), 'a number or null', v);
    return v;
  }

  string(key: string): string {
    const v = this.obj[key];
    if (typeof v !== 'string') fail(this.file, this.at(key), 'a string', v);
    return v;
  }

  oneOf<T extends string>(key: string, choices: readonly T[]): T {
    const v = this.obj[key];
    if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) fail(this.file, this.at(key), `one of ${choices.join(', ')}`, v);
    return v as T;
  }

  optional<T>(key: string, read: (key: string) => T): T | undefined {
    return this.obj[key] === undefined ? undefined : read.call(this, key);
  }

  object(key: string): Fields {
    return Fields.of(this.file, this.at(key), this.obj[key]);
  }

  array<T>(key: string, item: (f: Fields) => T): T[] {
    const v = this.obj[key];
    if (!Array.isArray(v)) fail(this.file, this.at(key), 'an array', v);
    return v.map((x, i) => item(Fields.of(this.file, `${this.at(key)}[${i}]`, x)));
  }
}

function fail(file: string, field: string, expected: string, got: unknown): never {
  const shown = got === undefined ? 'nothing' : JSON.stringify(got).slice(0, 40);
  throw new UsageError(UsageErrorCode.USAGE, `dtrain report: ${file}: ${field}: expected ${expected}, got ${shown}`);
}

function parseEpoch(f: Fields): HistoryEpoch {
  return {
    epoch: f.number('epoch'),
    // NaN is written as null: a diverged epoch still has a row.
    loss: f.nullableNumber('loss') ?? Number.NaN,
    // Absent from runs written before workers reported training accuracy.
    accuracy: f.optional('accuracy', f.nullableNumber) ?? null,
    valLoss: f.nullableNumber('valLoss'),
    valAccuracy: f.nullableNumber('valAccuracy'),
    samples: f.number('samples'),
    samplesPerSecond: f.number('samplesPerSecond'),
    wallSeconds: f.number('wallSeconds'),
  };
}

/** Validates a parsed summary.json; `file` names it in errors. */
export function parseSummary(file: string, value: unknown): ReportSummary {
  const f = Fields.of(file, '', value);
  const fin = f.object('final');
  const failure = f.optional('failure', f.string);
  const testLoss = fin.optional('testLoss', fin.number);
  const testAccuracy = fin.optional('testAccuracy', fin.nullableNumber);
  return {
    name: f.string('name'),
    state: f.oneOf('state', SUMMARY_STATES),
    ...(failure === undefined ? {} : { failure }),
    epochs: f.number('epochs'),
    steps: f.number('steps'),
    samples: f.number('samples'),
    wallSeconds: f.number('wallSeconds'),
    samplesPerSecond: f.number('samplesPerSecond'),
    workers: f.number('workers'),
    backend: f.string('backend'),
    final: {
      loss: fin.nullableNumber('loss'),
      accuracy: fin.optional('accuracy', fin.nullableNumber) ?? null,
      valLoss: fin.nullableNumber('valLoss'),
      valAccuracy: fin.nullableNumber('valAccuracy'),
      ...(testLoss === undefined ? {} : { testLoss }),
      ...(testAccuracy === undefined ? {} : { testAccuracy }),
    },
    history: f.array('history', parseEpoch),
  };
}

/** Validates a parsed history.json; `file` names it in errors. */
export function parseHistory(file: string, value: unknown): RunHistoryJson {
  const f = Fields.of(file, '', value);
  const version = f.number('version');
  if (version !== 1) fail(file, 'version', '1', version);
  return {
    version: 1,
    job: f.string('job'),
    startedAt: f.string('startedAt'),
    stride: f.number('stride'),
    maxPoints: f.number('maxPoints'),
    steps: f.array('steps', (p) => ({
      step: p.number('step'),
      epoch: p.number('epoch'),
      t: p.number('t'),
      loss: p.nullableNumber('loss'),
      accuracy: p.nullableNumber('accuracy'),
      samples: p.number('samples'),
      samplesPerSecond: p.number('samplesPerSecond'),
      computeSeconds: p.number('computeSeconds'),
      waitSeconds: p.number('waitSeconds'),
      syncSeconds: p.number('syncSeconds'),
      workers: p.number('workers'),
    })),
    epochs: f.array('epochs', parseEpoch),
    events: f.array('events', (e) => {
      const kind = e.oneOf('kind', EVENT_KINDS);
      const workerId = e.optional('workerId', e.number);
      return { t: e.number('t'), kind, ...(workerId === undefined ? {} : { workerId }), detail: e.string('detail') };
    }),
  };
}
