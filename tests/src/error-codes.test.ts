import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Errors in one style, checked on the source text: every subsystem's code
 * table (`export const XErrorCode = { KEY: 'DTRAIN_…', … } as const`) holds
 * only codes that are used somewhere and listed in the README, and core code
 * throws no plain Error.
 */

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Core source: apps/* and packages/* src, without tests, test kits, testing/ and bench/ folders, and the coordinator's browser page (page/: it runs in a browser, where a missing element is a plain Error shown in the console). */
function coreFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'testing' && entry.name !== 'bench' && entry.name !== 'page' && entry.name !== 'node_modules') walk(path);
      } else if (entry.name.endsWith('.ts') && !/\.(test|testkit|d)\.ts$/.test(entry.name)) {
        files.push(path);
      }
    }
  };
  for (const group of ['apps', 'packages']) {
    for (const project of readdirSync(join(REPO, group), { withFileTypes: true })) {
      if (!project.isDirectory()) continue;
      const src = join(REPO, group, project.name, 'src');
      try {
        walk(src);
      } catch {
        // A project without src/.
      }
    }
  }
  return files;
}

/** The text without comments that start a line (doc and block comments) or follow whitespace (`// …`): mentions there are not uses. */
function withoutComments(text: string): string {
  return text.replace(/^[ \t]*\/\*[\s\S]*?\*\//gm, '').replace(/(^|[ \t])\/\/.*$/gm, '$1');
}

interface CodeTable {
  readonly name: string;
  readonly file: string;
  /** The table's text, `export const … } as const;`. */
  readonly text: string;
  /** Key → code. */
  readonly codes: ReadonlyMap<string, string>;
}

const files = coreFiles();
const sources = new Map(files.map((file) => [file, readFileSync(file, 'utf8')]));

function codeTables(): CodeTable[] {
  const tables: CodeTable[] = [];
  for (const [file, text] of sources) {
    for (const match of text.matchAll(/^export const (\w+ErrorCode) = \{[\s\S]*?^\} as const;/gm)) {
      const codes = new Map<string, string>();
      for (const entry of match[0].matchAll(/^\s*(\w+): '(DTRAIN_[A-Z0-9_]+)',/gm)) codes.set(entry[1]!, entry[2]!);
      tables.push({ name: match[1]!, file, text: match[0], codes });
    }
  }
  return tables;
}

const tables = codeTables();
const readme = readFileSync(join(REPO, 'README.md'), 'utf8');

describe('error codes', () => {
  it('finds one code table per subsystem', () => {
    expect(tables.map((t) => t.name).sort()).toEqual([
      'ConfigErrorCode',
      'DataErrorCode',
      'EngineErrorCode',
      'FitErrorCode',
      'JobErrorCode',
      'K8sErrorCode',
      'ParameterServerErrorCode',
      'ProtocolErrorCode',
      'ShardErrorCode',
      'UsageErrorCode',
      'WorkerErrorCode',
    ]);
    for (const table of tables) expect(table.codes.size, table.name).toBeGreaterThan(0);
  });

  it('gives every error class of core code a code table and the constructor (code, message, options)', () => {
    for (const [file, text] of sources) {
      for (const match of text.matchAll(/^export class (\w+) extends Error \{[\s\S]*?^\}/gm)) {
        const where = `${match[1]} in ${relative(REPO, file)}`;
        expect(tables.some((t) => t.file === file), `${where}: no code table in its file`).toBe(true);
        expect(match[0], where).toMatch(/constructor\(code: \w+ErrorCode, message: string, options(\?: ErrorOptions|: \w+ = \{\})\)/);
        expect(match[0], where).toMatch(/override readonly name/);
      }
    }
  });

  it('documents every code in its table', () => {
    for (const table of tables) {
      const lines = table.text.split('\n');
      lines.forEach((line, i) => {
        if (/^\s*\w+: 'DTRAIN_/.test(line)) expect(lines[i - 1], `${table.name}: ${line.trim()} has no doc comment`).toMatch(/^\s*\/\*\*.*\*\/$/);
      });
    }
  });

  it('uses every declared code outside its table in core source', () => {
    const unused: string[] = [];
    for (const table of tables) {
      for (const [key, code] of table.codes) {
        const use = new RegExp(`['"\`]${code}['"\`]|\\b${table.name}\\.${key}\\b`);
        const used = [...sources].some(([file, text]) => use.test(withoutComments(file === table.file ? text.replace(table.text, '') : text)));
        if (!used) unused.push(`${code} (${table.name}.${key})`);
      }
    }
    expect(unused, 'declared but never used: throw it where it belongs or delete it').toEqual([]);
  });

  it('lists every code, and only declared codes, in the README section "Error codes"', () => {
    const start = readme.indexOf('\n## Error codes\n');
    expect(start, 'README.md has no "## Error codes" section').toBeGreaterThan(0);
    const end = readme.indexOf('\n## ', start + 1);
    const section = readme.slice(start, end < 0 ? undefined : end);
    const declared = new Set(tables.flatMap((t) => [...t.codes.values()]));
    expect([...declared].filter((code) => !section.includes(`\`${code}\``)), 'missing from README.md').toEqual([]);
    const listed = new Set([...section.matchAll(/`(DTRAIN_[A-Z0-9_]+)`/g)].map((m) => m[1]!));
    expect([...listed].filter((code) => !declared.has(code)), 'in README.md but declared nowhere').toEqual([]);
  });

  it('throws no plain Error from core source', () => {
    const plain = [...sources].flatMap(([file, text]) =>
      text
        .split('\n')
        .flatMap((line, i) => (/\bnew Error\(/.test(line) && !/^\s*(\/\/|\/\*|\*)/.test(line) ? [`${relative(REPO, file)}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(plain).toEqual([]);
  });
});
