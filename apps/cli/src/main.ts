#!/usr/bin/env node
import { exitWith } from './fail.js';
import { UsageError, UsageErrorCode } from './usage-error.js';

const HELP = `dtrain: distributed data-parallel training for TensorFlow.js

usage:
  dtrain train --config JOB.yaml [--workers N] [--ps-shards K] [--out DIR] [--backend B] [--port P] [--resume] [--worker-metrics] [--record-dir DIR] [--no-report] [--quiet|--json] [--verbose]
  dtrain coordinator --config JOB.yaml [--port P] [--host H] [--out DIR] [--token-file F] [--tls-cert F --tls-key F] [--ledger F] [--linger] [--report]
  dtrain worker --coordinator ws://HOST:P [--backend B] [--token-file F] [--tls-ca F] [--linger] [--metrics-port P [--metrics-host H]] [--record FILE]
  dtrain ps --coordinator ws://HOST:P [--index N|auto] [--port P] [--host H] [--advertise ws://NAME:P] [--token-file F] [--linger]
  dtrain report RUN_DIR
  dtrain audit --ledger LEDGER --records F [F ...] [--samples N --epochs E] [--json]
  dtrain evaluate --model DIR --config JOB.yaml [--split validation|test] [--json]
  dtrain predict --model DIR --input FILE [--output FILE]
  dtrain k8s render --config JOB.yaml --image IMG [--workers N] [--ps-shards K] [--gpu] [--namespace NS] [--worker-image IMG] [--token-secret S] [--data-pvc C] [--monitoring]

backends: auto (tfjs-node-gpu, tfjs-node, wasm, cpu: the first that works), tensorflow, wasm, cpu
the worker token comes from --token-file or DTRAIN_TOKEN
reports: report.svg, report.png and report.html in the run folder (--out), from summary.json and history.json
Prometheus metrics: the coordinator serves /metrics on its port; a worker on --metrics-port (0 = any free port)
`;

type Command = (argv: readonly string[]) => Promise<number>;

/**
 * Each command's module is loaded only when it runs: a worker's main thread
 * then never loads tfjs (its compute thread does), which saves it a second
 * copy and about a second of start-up.
 */
const commands: Record<string, () => Promise<Command>> = {
  train: async () => (await import('./commands/train.js')).trainCommand,
  coordinator: async () => (await import('./commands/coordinator.js')).coordinatorCommand,
  worker: async () => (await import('./commands/worker.js')).workerCommand,
  ps: async () => (await import('./commands/ps.js')).psCommand,
  evaluate: async () => (await import('./commands/evaluate.js')).evaluateCommand,
  report: async () => (await import('./commands/report.js')).reportCommand,
  audit: async () => (await import('./commands/audit.js')).auditCommand,
  predict: async () => (await import('./commands/predict.js')).predictCommand,
  k8s: async () => (await import('./commands/k8s-render.js')).k8sCommand,
};

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(HELP);
    return name === undefined ? 2 : 0;
  }
  const load = commands[name];
  if (load === undefined) throw new UsageError(UsageErrorCode.USAGE, `unknown command ${JSON.stringify(name)}; one of ${Object.keys(commands).join(', ')}`);
  return (await load())(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // tfjs and ws may hold handles; the job is over, so leave.
    setTimeout(() => process.exit(code), 50).unref();
  },
  (error: unknown) => exitWith(error),
);
