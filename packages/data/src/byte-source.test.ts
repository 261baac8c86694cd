import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { openByteSource } from './byte-source.js';
import type { ByteSource } from './byte-source.js';
import { FileByteSource } from './file-byte-source.js';
import { HttpByteSource } from './http-byte-source.js';
import { serveFolder } from './http-test-server.testkit.js';
import type { TestServer } from './http-test-server.testkit.js';
import { expectDataError, useTempDir } from './test-support.testkit.js';

const temp = useTempDir();
const content = new Uint8Array(randomBytes(5000));
let dir = '';

beforeAll(async () => {
  const file = await temp.write('blob.bin', content);
  dir = file.slice(0, -'/blob.bin'.length);
});

/** The behaviour both sources owe: exact sizes and bytes, errors past the end. */
function describeByteSource(name: string, open: () => Promise<ByteSource>): void {
  describe(`ByteSource contract: ${name}`, () => {
    it('reports the size and reads any range exactly', async () => {
      const source = await open();
      expect(await source.size()).toBe(content.length);
      for (const [offset, length] of [[0, 1], [0, 5000], [4999, 1], [123, 2048], [17, 0]] as const) {
        expect(Buffer.from(await source.read(offset, length)).equals(Buffer.from(content.subarray(offset, offset + length)))).toBe(true);
      }
      const parallel = await Promise.all([source.read(10, 10), source.read(4000, 1000)]);
      expect(Array.from(parallel[0])).toEqual(Array.from(content.subarray(10, 20)));
      expect(Array.from(parallel[1])).toEqual(Array.from(content.subarray(4000, 5000)));
      await source.close?.();
    });

    it('rejects a read past the end with DTRAIN_DATA_UNREADABLE naming the file', async () => {
      const source = await open();
      const error = await expectDataError(() => source.read(5000, 10), 'DTRAIN_DATA_UNREADABLE', /file ends early/);
      expect(error.file).toBe(source.name);
      expect(error.message.startsWith(`${source.name}: `)).toBe(true);
      await source.close?.();
    });
  });
}

describeByteSource('FileByteSource', () => FileByteSource.open(`${dir}/blob.bin`));

describe('FileByteSource', () => {
  it('names a missing file', async () => {
    const path = temp.path('absent.bin');
    await expectDataError(() => FileByteSource.open(path), 'DTRAIN_DATA_NOT_FOUND', `${path}: file not found`);
  });

  it('rejects a read of a closed file with DTRAIN_DATA_UNREADABLE naming it', async () => {
    const source = await FileByteSource.open(`${dir}/blob.bin`);
    await source.close();
    const error = await expectDataError(() => source.read(0, 10), 'DTRAIN_DATA_UNREADABLE', `${dir}/blob.bin: cannot be read (EBADF)`);
    expect(error.file).toBe(`${dir}/blob.bin`);
  });

  it('refuses a directory', async () => {
    await expectDataError(() => FileByteSource.open(dir), 'DTRAIN_DATA_READ', `${dir}: is a directory, expected a file`);
  });

  it('is what openByteSource gives for a path', async () => {
    const source = await openByteSource(`${dir}/blob.bin`);
    expect(source).toBeInstanceOf(FileByteSource);
    await source.close?.();
  });
});

describe('HttpByteSource', () => {
  let ranged: TestServer;
  let noHeadLength: TestServer;
  let ignoring: TestServer;
  let short: TestServer;
  beforeAll(async () => {
    ranged = await serveFolder(() => dir);
    noHeadLength = await serveFolder(() => dir, { headLength: false });
    ignoring = await serveFolder(() => dir, { ranges: false });
    short = await serveFolder(() => dir, { shortBy: 3 });
  });

  describeByteSource('HttpByteSource', async () => new HttpByteSource(`${ranged.baseUrl}blob.bin`));

  it('asks with Range headers and learns the size from HEAD', async () => {
    const source = new HttpByteSource(`${ranged.baseUrl}blob.bin`);
    ranged.log.length = 0;
    await source.size();
    await source.read(100, 50);
    expect(ranged.log).toEqual(['HEAD /blob.bin', 'GET /blob.bin 100-149']);
  });

  it('learns the size from a bytes=0-0 Content-Range when HEAD has no length', async () => {
    const source = new HttpByteSource(`${noHeadLength.baseUrl}blob.bin`);
    expect(await source.size()).toBe(content.length);
    expect(noHeadLength.log).toEqual(['HEAD /blob.bin', 'GET /blob.bin 0-0']);
  });

  it('rejects a server that answers 200 to a range request, naming the URL', async () => {
    const url = `${ignoring.baseUrl}blob.bin`;
    const source = new HttpByteSource(url);
    const error = await expectDataError(() => source.read(0, 10), 'DTRAIN_DATA_UNREADABLE', /answered 200 to a range request .*must support HTTP range requests/);
    expect(error.file).toBe(url);
    expect(error.message.startsWith(`${url}: `)).toBe(true);
  });

  it('rejects a short body, naming the URL', async () => {
    const url = `${short.baseUrl}blob.bin`;
    await expectDataError(() => new HttpByteSource(url).read(10, 100), 'DTRAIN_DATA_UNREADABLE', `${url}: short body: expected 100 bytes for bytes=10-109, received 97`);
  });

  it('names a missing URL with DTRAIN_DATA_NOT_FOUND when sizing it, DTRAIN_DATA_UNREADABLE when reading it', async () => {
    const url = `${ranged.baseUrl}absent.bin`;
    await expectDataError(() => new HttpByteSource(url).size(), 'DTRAIN_DATA_NOT_FOUND', `${url}: file not found (HTTP 404)`);
    const error = await expectDataError(() => new HttpByteSource(url).read(0, 1), 'DTRAIN_DATA_UNREADABLE', `${url}: file not found (HTTP 404)`);
    expect(error.file).toBe(url);
  });

  it('names an unreachable server with DTRAIN_DATA_READ when sizing, DTRAIN_DATA_UNREADABLE when reading', async () => {
    // Port 9 (discard) on loopback: nothing listens there in a test environment.
    const url = 'http://127.0.0.1:9/blob.bin';
    await expectDataError(() => new HttpByteSource(url).size(), 'DTRAIN_DATA_READ', /^http:\/\/127\.0\.0\.1:9\/blob\.bin: cannot be fetched/);
    const error = await expectDataError(() => new HttpByteSource(url).read(0, 1), 'DTRAIN_DATA_UNREADABLE', /^http:\/\/127\.0\.0\.1:9\/blob\.bin: cannot be fetched/);
    expect(error.file).toBe(url);
  });

  it('is what openByteSource gives for a URL', async () => {
    expect(await openByteSource(`${ranged.baseUrl}blob.bin`)).toBeInstanceOf(HttpByteSource);
  });
});
