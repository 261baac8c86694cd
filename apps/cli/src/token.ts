import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { UsageError, UsageErrorCode } from './usage-error.js';

/** The worker token: `--token-file` wins over `DTRAIN_TOKEN`; undefined when neither is set. */
export function readToken(command: string, tokenFile: string | undefined): string | undefined {
  if (tokenFile !== undefined) {
    try {
      const token = readFileSync(tokenFile, 'utf8').trim();
      if (token === '') throw new UsageError(UsageErrorCode.USAGE, `dtrain ${command}: --token-file ${tokenFile} is empty`);
      return token;
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new UsageError(UsageErrorCode.USAGE, `dtrain ${command}: --token-file: cannot read ${tokenFile}`);
    }
  }
  const env = process.env.DTRAIN_TOKEN;
  return env === undefined || env === '' ? undefined : env;
}

/** A fresh random token for local (embedded) runs. */
export function generateToken(): string {
  return randomBytes(24).toString('base64url');
}
