import { describe, expect, it } from 'vitest';
import { chunkFrameBytes, encodeChunk, encodeChunkHeader, type ChunkHeader } from './chunk-frame.js';
import { DataLinkParser, chunkRecordHead, recordLength } from './data-link.js';
import { decodeMessage } from './decode.js';
import { encodeMessage } from './encode.js';
import { ProtocolError } from './errors.js';
import { seededRandom } from './testing/messages.js';
import { toBfloat16, toFloat16 } from './wire-format.js';

/** A stream of records: chunks and messages, each with its length in front. */
function stream(): { bytes: Uint8Array; chunks: { header: ChunkHeader; values: Float32Array }[]; messages: string[] } {
  const parts: Uint8Array[] = [];
  const chunks: { header: ChunkHeader; values: Float32Array }[] = [];
  const messages: string[] = [];
  const hello = encodeMessage({ type: 'dataHello', protocolVersion: 3, token: 'tok', workerId: 4 });
  parts.push(recordLength(hello.byteLength), hello);
  messages.push('dataHello');
  for (let i = 0; i < 5; i += 1) {
    const values = Float32Array.from({ length: 100 + 37 * i }, (_, j) => i * 1000 + j + 0.25);
    const header: ChunkHeader = { kind: 'gradientChunk', workerId: 4, step: 9, version: 2, sampleCount: 16, offset: 512 * i, count: values.length };
    // As the senders write them: length and head in one write, then the payload where it lies.
    parts.push(chunkRecordHead(encodeChunkHeader(header), values.byteLength), new Uint8Array(values.buffer));
    chunks.push({ header, values });
    if (i === 2) {
      const error = encodeMessage({ type: 'error', code: 'X', message: 'a long enough message to pass thirty-two bytes' });
      parts.push(recordLength(error.byteLength), error);
      messages.push('error');
    }
  }
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.byteLength;
  }
  return { bytes, chunks, messages };
}

function parse(bytes: Uint8Array, cuts: number[]): { chunks: { header: ChunkHeader; values: number[] }[]; messages: string[] } {
  const chunks: { header: ChunkHeader; values: number[] }[] = [];
  const messages: string[] = [];
  const staging = new Float32Array(1024);
  const parser = new DataLinkParser(
    {
      chunkTarget: (header) => staging.subarray(0, header.count),
      onChunk: (header, values) => chunks.push({ header, values: [...values] }),
      onMessage: (frame) => messages.push(decodeMessage(frame).type),
    },
    { maxChunkFrameBytes: chunkFrameBytes(1024), maxMessageBytes: 4096 },
  );
  let from = 0;
  for (const cut of [...cuts, bytes.byteLength]) {
    parser.feed(bytes.subarray(from, cut));
    from = cut;
  }
  return { chunks, messages };
}

describe('data link parser', () => {
  it('reads chunks and messages from a stream cut at every possible place, bit for bit, into a reused buffer', () => {
    const { bytes, chunks, messages } = stream();
    const expected = { chunks: chunks.map((c) => ({ header: c.header, values: [...c.values] })), messages };
    expect(parse(bytes, [])).toStrictEqual(expected);
    for (let cut = 1; cut < bytes.byteLength; cut += 1) expect(parse(bytes, [cut])).toStrictEqual(expected);
    const random = seededRandom(11);
    for (let trial = 0; trial < 200; trial += 1) {
      const cuts = Array.from({ length: 1 + Math.floor(random() * 40) }, () => Math.floor(random() * bytes.byteLength)).sort((a, b) => a - b);
      expect(parse(bytes, cuts)).toStrictEqual(expected);
    }
  });

  it('widens bfloat16 and float16 gradient chunks into the float32 target, cut anywhere, beside float32 ones', () => {
    const parts: Uint8Array[] = [];
    const expected: { header: ChunkHeader; values: number[] }[] = [];
    for (const [i, format] of (['bfloat16', 'float32', 'float16', 'bfloat16'] as const).entries()) {
      // Exactly representable in both 16-bit formats: the widened values are these.
      const values = Array.from({ length: 50 + 13 * i }, (_, j) => ((j % 64) - 20) * 0.25);
      const header: ChunkHeader = { kind: 'gradientChunk', workerId: 1, step: 3, version: 3, sampleCount: 8, offset: 256 * i, count: values.length, ...(format === 'float32' ? {} : { format }) };
      const payload =
        format === 'float32'
          ? new Uint8Array(Float32Array.from(values).buffer)
          : new Uint8Array(Uint16Array.from(values, (v) => (format === 'bfloat16' ? toBfloat16(v) : toFloat16(v))).buffer);
      expect(payload.byteLength).toBe(values.length * (format === 'float32' ? 4 : 2));
      parts.push(chunkRecordHead(encodeChunkHeader(header), payload.byteLength), payload);
      expected.push({ header, values });
    }
    const bytes = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
    let at = 0;
    for (const p of parts) {
      bytes.set(p, at);
      at += p.byteLength;
    }
    for (let cut = 0; cut < bytes.byteLength; cut += 7) expect(parse(bytes, cut === 0 ? [] : [cut])).toStrictEqual({ chunks: expected, messages: [] });
  });

  it('refuses an oversized chunk, a record shorter than a frame, a chunk whose length disagrees with its header, and an oversized message', () => {
    const big = encodeChunk({ kind: 'gradientChunk', workerId: 0, step: 0, version: 0, sampleCount: 1, offset: 0 }, new Float32Array(2000));
    const short = encodeChunk({ kind: 'gradientChunk', workerId: 0, step: 0, version: 0, sampleCount: 1, offset: 0 }, new Float32Array(8));
    const cases: [Uint8Array, string][] = [
      [concat(recordLength(big.byteLength), big), 'exceeds maxBytes'],
      [recordLength(3), 'shorter than a frame prefix'],
      [concat(recordLength(short.byteLength - 4), short), 'its header says 8 elements'],
      [concat(recordLength(5000), new Uint8Array(64)), 'a message of 5000 bytes exceeds 4096'],
    ];
    for (const [bytes, message] of cases) {
      expect(() => parse(bytes, [])).toThrow(ProtocolError);
      expect(() => parse(bytes, [])).toThrow(message);
    }
  });
});

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}
