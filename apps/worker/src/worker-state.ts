/**
 * A worker process's lifecycle, as the worker sees it (the coordinator keeps
 * its own view of each worker in its membership table):
 *
 * connecting → joined → training ⇄ joined → … → draining → gone
 *
 * - `connecting`: no welcome yet on the current connection (first connect,
 *   or reconnecting with backoff after the coordinator went away).
 * - `joined`: welcomed; has the model and waits for weights and assignments.
 * - `training`: computing an assignment on the compute thread.
 * - `draining`: leaving on purpose (SIGTERM, scale-down); says so and closes.
 * - `gone`: finished (job over, left, or gave up); the process exits.
 */
export const WorkerState = {
  connecting: 'connecting',
  joined: 'joined',
  training: 'training',
  draining: 'draining',
  gone: 'gone',
} as const;
export type WorkerState = (typeof WorkerState)[keyof typeof WorkerState];
