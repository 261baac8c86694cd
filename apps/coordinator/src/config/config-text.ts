/**
 * Config text → plain document. Syntax errors become one line,
 * `file:line:col: invalid YAML|JSON: reason`, that editors and terminals can
 * jump to.
 */
import { LineCounter, parseDocument, visit } from 'yaml';
import { ConfigError } from './config-error.js';

export type ConfigSyntax = 'json' | 'yaml';

/**
 * JSON when the text looks like it (first character `{` or `[`) and the file
 * is not named .yaml/.yml; YAML otherwise, which also reads JSON. Strict JSON
 * for JSON-looking files gives JSON users JSON's error messages rather than
 * YAML's flow-collection jargon.
 */
export function detectSyntax(text: string, file: string): ConfigSyntax {
  if (/\.ya?ml$/i.test(file)) return 'yaml';
  return /^\s*[[{]/.test(text) ? 'json' : 'yaml';
}

/** Parses config text. `file` names it in errors. */
export function parseConfigText(text: string, file: string): unknown {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  return detectSyntax(body, file) === 'json' ? parseJson(body, file) : parseYaml(body, file);
}

function parseError(file: string, line: number, col: number, syntax: string, reason: string, cause?: unknown): ConfigError {
  return new ConfigError('DTRAIN_CONFIG_PARSE', `${file}:${line}:${col}: invalid ${syntax}: ${reason}`, {
    source: file,
    cause,
  });
}

/** 1-based line and column of a 0-based character offset. */
export function lineColumn(text: string, offset: number): { line: number; col: number } {
  const at = Math.max(0, Math.min(offset, text.length));
  const before = text.slice(0, at);
  return { line: before.split('\n').length, col: at - before.lastIndexOf('\n') };
}

/** Where JSON.parse gave up, and why, in words fit for a one-line message. */
export function describeJsonError(text: string, error: unknown): { line: number; col: number; reason: string } {
  const message = error instanceof Error ? error.message : String(error);
  const offset = reportedPosition(message) ?? firstBadOffset(text);
  const reason = message
    .replace(/ at position \d+.*$/s, '')
    .replace(/ in JSON$/, '')
    // V8 quotes the text around an unexpected token, newlines and all: not one line.
    .replace(/, (?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s, '')
    .replace(/^Unexpected end of JSON input$/, 'unexpected end of input');
  return { ...lineColumn(text, offset), reason };
}

/** V8 says "… in JSON at position N" for most errors (newer versions add "(line L column C)"). */
function reportedPosition(message: string): number | undefined {
  const match = / JSON at position (\d+)/.exec(message);
  return match === null ? undefined : Number(match[1]);
}

/**
 * Where the first error is, for the messages V8 gives no position
 * ("Unexpected token"). A prefix of valid JSON only ever fails at its end, so
 * the shortest prefix that fails before its end ends just past the error.
 */
function firstBadOffset(text: string): number {
  const failsInside = (length: number): boolean => {
    try {
      JSON.parse(text.slice(0, length));
      return false;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const position = reportedPosition(message);
      return position === undefined ? !message.startsWith('Unexpected end of JSON input') : position < length;
    }
  };
  let low = 1;
  let high = text.length;
  if (!failsInside(high)) return text.trimEnd().length;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    if (failsInside(middle)) high = middle;
    else low = middle + 1;
  }
  return high - 1;
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const { line, col, reason } = describeJsonError(text, error);
    throw parseError(file, line, col, 'JSON', reason, error);
  }
}

function parseYaml(text: string, file: string): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, lineCounter, uniqueKeys: true });
  const first = doc.errors[0];
  if (first !== undefined) {
    const { line, col } = lineCounter.linePos(first.pos[0]);
    // One line, whatever the parser's message holds.
    const reason = first.code === 'MULTIPLE_DOCS' ? 'expected a single document, found another after "---"' : first.message.replace(/\s+/g, ' ');
    throw parseError(file, line, col, 'YAML', reason, first);
  }
  // The parser accepts an alias to an anchor that does not exist; only toJS() notices, without a position.
  let unresolved: { offset: number; name: string } | undefined;
  visit(doc, {
    Alias(_, node) {
      if (node.resolve(doc) !== undefined) return undefined;
      unresolved = { offset: node.range?.[0] ?? 0, name: node.source };
      return visit.BREAK;
    },
  });
  if (unresolved !== undefined) {
    const { line, col } = lineCounter.linePos(unresolved.offset);
    throw parseError(file, line, col, 'YAML', `alias *${unresolved.name} names no anchor &${unresolved.name} before it`);
  }
  try {
    return doc.toJS();
  } catch (error) {
    // e.g. an alias bomb (too many aliases): the yaml package refuses it, and knows no position.
    const reason = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ');
    throw new ConfigError('DTRAIN_CONFIG_PARSE', `${file}: invalid YAML: ${reason}`, { source: file, cause: error });
  }
}
