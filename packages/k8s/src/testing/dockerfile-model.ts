/**
 * A Dockerfile as the infra tests look at it: stages of instructions with
 * their arguments, the global ARG defaults applied to FROM, and whether a
 * path would be in the build context under .dockerignore's rules.
 */
import { readFileSync } from 'node:fs';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';

export interface Step {
  readonly keyword: string;
  /** Arguments without flags, e.g. COPY's sources and destination. */
  readonly args: readonly string[];
  /** The arguments as one line (continuations joined), for RUN. */
  readonly text: string;
  /** `--from=` of a COPY, when given. */
  readonly from?: string;
}

export interface Stage {
  /** The image the stage starts from, with global ARG defaults substituted. */
  readonly base: string;
  readonly name: string | undefined;
  readonly steps: readonly Step[];
}

export interface DockerfileModel {
  /** Global ARGs (before the first FROM) and their defaults. */
  readonly args: Readonly<Record<string, string>>;
  readonly stages: readonly Stage[];
}

export function readDockerfile(path: string): DockerfileModel {
  const parsed = DockerfileParser.parse(readFileSync(path, 'utf8'));
  const args: Record<string, string> = {};
  const stages: { base: string; name: string | undefined; steps: Step[] }[] = [];
  for (const instruction of parsed.getInstructions()) {
    const keyword = instruction.getKeyword().toUpperCase();
    const values = instruction.getArguments().map((a) => a.getValue());
    if (keyword === 'FROM') {
      const base = (values[0] ?? '').replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, a: string | undefined, b: string | undefined) => args[a ?? b ?? ''] ?? '');
      const as = values.findIndex((v) => v.toUpperCase() === 'AS');
      stages.push({ base, name: as >= 0 ? values[as + 1] : undefined, steps: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (keyword === 'ARG' && stage === undefined) {
      const [name, value] = (values[0] ?? '').split(/=(.*)/s);
      if (name !== undefined && value !== undefined) args[name] = value;
      continue;
    }
    const from = fromFlag(instruction);
    stage?.steps.push({ keyword, args: values, text: values.join(' '), ...(from === undefined ? {} : { from }) });
  }
  return { args, stages };
}

function fromFlag(instruction: Instruction): string | undefined {
  const flag = (instruction as Instruction & { getFromFlag?: () => { getValue(): string | null } | null }).getFromFlag?.();
  return flag?.getValue() ?? undefined;
}

/**
 * .dockerignore as Docker reads it: one pattern per line (`#` comments),
 * Go-style globs plus `**`, `!` re-includes, the last matching line wins, and
 * a pattern that matches a folder excludes everything under it.
 */
export function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((line) => {
      const negate = line.startsWith('!');
      const pattern = (negate ? line.slice(1) : line).replace(/^\/+/, '').replace(/\/+$/, '');
      return { negate, regex: globToRegex(pattern) };
    });
  return (path: string): boolean => {
    const parts = path.split('/');
    let excluded = false;
    for (const rule of rules) {
      for (let i = 1; i <= parts.length; i += 1) {
        if (rule.regex.test(parts.slice(0, i).join('/'))) {
          excluded = !rule.negate;
          break;
        }
      }
    }
    return excluded;
  };
}

function globToRegex(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i += 1) {
    const c = glob[i] ?? '';
    if (glob.startsWith('**/', i)) {
      out += '(?:.*/)?';
      i += 2;
    } else if (glob.startsWith('**', i)) {
      out += '.*';
      i += 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}
