import { readFileSync } from 'node:fs';

/** The dtrain version (this package's), for dtrain_info. src/ and dist/ both sit one level below package.json. */
export function dtrainVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
