/** Where the coordinator and workers write their one-line log messages. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Lines to stderr with a prefix, so stdout stays free for `--json` output. */
export function stderrLogger(prefix: string): Logger {
  const line = (level: string, message: string): void => {
    process.stderr.write(`${new Date().toISOString()} ${prefix} ${level} ${message}\n`);
  };
  return {
    info: (m) => line('info', m),
    warn: (m) => line('warn', m),
    error: (m) => line('error', m),
  };
}

/** Discards everything (tests, `--quiet`). */
export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
