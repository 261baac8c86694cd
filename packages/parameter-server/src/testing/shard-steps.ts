/**
 * Drives a ParameterShard the way the data plane does, for tests: a whole
 * gradient is cut into the shard's chunks and each is accepted; a commit's
 * frames are collected. Test-only (excluded from the build).
 */
import { decodeChunk, encodeChunk } from '@dtrain/protocol';
import type { ChunkOutcome, CommitOutcome, ParameterShard } from '../parameter-shard.js';

/** Pushes `gradients` (whole-layout length) as one worker's chunks for this shard's range. */
export function pushWhole(shard: ParameterShard, push: { workerId: number; step: number; sampleCount: number; version?: number }, gradients: Float32Array): ChunkOutcome[] {
  const outcomes: ChunkOutcome[] = [];
  for (const span of shard.plan.chunksOf(shard.range)) {
    const frame = encodeChunk(
      { kind: 'gradientChunk', workerId: push.workerId, step: push.step, version: push.version ?? shard.version, sampleCount: push.sampleCount, offset: span.offset },
      gradients.subarray(span.offset, span.offset + span.count),
    );
    outcomes.push(shard.acceptChunk(decodeChunk(frame)));
  }
  return outcomes;
}

/** Commits and reassembles the broadcast weights of the range from the frames. */
export async function commitCollect(shard: ParameterShard, step: number, included: { workerId: number; step: number }[]): Promise<{ outcome: CommitOutcome; weights: Float32Array }> {
  const weights = new Float32Array(shard.size);
  const outcome = await shard.commit(step, included, (parts) => {
    const chunk = decodeChunk(joinParts(parts));
    weights.set(chunk.values, chunk.offset - shard.range.start);
  });
  return { outcome, weights };
}

/** A chunk's header and payload as the one frame a receiver gets. */
export function joinParts(parts: { header: Uint8Array; payload: Uint8Array }): Uint8Array {
  const frame = new Uint8Array(parts.header.byteLength + parts.payload.byteLength);
  frame.set(parts.header);
  frame.set(parts.payload, parts.header.byteLength);
  return frame;
}
