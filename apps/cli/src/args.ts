import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError, UsageErrorCode } from './usage-error.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses one command's flags strictly; any mistake is a UsageError naming the flag. */
export function parseFlags<O extends Options>(command: string, argv: readonly string[], options: O): ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: false; args: string[] }>>['values'] {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] ?? '' : String(error);
    throw new UsageError(UsageErrorCode.USAGE, `dtrain ${command}: ${message.replace(/\. To specify a positional argument.*$/, '')}`);
  }
}

/** A required string flag. */
export function required(command: string, name: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new UsageError(UsageErrorCode.USAGE, `dtrain ${command}: --${name} is required`);
  return value;
}

/** An integer flag within [min, max]. */
export function intFlag(command: string, name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(UsageErrorCode.USAGE, `dtrain ${command}: --${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(value)}`);
  }
  return n;
}

/** A flag restricted to a few words. */
export function choiceFlag<T extends string>(command: string, name: string, value: string | undefined, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(UsageErrorCode.USAGE, `dtrain ${command}: --${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

export const BACKENDS = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
