/** Helpers for the config tests: the example files as JSON, and patching them by path. */

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ConfigError, ConfigResult } from '../../src/config/schema.js';

export const exampleFile = (name: 'ha.json' | 'mn.json'): string =>
  fileURLToPath(new URL(`../../examples/${name}`, import.meta.url));

export const exampleJson = (name: 'ha.json' | 'mn.json'): Record<string, unknown> =>
  JSON.parse(readFileSync(exampleFile(name), 'utf8')) as Record<string, unknown>;

/** A deep copy of `json` with the value at dotted `path` (array indexes as numbers) set, or deleted when undefined. */
export function patch(json: unknown, path: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(json) as Record<string, unknown>;
  const keys = path.split('.');
  let node: Record<string, unknown> = copy;
  for (const key of keys.slice(0, -1)) {
    if (node[key] === undefined) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  const last = keys[keys.length - 1]!;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}

export function patchAll(json: unknown, patches: Record<string, unknown>): Record<string, unknown> {
  let out = structuredClone(json) as Record<string, unknown>;
  for (const [path, value] of Object.entries(patches)) out = patch(out, path, value);
  return out;
}

export function errorsOf<T>(result: ConfigResult<T>): ConfigError[] {
  if (result.ok) throw new Error(`expected errors, got a config: ${JSON.stringify(result.config)}`);
  return result.errors;
}

export function configOf<T>(result: ConfigResult<T>): T {
  if (!result.ok)
    throw new Error(
      `expected a config, got:\n${result.errors.map((e) => `${e.path} ${e.message}`).join('\n')}`,
    );
  return result.config;
}
