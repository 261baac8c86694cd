/** Writes the generated files under infra/k8s (see generate-infra.ts). Run from anywhere in the repository. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateInfraFiles } from './generate-infra.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
for (const [path, text] of generateInfraFiles(repoRoot)) {
  mkdirSync(dirname(join(repoRoot, path)), { recursive: true });
  writeFileSync(join(repoRoot, path), text);
  process.stdout.write(`wrote ${path}\n`);
}
