/**
 * A simulated cluster on one machine: one Linux network namespace per host,
 * each with its own address, plugged into a bridge that lives in a namespace
 * of its own, every host's link capped with `tc tbf` in both directions (the
 * host's veth end shapes what it sends, the bridge's end what it receives),
 * so each host has R out and R in, as a NIC on a switch has.
 *
 * Nothing is added to the namespace this process runs in (no interface,
 * address or route), so no packet of the lab can leave it and none from
 * outside can reach its processes. Addresses are in 198.18.0.0/15 (RFC 2544,
 * reserved for network benchmarks). Namespace names carry this process's pid
 * (`dtlab-<pid>-…`), so a later run can remove what a killed one left.
 */
import { spawnSync } from 'node:child_process';
import { spawnWatched, type WatchOptions, type WatchedProcess } from './watched-process.js';

/** The lab's /24: inside 198.18.0.0/15, and apart from the multi-host test's 198.18.42.0/24. */
export const LAB_SUBNET = '198.19.7';
const PREFIX = 'dtlab';

/** One simulated machine. */
export interface LabHost {
  readonly name: string;
  /** The namespace (`ip netns exec NS …`). */
  readonly ns: string;
  readonly address: string;
}

/** Counters of a host's shapers. */
export interface ShaperCounters {
  readonly sentBytes: number;
  readonly receivedBytes: number;
  readonly dropped: number;
}

/** How every host link is shaped. */
export interface LinkShape {
  /** tbf rate of each direction of every host link, bits/s. */
  readonly rateBitsPerSecond: number;
}

/**
 * The tbf parameters for a rate: a bucket of 10 ms of traffic (at least
 * 64 KiB, so that one full-size GSO segment from the veth passes without being
 * split) and 50 ms of queue, enough for TCP to keep the link busy without
 * drops. `tc` takes bytes for burst and an integer bit rate.
 */
export function tbfArgs(rateBitsPerSecond: number): string[] {
  const rate = Math.round(rateBitsPerSecond);
  const burstBytes = Math.max(64 * 1024, Math.round(rate / 8 / 100));
  return ['tbf', 'rate', `${rate}bit`, 'burst', String(burstBytes), 'latency', '50ms'];
}

function run(command: string, args: readonly string[]): { ok: boolean; stderr: string } {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 10_000 });
  return { ok: r.status === 0, stderr: (r.stderr ?? '').trim() || (r.error?.message ?? '') };
}

function must(command: string, args: readonly string[]): void {
  const r = run(command, args);
  if (!r.ok) throw new Error(`${command} ${args.join(' ')}: ${r.stderr}`);
}

/**
 * Why this lab cannot be built here (one line), or undefined when it can:
 * checked by building and removing a two-namespace miniature (namespace,
 * bridge, veth across namespaces, tbf).
 */
export function labUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return 'not running as root (ip netns and tc need CAP_SYS_ADMIN and CAP_NET_ADMIN)';
  if (!run('ip', ['-V']).ok) return 'the ip command (iproute2) is not installed';
  if (!run('tc', ['-V']).ok) return 'the tc command (iproute2) is not installed';
  const a = `${PREFIX}-${process.pid}-probe-a`;
  const b = `${PREFIX}-${process.pid}-probe-b`;
  const made: string[] = [];
  try {
    for (const ns of [a, b]) {
      const add = run('ip', ['netns', 'add', ns]);
      if (!add.ok) return `ip netns add failed: ${add.stderr}`;
      made.push(ns);
    }
    const steps: [string, string[]][] = [
      ['ip', ['-n', a, 'link', 'add', 'br0', 'type', 'bridge']],
      ['ip', ['-n', a, 'link', 'add', 'pa', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', b]],
      ['ip', ['-n', a, 'link', 'set', 'pa', 'master', 'br0']],
      ['tc', ['-n', b, 'qdisc', 'add', 'dev', 'eth0', 'root', ...tbfArgs(100e6)]],
    ];
    for (const [command, args] of steps) {
      const r = run(command, args);
      if (!r.ok) return `${command} ${args.slice(2).join(' ')} failed in a namespace: ${r.stderr}`;
    }
    return undefined;
  } finally {
    for (const ns of made) run('ip', ['netns', 'del', ns]);
  }
}

/** Pids of the processes inside a namespace. */
function pidsIn(ns: string): number[] {
  const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', timeout: 10_000 });
  return (r.stdout ?? '').split('\n').filter((l) => /^\d+$/.test(l)).map(Number);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Deletes the namespaces of earlier labs whose process is gone (one killed
 * with SIGKILL cannot clean up after itself), after killing whatever still
 * runs in them. Returns their names.
 */
export function removeStaleLabs(): string[] {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 10_000 }).stdout ?? '';
  const stale = list
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((ns) => {
      const m = new RegExp(`^${PREFIX}-(\\d+)-`).exec(ns);
      return m?.[1] !== undefined && !alive(Number(m[1]));
    });
  for (const ns of stale) {
    for (const pid of pidsIn(ns)) process.kill(pid, 'SIGKILL');
    run('ip', ['netns', 'del', ns]);
  }
  return stale;
}

/**
 * The lab. Build it with `addHost`; run processes on a host with `spawn`;
 * `destroy` (synchronous, safe to call twice, fit for an exit hook) kills
 * every process in its namespaces and deletes them, and with them every
 * veth, bridge and qdisc.
 */
export class NetnsLab {
  readonly #prefix = `${PREFIX}-${process.pid}`;
  readonly #switch = `${this.#prefix}-sw`;
  readonly #created: string[] = [];
  readonly #hosts = new Map<string, LabHost>();
  readonly #shape: LinkShape;

  constructor(shape: LinkShape) {
    this.#shape = shape;
  }

  get shape(): LinkShape {
    return this.#shape;
  }

  get hosts(): ReadonlyMap<string, LabHost> {
    return this.#hosts;
  }

  /** The namespaces made and not deleted yet. */
  get namespaces(): readonly string[] {
    return [...this.#created];
  }

  /**
   * A new host `name` at LAB_SUBNET.<octet>: a namespace with loopback and
   * `eth0`, its link to the bridge shaped both ways. Whatever was made before
   * a failure is still removed by `destroy`.
   */
  addHost(name: string, octet: number): LabHost {
    if (!/^[a-z0-9]{1,12}$/.test(name)) throw new Error(`lab host name ${JSON.stringify(name)}: expected 1–12 of [a-z0-9] (it names a veth)`);
    if (!Number.isInteger(octet) || octet < 1 || octet > 254) throw new Error(`lab host ${name}: octet ${octet} is not in 1..254`);
    if (this.#hosts.has(name)) throw new Error(`lab host ${name} exists already`);
    if (this.#created.length === 0) {
      this.#add(this.#switch);
      must('ip', ['-n', this.#switch, 'link', 'add', 'br0', 'type', 'bridge']);
      must('ip', ['-n', this.#switch, 'link', 'set', 'br0', 'up']);
    }
    const ns = `${this.#prefix}-${name}`;
    const port = `p-${name}`;
    this.#add(ns);
    must('ip', ['-n', this.#switch, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    must('ip', ['-n', this.#switch, 'link', 'set', port, 'master', 'br0', 'up']);
    must('ip', ['-n', ns, 'addr', 'add', `${LAB_SUBNET}.${octet}/24`, 'dev', 'eth0']);
    must('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    // What the host sends, then what it receives (the bridge port's egress is the host's ingress).
    const tbf = tbfArgs(this.#shape.rateBitsPerSecond);
    must('tc', ['-n', ns, 'qdisc', 'add', 'dev', 'eth0', 'root', ...tbf]);
    must('tc', ['-n', this.#switch, 'qdisc', 'add', 'dev', port, 'root', ...tbf]);
    const host = { name, ns, address: `${LAB_SUBNET}.${octet}` };
    this.#hosts.set(name, host);
    return host;
  }

  host(name: string): LabHost {
    const host = this.#hosts.get(name);
    if (host === undefined) throw new Error(`no lab host ${name}`);
    return host;
  }

  /** `node ARGS…` on a host, watched (peak RSS, time limit, stderr tail) like any benchmark child. */
  spawn(host: LabHost, args: readonly string[], o: Omit<WatchOptions, 'launcher'>): WatchedProcess {
    if (!this.#created.includes(host.ns)) throw new Error(`lab host ${host.name} is not (or no longer) in this lab`);
    return spawnWatched(args, { ...o, launcher: ['ip', 'netns', 'exec', host.ns] });
  }

  /**
   * What a host's two shapers have passed so far (`tc -s`): bytes it sent
   * (its veth end) and received (the bridge's end), including headers, and
   * packets either dropped.
   */
  shaperCounters(host: LabHost): ShaperCounters {
    const read = (ns: string, dev: string): { bytes: number; dropped: number } => {
      const r = spawnSync('tc', ['-n', ns, '-s', 'qdisc', 'show', 'dev', dev], { encoding: 'utf8', timeout: 10_000 });
      const m = /Sent (\d+) bytes \d+ pkt \(dropped (\d+)/.exec(r.stdout ?? '');
      return { bytes: Number(m?.[1] ?? Number.NaN), dropped: Number(m?.[2] ?? Number.NaN) };
    };
    const out = read(host.ns, 'eth0');
    const inbound = read(this.#switch, `p-${host.name}`);
    return { sentBytes: out.bytes, receivedBytes: inbound.bytes, dropped: out.dropped + inbound.dropped };
  }

  /** SIGKILLs every process in the lab's namespaces, then deletes them; safe to call twice. */
  destroy(): void {
    const namespaces = this.#created.splice(0).reverse();
    for (const ns of namespaces) {
      for (const pid of pidsIn(ns)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone already.
        }
      }
    }
    for (const ns of namespaces) run('ip', ['netns', 'del', ns]);
    this.#hosts.clear();
  }

  #add(ns: string): void {
    must('ip', ['netns', 'add', ns]);
    this.#created.push(ns);
    must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  }
}
