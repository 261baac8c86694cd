/**
 * Turns any error into one line and an exit code: 2 for the user's mistakes
 * (flags, config, data files, model spec), 1 for everything else. Stack
 * traces only with DTRAIN_DEBUG=1.
 */
const USER_ERROR_PREFIXES = ['DTRAIN_USAGE', 'DTRAIN_CONFIG_', 'DTRAIN_DATA_', 'DTRAIN_ENGINE_MODEL_SPEC'];

export function describeFailure(error: unknown): { line: string; exitCode: number } {
  const code = typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  const user = code !== undefined && USER_ERROR_PREFIXES.some((p) => code.startsWith(p));
  return { line: `dtrain: ${message.split('\n')[0] ?? message}`, exitCode: user ? 2 : 1 };
}

export function exitWith(error: unknown): never {
  const { line, exitCode } = describeFailure(error);
  process.stderr.write(`${line}\n`);
  if (process.env.DTRAIN_DEBUG === '1' && error instanceof Error && error.stack !== undefined) process.stderr.write(`${error.stack}\n`);
  process.exit(exitCode);
}
