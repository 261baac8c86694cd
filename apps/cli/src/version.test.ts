import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dtrainVersion } from './version.js';

describe('dtrainVersion', () => {
  it("is the dtrain package's version", () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
    expect(pkg.name).toBe('dtrain');
    expect(dtrainVersion()).toBe(pkg.version);
    expect(dtrainVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
