/**
 * A small private network of Linux network namespaces for the multi-host
 * test: one namespace per "host", each with its own address, joined by a
 * bridge that itself lives in a namespace of its own. Nothing is added to the
 * namespace this process runs in: no interface, no address, no route, so no
 * packet of the test can reach a real network, and none from outside can
 * reach the test's processes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { CLI, type Proc } from './harness.js';

/** 198.18.0.0/15 is reserved for network benchmark tests (RFC 2544); here it exists only inside these namespaces. */
export const SUBNET_PREFIX = '198.18.42';

export interface Host {
  /** The namespace's name (`ip netns exec NAME …`). */
  readonly ns: string;
  readonly address: string;
}

/** Why namespaces cannot be made here, or undefined when they can (checked by making and removing one). */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return 'not running as root (ip netns needs CAP_SYS_ADMIN)';
  if (spawnSync('ip', ['-V'], { stdio: 'ignore' }).status !== 0) return 'the ip command (iproute2) is not installed';
  const probe = `dtmh-probe-${process.pid}`;
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (add.status !== 0) return `ip netns add failed: ${add.stderr.trim()}`;
  try {
    // The lab needs a bridge and veth pairs too (kernel modules a container may lack).
    for (const args of [['link', 'add', 'br0', 'type', 'bridge'], ['link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb']]) {
      const made = spawnSync('ip', ['-n', probe, ...args], { encoding: 'utf8' });
      if (made.status !== 0) return `ip ${args.join(' ')} failed in a namespace: ${made.stderr.trim()}`;
    }
    return undefined;
  } finally {
    spawnSync('ip', ['netns', 'del', probe]);
  }
}

function ip(args: readonly string[]): void {
  const run = spawnSync('ip', args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`ip ${args.join(' ')}: ${run.stderr.trim()}`);
}

export class NetnsLab {
  readonly #prefix = `dtmh-${process.pid}`;
  readonly #switch = `${this.#prefix}-sw`;
  readonly #created: string[] = [];
  readonly #procs: Proc[] = [];
  readonly hosts = new Map<string, Host>();

  /**
   * A new host: a namespace with loopback and `eth0` at SUBNET_PREFIX.<octet>/24,
   * plugged into the bridge (made with the first host). Whatever was made
   * before a failure is still removed by `destroy`.
   */
  addHost(name: string, octet: number): Host {
    if (this.#created.length === 0) {
      this.#add(this.#switch);
      ip(['-n', this.#switch, 'link', 'add', 'br0', 'type', 'bridge']);
      ip(['-n', this.#switch, 'link', 'set', 'br0', 'up']);
    }
    const ns = `${this.#prefix}-${name}`;
    const port = `p-${name}`.slice(0, 15);
    this.#add(ns);
    ip(['-n', this.#switch, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    ip(['-n', this.#switch, 'link', 'set', port, 'master', 'br0', 'up']);
    ip(['-n', ns, 'addr', 'add', `${SUBNET_PREFIX}.${octet}/24`, 'dev', 'eth0']);
    ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
    const host = { ns, address: `${SUBNET_PREFIX}.${octet}` };
    this.hosts.set(name, host);
    return host;
  }

  /** Runs `node ARGS…` inside a host's namespace (ip netns exec execs: the child's pid is node's). */
  node(host: Host, args: readonly string[], env: Record<string, string> = {}): Proc {
    const child = spawn('ip', ['netns', 'exec', host.ns, process.execPath, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const proc: Proc = {
      child,
      stdout: '',
      stderr: '',
      exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
    };
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (proc.stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (proc.stderr += d));
    this.#procs.push(proc);
    return proc;
  }

  /** `dtrain ARGS…` inside a host's namespace. */
  dtrain(host: Host, args: readonly string[], env: Record<string, string> = {}): Proc {
    return this.node(host, [CLI, ...args], env);
  }

  /** SIGKILLs what this lab started and is still running, then deletes its namespaces (and with them every veth and the bridge). */
  async destroy(): Promise<void> {
    for (const p of this.#procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(this.#procs.map((p) => p.exited));
    this.destroyNamespacesSync();
  }

  /** Deletes the namespaces this lab made; safe to call twice (for an exit hook). */
  destroyNamespacesSync(): void {
    for (const ns of this.#created.splice(0).reverse()) spawnSync('ip', ['netns', 'del', ns]);
  }

  /** The namespaces this lab made and has not deleted yet. */
  get namespaces(): readonly string[] {
    return [...this.#created];
  }

  #add(ns: string): void {
    ip(['netns', 'add', ns]);
    this.#created.push(ns);
    ip(['-n', ns, 'link', 'set', 'lo', 'up']);
  }
}
