/**
 * Reading a config file: the bytes, the JSON (with line:column on a syntax error) and the
 * validation, ending in a config or one `ConfigFileError` that lists every problem.
 */

import { readFile } from 'node:fs/promises';
import type { ConfigError, ConfigRole, HaConfig, MnConfig } from './schema.js';
import { formatConfigErrors, parseHaConfig, parseMnConfig } from './validate.js';

/** A config file that cannot be used. `message` is the formatted list, one line per error. */
export class ConfigFileError extends Error {
  override readonly name = 'ConfigFileError';
  constructor(
    readonly file: string,
    readonly errors: readonly ConfigError[],
  ) {
    super(formatConfigErrors(file, errors));
  }
}

export interface JsonSyntaxError {
  /** 1-based, as editors count; columns count UTF-16 code units. */
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/**
 * Finds the first JSON syntax error in `text`, or undefined when it is valid JSON (RFC 8259).
 * V8's JSON.parse messages carry a position only for some errors, and quote the text for others,
 * which could put a key into a log, so the position and wording come from this small scanner.
 */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  let i = 0;
  const fail = (at: number, message: string): never => {
    throw new SyntaxAt(at, message);
  };
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const describe = (at: number): string => {
    if (at >= text.length) return 'end of file';
    const c = text[at]!;
    if (c === '/' && (text[at + 1] === '/' || text[at + 1] === '*')) return 'a comment';
    return JSON.stringify(c);
  };
  const unexpected = (expected: string): never => {
    if (text[i] === '/' && (text[i + 1] === '/' || text[i + 1] === '*')) {
      return fail(i, 'a comment (JSON has no comments: remove it)');
    }
    if (text[i] === "'") return fail(i, `"'" (expected ${expected}; JSON strings use double quotes)`);
    return fail(i, `unexpected ${describe(i)} (expected ${expected})`);
  };
  const literal = (word: string): void => {
    if (text.startsWith(word, i)) i += word.length;
    else unexpected('a value: object, array, string, number, true, false or null');
  };
  const str = (): void => {
    const start = i;
    i++; // opening quote
    for (;;) {
      if (i >= text.length) fail(start, 'unterminated string (expected a closing ")');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c === 0x0a || c === 0x0d)
        fail(start, 'unterminated string (expected a closing " before the end of the line)');
      if (c < 0x20) fail(i, 'control character in string (expected \\n, \\t or another escape)');
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6)))
            fail(i, 'bad \\u escape (expected 4 hex digits)');
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else fail(i, `bad escape \\${e ?? ''} (expected one of \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)`);
      } else i++;
    }
  };
  const num = (): void => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i));
    if (!m) unexpected('a number');
    else i += m[0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') {
          if (text[i] === '}') fail(i, 'trailing comma before "}" (JSON allows none: remove the comma)');
          unexpected('a property name in double quotes');
        }
        str();
        ws();
        if (text[i] !== ':') unexpected('":" after the property name');
        i++;
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        unexpected('"," or "}" after the property value');
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] === ']') fail(i, 'trailing comma before "]" (JSON allows none: remove the comma)');
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        unexpected('"," or "]" after the array element');
      }
    }
    if (c === '"') str();
    else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) num();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else unexpected('a value: object, array, string, number, true, false or null');
  };
  try {
    value();
    ws();
    if (i < text.length) unexpected('end of file after the JSON value');
    return undefined;
  } catch (err) {
    if (!(err instanceof SyntaxAt)) throw err;
    return { ...lineColumn(text, err.at), message: err.message };
  }
}

class SyntaxAt extends Error {
  constructor(
    readonly at: number,
    message: string,
  ) {
    super(message);
  }
}

function lineColumn(text: string, at: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let k = 0; k < at && k < text.length; k++) {
    if (text[k] === '\n') {
      line++;
      lineStart = k + 1;
    }
  }
  return { line, column: at - lineStart + 1 };
}

/**
 * Parses and validates config text. A JSON syntax error is one error with a `position`, formatted
 * as `ha.json:3:15: invalid JSON: unexpected "}" (...)`.
 */
export function parseConfigText(
  text: string,
  role: 'ha',
): { ok: true; config: HaConfig } | { ok: false; errors: ConfigError[] };
export function parseConfigText(
  text: string,
  role: 'mn',
): { ok: true; config: MnConfig } | { ok: false; errors: ConfigError[] };
export function parseConfigText(
  text: string,
  role: ConfigRole,
): { ok: true; config: HaConfig | MnConfig } | { ok: false; errors: ConfigError[] };
export function parseConfigText(
  text: string,
  role: ConfigRole,
): { ok: true; config: HaConfig | MnConfig } | { ok: false; errors: ConfigError[] } {
  // Editors on some systems save a byte order mark; JSON.parse rejects it, RFC 8259 §8.1 allows ignoring it.
  const body = text.startsWith('\ufeff') ? text.slice(1) : text;
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    const syntax = findJsonSyntaxError(body) ?? {
      ...lineColumn(body, body.length),
      message: 'not valid JSON',
    };
    const position = { line: syntax.line, column: syntax.column };
    return { ok: false, errors: [{ path: '', message: `invalid JSON: ${syntax.message}`, position }] };
  }
  const result = role === 'ha' ? parseHaConfig(json) : parseMnConfig(json);
  return result.ok ? { ok: true, config: result.config } : { ok: false, errors: [...result.errors] };
}

/** Reads, parses and validates `file`; throws ConfigFileError listing every problem. */
export async function loadConfig(file: string, role: 'ha'): Promise<HaConfig>;
export async function loadConfig(file: string, role: 'mn'): Promise<MnConfig>;
export async function loadConfig(file: string, role: ConfigRole): Promise<HaConfig | MnConfig>;
export async function loadConfig(file: string, role: ConfigRole): Promise<HaConfig | MnConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ConfigFileError(file, [{ path: '', message: `cannot read the file: ${reason}` }]);
  }
  const result = parseConfigText(text, role);
  if (!result.ok) throw new ConfigFileError(file, result.errors);
  return result.config;
}
