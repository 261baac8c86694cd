import { fileURLToPath } from 'node:url';
import { medianRate, type LoopbackRound } from './loopback-floor.js';
import type { LabHost, NetnsLab } from './netns-lab.js';
import { expectSuccess } from './watched-process.js';

/** The port the sink listens on in the receiving host's namespace (a fresh namespace: nothing else holds it). */
const SINK_PORT = 5201;

export interface LinkRateOptions {
  /** Timed transfers; the median rate is the result. */
  readonly rounds: number;
  /** Seconds the sender writes per round. */
  readonly secondsPerRound: number;
  /** Bytes per write. Default 4 MiB (the chunk frame size). */
  readonly writeBytes?: number;
}

export interface LinkRate {
  readonly from: string;
  readonly to: string;
  readonly rounds: readonly LoopbackRound[];
  /** Median of the rounds' rates, bytes/s. */
  readonly bytesPerSecond: number;
}

/**
 * Raw TCP throughput from one lab host to another, Node process to Node
 * process, through both hosts' shapers and the bridge: what the links really
 * give (tbf's accounting, TCP/IP headers, CPU), as opposed to their nominal rate.
 */
export async function measureLinkRate(lab: NetnsLab, from: LabHost, to: LabHost, o: LinkRateOptions): Promise<LinkRate> {
  const rounds: LoopbackRound[] = [];
  const timeoutMs = (o.secondsPerRound + 30) * 1000;
  for (let i = 0; i < o.rounds; i += 1) {
    let listening!: () => void;
    const ready = new Promise<void>((resolve) => (listening = resolve));
    const sink = lab.spawn(to, [script('tcp-sink.js'), '0.0.0.0', String(SINK_PORT), String(timeoutMs / 1000)], {
      label: `tcp sink on ${to.name}`,
      timeoutMs,
      onStdoutLine: (line) => {
        if (line === 'listening') listening();
      },
    });
    await Promise.race([ready, sink.exited.then((exit) => Promise.reject(new Error(`${expectSuccess(exit).label} exited before it listened`)))]);
    const sender = lab.spawn(from, [script('loopback-sender.js'), String(SINK_PORT), String(o.secondsPerRound), String(o.writeBytes ?? 4 * 1024 * 1024), to.address], {
      label: `tcp sender on ${from.name}`,
      timeoutMs,
    });
    const [sinkExit] = await Promise.all([sink.exited.then(expectSuccess), sender.exited.then(expectSuccess)]);
    const { bytes, seconds } = JSON.parse(sinkExit.stdout.trim().split('\n').at(-1) ?? '') as { bytes: number; seconds: number };
    rounds.push({ bytes, seconds, bytesPerSecond: bytes / seconds });
  }
  return { from: from.name, to: to.name, rounds, bytesPerSecond: medianRate(rounds) };
}

function script(name: string): string {
  return fileURLToPath(new URL(`./${name}`, import.meta.url));
}
