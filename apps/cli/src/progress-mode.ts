import type { ProgressMode } from './progress.js';

/** --json wins over --quiet; otherwise a live line on a terminal and plain lines elsewhere. */
export function progressMode(flags: { json?: boolean | undefined; quiet?: boolean | undefined }): ProgressMode {
  if (flags.json === true) return 'json';
  if (flags.quiet === true) return 'quiet';
  return process.stdout.isTTY ? 'tty' : 'plain';
}
