/**
 * What `startWorker` and `startShard` share: the logger option, and option
 * checks whose messages name the option the way the caller spelled it
 * (`startWorker: options.port …` in code, `dtrain worker: --port …` on the
 * command line, so the CLI's messages stay its own).
 */
import { UsageError, UsageErrorCode } from '../usage-error.js';

/** Where a worker or shard writes its log lines. */
export interface ServiceLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/**
 * `'stderr'`: timestamped lines on stderr, as the CLI prints them
 * (`2026-01-01T00:00:00.000Z worker info …`); `'quiet'`: only warnings and
 * errors on stderr; `'silent'`: nothing; or your own logger.
 */
export type ServiceLogOption = 'stderr' | 'quiet' | 'silent' | ServiceLogger;

/** How a check names an option in its message. */
export interface OptionNaming {
  /** Starts every message: `startWorker: ` or `dtrain worker: `. */
  readonly prefix: string;
  /** The option as the caller wrote it: `options.metricsPort` or `--metrics-port`. */
  name(option: string): string;
}

/** Naming for the TypeScript API: `startWorker: options.coordinator …`. */
export function apiNaming(fn: string): OptionNaming {
  return { prefix: `${fn}: `, name: (option) => `options.${option}` };
}

/** Naming for a command: `dtrain worker: --metrics-port …`, from a table of option → flag. */
export function cliNaming(command: string, flags: Readonly<Record<string, string>>): OptionNaming {
  return { prefix: `dtrain ${command}: `, name: (option) => `--${flags[option] ?? option}` };
}

export function resolveLogger(log: ServiceLogOption | undefined, role: string): ServiceLogger {
  if (typeof log === 'object') return log;
  const mode = log ?? 'stderr';
  const none = (): void => undefined;
  if (mode === 'silent') return { info: none, warn: none, error: none };
  const line = (level: string) => (m: string) => process.stderr.write(`${new Date().toISOString()} ${role} ${level} ${m}\n`);
  return { info: mode === 'quiet' ? none : line('info'), warn: line('warn'), error: line('error') };
}

/** A ws:// or wss:// URL, or a UsageError naming the option. */
export function checkWsUrl(naming: OptionNaming, option: string, value: unknown): string {
  if (typeof value !== 'string' || !/^wss?:\/\/[^/]+/.test(value)) {
    throw new UsageError(UsageErrorCode.USAGE, `${naming.prefix}${naming.name(option)} must be a ws:// or wss:// URL, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** An integer in [min, max] (fallback when undefined), or a UsageError naming the option. */
export function checkInt(naming: OptionNaming, option: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(UsageErrorCode.USAGE, `${naming.prefix}${naming.name(option)} must be an integer in [${min}, ${max}], got ${JSON.stringify(value)}`);
  }
  return value;
}

/** A string from a few choices (fallback when undefined), or a UsageError naming the option. */
export function checkChoice<T extends string>(naming: OptionNaming, option: string, value: unknown, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw new UsageError(UsageErrorCode.USAGE, `${naming.prefix}${naming.name(option)} must be one of ${choices.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

/** The message of anything thrown. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
