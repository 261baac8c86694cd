import { describe, expect, it } from 'vitest';
import { expectSuccess, spawnWatched } from './watched-process.js';

describe('spawnWatched', () => {
  it('kills a child that outlives its time limit', async () => {
    const exit = await spawnWatched(['-e', 'setTimeout(() => {}, 60_000)'], { label: 'sleeper', timeoutMs: 300 }).exited;
    expect(exit).toMatchObject({ label: 'sleeper', code: null, signal: 'SIGKILL', timedOut: true });
    expect(exit.seconds).toBeLessThan(30);
    expect(() => expectSuccess(exit)).toThrow(/^sleeper killed after its time limit/);
  });

  it.runIf(process.platform === 'linux')('keeps stdout, the stderr lines and the peak RSS of a child that grows', async () => {
    const lines: string[] = [];
    // Holds 200 MB for a second, so at least a few 200 ms samples see it.
    // One string argument: with FORCE_COLOR set (as some runners do), a number argument would be coloured.
    const script = "const b = Buffer.alloc(200e6, 1); console.error('held ' + b.length); setTimeout(() => { console.log('done'); }, 1000);";
    const exit = expectSuccess(await spawnWatched(['-e', script], { label: 'grower', timeoutMs: 30_000, onStderrLine: (l) => lines.push(l) }).exited);
    expect(exit.stdout).toBe('done\n');
    expect(lines, JSON.stringify(lines)).toContain('held 200000000');
    expect(exit.peakRssBytes).toBeGreaterThan(200e6);
  });

  it('reports a failing child with its last lines', async () => {
    const exit = await spawnWatched(['-e', "console.error('bad flag'); process.exit(2)"], { label: 'failer', timeoutMs: 30_000 }).exited;
    expect(exit).toMatchObject({ code: 2, timedOut: false });
    expect(() => expectSuccess(exit)).toThrow('failer exited with 2; its last lines:\n  bad flag');
  });

  it.runIf(process.platform === 'linux')('runs node under a launcher that execs it, and hands over stdout line by line', async () => {
    const lines: string[] = [];
    // `env VAR=1 node …` execs node, as `ip netns exec` does: the pid is node's own.
    const p = spawnWatched(['-e', "console.log('a ' + process.env.VIA + ' ' + process.pid); console.log('b')"], { label: 'launched', timeoutMs: 30_000, launcher: ['env', 'VIA=env'], onStdoutLine: (l) => lines.push(l) });
    const exit = expectSuccess(await p.exited);
    expect(lines).toEqual([`a env ${p.pid}`, 'b']);
    expect(exit.stdout).toBe(`a env ${p.pid}\nb\n`);
  });
});
