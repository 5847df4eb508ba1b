/**
 * `dsmip6 loadgen` options: parsed and checked here, each bad value named with what was expected,
 * so the engine only ever sees sane numbers.
 */

import { parseArgs } from 'node:util';
import { ipv4FromBytes, ipv4TextToBytes } from '../wire/address.js';
import { PHASES, type Phase } from './engine.js';

export interface LoadgenArgs {
  readonly config: string;
  readonly mobileNodes?: number;
  readonly rate: number | 'max';
  readonly window: number;
  readonly lifetimeSeconds: number;
  readonly durationSeconds: number;
  readonly natRatio: number;
  readonly ipv4HomeRatio: number;
  readonly moveRatio: number;
  readonly timeoutMs: number;
  readonly phases: readonly Phase[];
  readonly sockets?: number;
  readonly bindAddresses: readonly string[];
  readonly json: boolean;
  /** Phases come from stdin, one `PHASE [RATE|max] [SECONDS]` per line; a JSON report each. */
  readonly interactive: boolean;
  readonly seed: number;
}

export class LoadgenArgsError extends Error {
  override readonly name = 'LoadgenArgsError';
}

/** Fewer sockets than this leave room under a 20000-descriptor limit for the rest of the process. */
export const DEFAULT_MAX_SOCKETS = 8192;
const MAX_BIND_ADDRESSES = 65_536;

function number(
  name: string,
  text: string | undefined,
  min: number,
  max: number,
  integer: boolean,
): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
    throw new LoadgenArgsError(
      `--${name} ${JSON.stringify(text)}: expected ${integer ? 'an integer' : 'a number'} ${min}-${max}`,
    );
  }
  return n;
}

/**
 * `127.0.0.1` (every socket there) or `127.1.0.0/16` (socket i on the (i+1)-th address of the
 * prefix: a distinct source address per socket, so public-IPv4 nodes have distinct care-of
 * addresses).
 */
export function bindAddresses(text: string, sockets: number): string[] {
  const [address, lengthText] = text.split('/') as [string, string | undefined];
  const bytes = ipv4TextToBytes(address);
  const length = lengthText === undefined ? 32 : Number(lengthText);
  if (!bytes || !Number.isInteger(length) || length < 8 || length > 32) {
    throw new LoadgenArgsError(
      `--bind ${JSON.stringify(text)}: expected an IPv4 address or prefix (/8-/32), e.g. 127.0.0.1 or 127.1.0.0/16`,
    );
  }
  if (length === 32) return [ipv4FromBytes(bytes)];
  const base = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
  const hosts = Math.min(2 ** (32 - length) - 2, sockets, MAX_BIND_ADDRESSES);
  const out: string[] = [];
  for (let i = 1; i <= hosts; i++) {
    const n = (base + i) >>> 0;
    out.push(ipv4FromBytes(Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff)));
  }
  return out;
}

export function parseLoadgenArgs(argv: readonly string[]): LoadgenArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        config: { type: 'string', short: 'c' },
        'mobile-nodes': { type: 'string', short: 'n' },
        rate: { type: 'string' },
        window: { type: 'string' },
        lifetime: { type: 'string' },
        duration: { type: 'string' },
        nat: { type: 'string' },
        'ipv4-hoa': { type: 'string' },
        move: { type: 'string' },
        timeout: { type: 'string' },
        phases: { type: 'string' },
        sockets: { type: 'string' },
        bind: { type: 'string' },
        seed: { type: 'string' },
        json: { type: 'boolean' },
        interactive: { type: 'boolean' },
      },
    }));
  } catch (e) {
    throw new LoadgenArgsError((e as Error).message);
  }
  const text = (k: string): string | undefined => values[k] as string | undefined;
  const config = text('config');
  if (!config) {
    throw new LoadgenArgsError(
      '--config FILE is required: the home agent config with derivedSecurityAssociations (see bench/README.md)',
    );
  }
  const rateText = text('rate') ?? 'max';
  const rate = rateText === 'max' ? 'max' : number('rate', rateText, 1, 10_000_000, false)!;
  const lifetimeSeconds = number('lifetime', text('lifetime'), 4, 262_140, true) ?? 600;
  if (lifetimeSeconds % 4 !== 0) {
    throw new LoadgenArgsError(
      `--lifetime ${lifetimeSeconds}: expected a multiple of 4, the unit of BU lifetimes (RFC 6275 §6.1.7)`,
    );
  }
  const phases = (text('phases') ?? PHASES.join(',')).split(',').map((p) => p.trim());
  for (const p of phases) {
    if (!(PHASES as readonly string[]).includes(p)) {
      throw new LoadgenArgsError(
        `--phases: ${JSON.stringify(p)} is not a phase (expected a list of ${PHASES.join(', ')})`,
      );
    }
  }
  const mobileNodes = number('mobile-nodes', text('mobile-nodes'), 1, 1 << 20, true);
  const sockets = number('sockets', text('sockets'), 1, 60_000, true);
  const socketsFor = sockets ?? Math.min(mobileNodes ?? DEFAULT_MAX_SOCKETS, DEFAULT_MAX_SOCKETS);
  return {
    config,
    ...(mobileNodes !== undefined ? { mobileNodes } : {}),
    rate,
    window: number('window', text('window'), 1, 65_536, true) ?? 64,
    lifetimeSeconds,
    durationSeconds: number('duration', text('duration'), 0, 86_400, false) ?? 10,
    natRatio: number('nat', text('nat'), 0, 1, false) ?? 0.5,
    ipv4HomeRatio: number('ipv4-hoa', text('ipv4-hoa'), 0, 1, false) ?? 0,
    moveRatio: number('move', text('move'), 0, 1, false) ?? 0.1,
    timeoutMs: number('timeout', text('timeout'), 1, 60_000, true) ?? 1000,
    phases: phases as Phase[],
    ...(sockets !== undefined ? { sockets } : {}),
    bindAddresses: bindAddresses(text('bind') ?? '127.0.0.1', socketsFor),
    json: values.json === true,
    interactive: values.interactive === true,
    seed: number('seed', text('seed'), 0, 0xffffffff, true) ?? 1,
  };
}
