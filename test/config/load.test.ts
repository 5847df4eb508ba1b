import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigFileError, findJsonSyntaxError, loadConfig, parseConfigText } from '../../src/config/load.js';
import { formatConfigErrors } from '../../src/config/validate.js';
import { exampleFile, exampleJson, patchAll } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'dsmip6-config-'));
const write = (name: string, text: string): string => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};

async function loadError(file: string, role: 'ha' | 'mn'): Promise<ConfigFileError> {
  try {
    await loadConfig(file, role);
  } catch (err) {
    if (err instanceof ConfigFileError) return err;
    throw err;
  }
  throw new Error(`${file} loaded without error`);
}

describe('loadConfig', () => {
  it('loads both example files', async () => {
    const ha = await loadConfig(exampleFile('ha.json'), 'ha');
    expect(ha.homePrefix.text).toBe('2001:db8:1::/64');
    const mn = await loadConfig(exampleFile('mn.json'), 'mn');
    expect(mn.homeAddress).toBe('2001:db8:1::100');
  });

  it('throws a ConfigFileError whose message lists every problem, one line each', async () => {
    const json = patchAll(exampleJson('ha.json'), {
      'ipv4Pool.start': '192.0.2.300',
      ipv4pool: {},
      udpPort: -1,
    });
    const file = write('ha.json', JSON.stringify(json, null, 2));
    const err = await loadError(file, 'ha');
    expect(err.file).toBe(file);
    expect(err.errors).toHaveLength(3);
    expect(err.message).toBe(
      [
        `${file}: ha.ipv4pool unknown key (did you mean "ipv4Pool"?)`,
        `${file}: ha.udpPort -1: out of range (expected an integer 1-65535)`,
        `${file}: ha.ipv4Pool.start "192.0.2.300": not an IPv4 address (expected a.b.c.d)`,
      ].join('\n'),
    );
  });

  it('reports a JSON syntax error with line:column', async () => {
    const file = write('trailing.json', '{\n  "homePrefix": "2001:db8:1::/64",\n}\n');
    const err = await loadError(file, 'ha');
    expect(err.errors).toEqual([
      {
        path: '',
        message: 'invalid JSON: trailing comma before "}" (JSON allows none: remove the comma)',
        position: { line: 3, column: 1 },
      },
    ]);
    expect(err.message).toBe(
      `${file}:3:1: invalid JSON: trailing comma before "}" (JSON allows none: remove the comma)`,
    );
  });

  it('reports a file that cannot be read', async () => {
    const err = await loadError(join(dir, 'absent.json'), 'mn');
    expect(err.message).toMatch(/absent\.json: cannot read the file: ENOENT: no such file or directory/);
  });

  it('skips a UTF-8 byte order mark', () => {
    const text = `\ufeff${JSON.stringify(exampleJson('mn.json'))}`;
    expect(parseConfigText(text, 'mn').ok).toBe(true);
  });
});

describe('JSON syntax errors: position and wording', () => {
  const cases: [string, string, number, number, string][] = [
    [
      'a trailing comma in an array',
      '{\n  "a": [1, 2,]\n}',
      2,
      14,
      'trailing comma before "]" (JSON allows none: remove the comma)',
    ],
    ['a comment', '{\n  // the prefix\n  "a": 1\n}', 2, 3, 'a comment (JSON has no comments: remove it)'],
    [
      'a missing comma',
      '{\n  "a": 1\n  "b": 2\n}',
      3,
      3,
      'unexpected "\\"" (expected "," or "}" after the property value)',
    ],
    ['a missing colon', '{ "a" 1 }', 1, 7, 'unexpected "1" (expected ":" after the property name)'],
    ['an unquoted key', '{ a: 1 }', 1, 3, 'unexpected "a" (expected a property name in double quotes)'],
    [
      'single quotes',
      '{ "a": \'x\' }',
      1,
      8,
      `"'" (expected a value: object, array, string, number, true, false or null; JSON strings use double quotes)`,
    ],
    [
      'an unterminated string',
      '{\n  "a": "2001:db8::1\n}',
      2,
      8,
      'unterminated string (expected a closing " before the end of the line)',
    ],
    [
      'a tab in a string',
      '{ "a": "x\ty" }',
      1,
      10,
      'control character in string (expected \\n, \\t or another escape)',
    ],
    ['a string cut off by the end of file', '{ "a": "x', 1, 8, 'unterminated string (expected a closing ")'],
    [
      'the end of file inside an object',
      '{ "a": 1',
      1,
      9,
      'unexpected end of file (expected "," or "}" after the property value)',
    ],
    [
      'an empty file',
      '',
      1,
      1,
      'unexpected end of file (expected a value: object, array, string, number, true, false or null)',
    ],
    [
      'a bad literal',
      '{ "a": tru }',
      1,
      8,
      'unexpected "t" (expected a value: object, array, string, number, true, false or null)',
    ],
    ['a bad number', '{ "a": 01 }', 1, 9, 'unexpected "1" (expected "," or "}" after the property value)'],
    [
      'a bad escape',
      '{ "a": "\\x" }',
      1,
      9,
      'bad escape \\x (expected one of \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)',
    ],
    ['text after the value', '{}\n{}', 2, 1, 'unexpected "{" (expected end of file after the JSON value)'],
  ];

  it.each(cases)('%s', (_what, text, line, column, message) => {
    expect(() => JSON.parse(text)).toThrow(SyntaxError);
    expect(findJsonSyntaxError(text)).toEqual({ line, column, message });
    const result = parseConfigText(text, 'ha');
    expect(result).toEqual({
      ok: false,
      errors: [{ path: '', message: `invalid JSON: ${message}`, position: { line, column } }],
    });
  });

  it('never quotes the file around the error, so a key cannot reach a log', () => {
    const text = '{ "encryptionKey": "00112233445566778899aabbccddeeff00112233", }';
    const result = parseConfigText(text, 'ha');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(formatConfigErrors('ha.json', result.errors)).not.toContain('0011');
  });

  it('agrees with JSON.parse on which texts are JSON', () => {
    const valid = (text: string): boolean => {
      try {
        JSON.parse(text);
        return true;
      } catch {
        return false;
      }
    };
    fc.assert(
      fc.property(fc.json(), (text) => findJsonSyntaxError(text) === undefined),
      { numRuns: 300 },
    );
    // Mangled JSON: a character dropped, doubled or swapped in, so most runs are near misses.
    const mangled = fc
      .tuple(fc.json(), fc.nat(), fc.constantFrom('', ',', '}', ']', '"', '/', ':', '\\', 'x', ' ', '\n'))
      .map(([text, at, c]) => {
        const i = text.length === 0 ? 0 : at % text.length;
        return text.slice(0, i) + c + text.slice(i + 1);
      });
    fc.assert(
      fc.property(
        fc.oneof(mangled, fc.string()),
        (text) => (findJsonSyntaxError(text) === undefined) === valid(text),
      ),
      { numRuns: 2000 },
    );
  });
});
