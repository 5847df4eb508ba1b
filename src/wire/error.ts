/**
 * Parse results. Every decoder in src/wire is total: it returns `Parsed<T>`, never throws, and
 * never reads past the buffer it was given. A failure names the layer, the field, the byte offset
 * (from the start of the buffer handed to the top-level parser where known, else of the layer),
 * the value found and what was expected, so a log line or a test failure says exactly what is wrong.
 */

export type WireErrorCode =
  | 'truncated' // fewer bytes than the header or field needs
  | 'length-mismatch' // a length field disagrees with the bytes present
  | 'bad-checksum'
  | 'bad-value' // a field holds a value the protocol forbids
  | 'misaligned' // an option is not at its required alignment
  | 'overrun' // an option or header claims bytes beyond its container
  | 'unsupported'; // well-formed, but not something dsmip6 handles

export interface WireError {
  readonly layer: string;
  readonly code: WireErrorCode;
  readonly field: string;
  readonly offset: number;
  readonly value: number | string;
  readonly expected: string;
  readonly message: string;
}

export type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: WireError };

export function ok<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

export function fail<T = never>(
  layer: string,
  code: WireErrorCode,
  field: string,
  offset: number,
  value: number | string,
  expected: string,
): Parsed<T> {
  const shown = typeof value === 'number' ? `${value}` : JSON.stringify(value);
  return {
    ok: false,
    error: {
      layer,
      code,
      field,
      offset,
      value,
      expected,
      message: `${layer}: ${field} at offset ${offset} is ${shown}, expected ${expected}`,
    },
  };
}

/** Re-anchors an error found inside a nested buffer at `base` bytes into the outer one. */
export function shifted<T>(result: Parsed<T>, base: number): Parsed<T> {
  if (result.ok || base === 0) return result;
  const e = result.error;
  return fail(e.layer, e.code, e.field, e.offset + base, e.value, e.expected);
}

/** Checks that `need` bytes exist at `offset`; returns the failure to pass up, or undefined. */
export function truncated(
  buf: Uint8Array,
  offset: number,
  need: number,
  layer: string,
  field: string,
): Parsed<never> | undefined {
  if (offset + need <= buf.length) return undefined;
  return fail(layer, 'truncated', field, offset, buf.length - offset, `at least ${need} bytes`);
}

/** Thrown by emitters when handed a record that cannot be encoded (a programming or config error). */
export class EmitError extends RangeError {
  constructor(layer: string, field: string, value: unknown, expected: string) {
    super(`${layer}: cannot emit ${field} = ${JSON.stringify(value)}: expected ${expected}`);
    this.name = 'EmitError';
  }
}

/** Emit-side range check for an unsigned field of at most `max`. */
export function checkUint(layer: string, field: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new EmitError(layer, field, value, `an integer 0-${max}`);
  }
}
