import { describe, expect, it } from 'vitest';
import { ChunkPlan, DEFAULT_CHUNK_BYTES, MIN_CHUNK_BYTES, type ChunkSpan, type FlatRange } from './chunk-plan.js';
import { ProtocolError, ProtocolErrorCode } from './errors.js';
import { seededRandom } from './testing/messages.js';
import { TEST_SEED } from './testing/seed.js';

function expectMalformed(run: () => unknown, message: string): void {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ProtocolError);
  expect((thrown as ProtocolError).code).toBe(ProtocolErrorCode.MALFORMED);
  expect((thrown as ProtocolError).message).toBe(message);
}

/** Random plans: chunk sizes from the minimum up, layouts from empty to ~60 chunks, exact multiples over-represented. */
function randomPlans(seed: number, count: number): ChunkPlan[] {
  const random = seededRandom(seed);
  const int = (max: number): number => Math.floor(random() * (max + 1));
  return Array.from({ length: count }, () => {
    const chunkBytes = MIN_CHUNK_BYTES + 4 * int(random() < 0.3 ? 0 : 3000);
    const chunkElements = chunkBytes / 4;
    const chunks = int(60);
    const pick = int(3);
    const totalSize = pick === 0 ? chunks * chunkElements : pick === 1 ? int(3) : chunks * chunkElements + int(chunkElements - 1);
    return new ChunkPlan(totalSize, chunkBytes);
  });
}

function spansOf(plan: ChunkPlan): ChunkSpan[] {
  return Array.from({ length: plan.chunkCount }, (_, i) => plan.chunk(i));
}

/**
 * Why the spans do not tile [start, end) in order (each starting where the
 * last ended, none empty), or undefined when they do. Checks return a
 * reason instead of calling expect per element: thousands of plans stay fast
 * and a failure still says what broke.
 */
function tilingProblem(spans: readonly ChunkSpan[], start: number, end: number): string | undefined {
  let at = start;
  for (const [i, span] of spans.entries()) {
    if (span.offset !== at) return `span ${i} starts at ${span.offset}, expected ${at}`;
    if (!(span.count > 0)) return `span ${i} at ${span.offset} is empty`;
    at += span.count;
  }
  return at === end ? undefined : `spans end at ${at}, expected ${end}`;
}

function describePlan(plan: ChunkPlan): string {
  return `plan(totalSize ${plan.totalSize}, chunkElements ${plan.chunkElements})`;
}

describe('constants', () => {
  it('defaults chunks to 4 MiB and refuses below 4 KiB', () => {
    expect([DEFAULT_CHUNK_BYTES, MIN_CHUNK_BYTES]).toEqual([4 * 1024 * 1024, 4096]);
  });
});

describe('constructor', () => {
  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])('refuses totalSize %s', (totalSize) => {
    expectMalformed(() => new ChunkPlan(totalSize, 4096), `chunk plan: totalSize must be an integer ≥ 0, got ${totalSize}`);
  });

  it.each([0, 4, 4092, 4095, 4097, 4098, 4096.5, Number.NaN])('refuses chunkBytes %s', (chunkBytes) => {
    expectMalformed(() => new ChunkPlan(10, chunkBytes), `chunk plan: chunkBytes must be a multiple of 4 ≥ 4096, got ${chunkBytes}`);
  });

  it('counts chunks, the last one possibly short', () => {
    expect([new ChunkPlan(0, 4096).chunkCount, new ChunkPlan(1, 4096).chunkCount, new ChunkPlan(1024, 4096).chunkCount, new ChunkPlan(1025, 4096).chunkCount]).toEqual([0, 1, 1, 2]);
    const plan = new ChunkPlan(2500, 4096);
    expect([plan.chunkElements, plan.chunkCount]).toEqual([1024, 3]);
    expect(spansOf(plan)).toEqual([
      { offset: 0, count: 1024 },
      { offset: 1024, count: 1024 },
      { offset: 2048, count: 452 },
    ]);
  });
});

describe(`chunks (seed ${TEST_SEED})`, () => {
  it('cover [0, totalSize) exactly once, all full but the last', () => {
    const problems: string[] = [];
    for (const plan of randomPlans(TEST_SEED, 300)) {
      const spans = spansOf(plan);
      const problem =
        tilingProblem(spans, 0, plan.totalSize) ??
        (spans.slice(0, -1).some((span) => span.count !== plan.chunkElements) ? 'a chunk before the last is not full' : undefined) ??
        ((spans.at(-1)?.count ?? 0) > plan.chunkElements ? 'the last chunk is longer than chunkElements' : undefined);
      if (problem !== undefined) problems.push(`${describePlan(plan)}: ${problem}`);
    }
    expect(problems).toEqual([]);
  });

  it('indexAt accepts exactly the chunk starts', () => {
    for (const plan of randomPlans(TEST_SEED + 1, 40)) {
      const starts = new Map(spansOf(plan).map((span, index) => [span.offset, index]));
      // Every offset around every boundary, and the layout's ends.
      const probes = new Set<number>([-1, 0, plan.totalSize - 1, plan.totalSize, plan.totalSize + 1]);
      for (let i = 0; i <= plan.chunkCount + 1; i++) for (const d of [-1, 0, 1, 2]) probes.add(i * plan.chunkElements + d);
      const wrong = [...probes].filter((offset) => plan.indexAt(offset) !== (starts.get(offset) ?? -1));
      expect(wrong, describePlan(plan)).toEqual([]);
    }
    const plan = new ChunkPlan(2500, 4096);
    const accepted = Array.from({ length: 2505 }, (_, i) => i - 2).filter((offset) => plan.indexAt(offset) >= 0);
    expect(accepted.map((offset) => [offset, plan.indexAt(offset)])).toEqual([
      [0, 0],
      [1024, 1],
      [2048, 2],
    ]);
  });

  it.each([0.5, 1024.5, Number.NaN, Number.POSITIVE_INFINITY, 3072])('indexAt(%s) is -1 (not a chunk start of a 2500-element plan)', (offset) => {
    expect(new ChunkPlan(2500, 4096).indexAt(offset)).toBe(-1);
  });
});

describe(`shardRanges (seed ${TEST_SEED})`, () => {
  /** Why K ranges are not a tiling on chunk boundaries with chunk counts within 1 of each other, or undefined. */
  function shardProblem(plan: ChunkPlan, ranges: readonly FlatRange[], shards: number): string | undefined {
    if (ranges.length !== shards) return `${ranges.length} ranges for ${shards} shards`;
    const spans = ranges.map((r) => ({ offset: r.start, count: r.end - r.start }));
    // An empty layout has one empty shard; otherwise no shard is empty.
    const tiling = plan.totalSize === 0 ? (spans.length === 1 && spans[0]?.offset === 0 && spans[0].count === 0 ? undefined : 'not one empty shard') : tilingProblem(spans, 0, plan.totalSize);
    if (tiling !== undefined) return tiling;
    for (const range of ranges) {
      if (plan.totalSize > 0 && plan.indexAt(range.start) < 0) return `range [${range.start}, ${range.end}) starts off a chunk boundary`;
      if (range.end !== plan.totalSize && plan.indexAt(range.end) < 0) return `range [${range.start}, ${range.end}) ends off a chunk boundary`;
    }
    const chunkCounts = ranges.map((range) => plan.chunksOf(range).length);
    if (chunkCounts.reduce((a, b) => a + b, 0) !== plan.chunkCount) return `chunk counts ${chunkCounts.join(',')} do not sum to ${plan.chunkCount}`;
    if (Math.max(...chunkCounts) - Math.min(...chunkCounts) > 1) return `chunk counts ${chunkCounts.join(',')} differ by more than 1`;
    // Balanced by bytes: no two shards differ by more than one chunk's worth.
    const sizes = ranges.map((range) => range.end - range.start);
    if (Math.max(...sizes) - Math.min(...sizes) > plan.chunkElements) return `sizes ${sizes.join(',')} differ by more than a chunk`;
    return undefined;
  }

  it('tiles the layout on chunk boundaries, balanced, for every K from 1 to the chunk count', () => {
    const problems: string[] = [];
    let checked = 0;
    for (const plan of randomPlans(TEST_SEED + 2, 150)) {
      for (let shards = 1; shards <= Math.max(1, plan.chunkCount); shards++) {
        const problem = shardProblem(plan, plan.shardRanges(shards), shards);
        if (problem !== undefined) problems.push(`${describePlan(plan)}, ${shards} shards: ${problem}`);
        checked++;
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(500);
  });

  it('the check itself finds an unbalanced or misaligned cut', () => {
    const plan = new ChunkPlan(4 * 1024, 4096);
    expect(shardProblem(plan, [{ start: 0, end: 1024 }, { start: 1024, end: 4096 }], 2)).toBe('chunk counts 1,3 differ by more than 1');
    expect(shardProblem(plan, [{ start: 0, end: 2000 }, { start: 2000, end: 4096 }], 2)).toBe('range [0, 2000) ends off a chunk boundary');
    expect(shardProblem(plan, [{ start: 0, end: 2048 }, { start: 2049, end: 4096 }], 2)).toBe('span 1 starts at 2049, expected 2048');
  });

  it('cuts 10 chunks into 3 shards as 3, 3, 4 and 4 into 4 as 1 each', () => {
    const plan = new ChunkPlan(10 * 1024 - 7, 4096);
    expect(plan.shardRanges(3)).toEqual([
      { start: 0, end: 3072 },
      { start: 3072, end: 6144 },
      { start: 6144, end: 10 * 1024 - 7 },
    ]);
    expect(new ChunkPlan(4096, 4096).shardRanges(4)).toEqual([
      { start: 0, end: 1024 },
      { start: 1024, end: 2048 },
      { start: 2048, end: 3072 },
      { start: 3072, end: 4096 },
    ]);
  });

  it('gives an empty layout one empty shard', () => {
    expect(new ChunkPlan(0, 4096).shardRanges(1)).toEqual([{ start: 0, end: 0 }]);
    expectMalformed(() => new ChunkPlan(0, 4096).shardRanges(2), 'chunk plan: 2 shards for 0 chunk(s) of 4096 bytes; use fewer shards or a smaller cluster.chunkBytes');
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses %s shards', (shards) => {
    expectMalformed(() => new ChunkPlan(5000, 4096).shardRanges(shards), `chunk plan: shard count must be an integer ≥ 1, got ${shards}`);
  });

  it('refuses more shards than chunks, saying what to change', () => {
    const plan = new ChunkPlan(2500, 4096);
    expect(plan.shardRanges(3).length).toBe(3);
    expectMalformed(() => plan.shardRanges(4), 'chunk plan: 4 shards for 3 chunk(s) of 4096 bytes; use fewer shards or a smaller cluster.chunkBytes');
  });
});

describe(`chunksOf (seed ${TEST_SEED})`, () => {
  it("tiles each shard's range with the plan's own chunks", () => {
    const random = seededRandom(TEST_SEED + 4);
    for (const plan of randomPlans(TEST_SEED + 3, 150)) {
      const all = spansOf(plan);
      const shards = 1 + Math.floor(random() * Math.max(1, plan.chunkCount));
      const seen: ChunkSpan[] = [];
      for (const range of plan.shardRanges(shards)) {
        const spans = plan.chunksOf(range);
        expect(tilingProblem(spans, range.start, range.end), describePlan(plan)).toBeUndefined();
        seen.push(...spans);
      }
      // Exactly the plan's chunks, in order: a shard's chunk is named by its offset alone.
      expect(seen).toEqual(all);
    }
  });

  it('is empty for an empty range', () => {
    expect(new ChunkPlan(5000, 4096).chunksOf({ start: 2048, end: 2048 })).toEqual([]);
  });
});
