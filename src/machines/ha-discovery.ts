/**
 * Home agent discovery on the mobile node (RFC 5026 §5.1, RFC 5555 §2.1). The candidate home
 * agents come from configuration, from the AAAA and A records of a configured HA name, or from the
 * SRV records `_mip6._ipv6.<domain>` and then AAAA and A for each target. The A record matters:
 * on an IPv4-only network it is the only way to learn the HA's IPv4 address (RFC 5555 §2.1).
 *
 * DNS lookups are an effect (`resolve`); the actor layer answers with DNS.ANSWER / DNS.FAILURE.
 * The machine reports the HA to use (`DISCOVERY.FOUND`), re-resolves it when the answer's TTL runs
 * out, moves on to the next candidate when the supervisor says the registration gave up, and
 * starts over after a delay when every candidate has been tried.
 */

import { assign, not, setup } from 'xstate';
import type { MachineModel } from '../testgen/model.js';

/** First DNS retry delay; doubled after each failure (RFC 5026 §5.1: retry after a configurable delay). */
export const DNS_RETRY_INITIAL_MS = 1_000;
/** Cap on the doubling DNS retry delay (configurable; same order as RFC 6275 §12 MAX_BINDACK_TIMEOUT). */
export const DNS_RETRY_MAX_MS = 32_000;
/**
 * Delay before trying the candidate list again after the last HA gave up (RFC 5026 §5.1: "retry
 * after a configurable delay"; RFC 6275 §11.8 leaves the choice of another HA to the MN).
 */
export const LIST_RESTART_DELAY_MS = 30_000;
/**
 * Shortest re-resolution period. A TTL of 0 means "do not cache" (RFC 1035 §3.2.1); honouring it
 * literally would re-query in a loop, so answers are re-checked no sooner than this.
 */
export const MIN_REFRESH_TTL_SECONDS = 30;
/** Longest delay a JavaScript timer can hold (2^31 - 1 ms); TTLs reach 2^31 - 1 s (RFC 2181 §8). */
export const MAX_TIMER_MS = 2_147_483_647;
/** RFC 5026 §5.1: service `mip6`, protocol `ipv6` (RFC 2782 naming `_service._proto.name`). */
export const SRV_PREFIX = '_mip6._ipv6.';
/** RFC 2782: an SRV target of "." means the service is decidedly not available. */
const SRV_NOT_AVAILABLE = '.';

export type DnsRrType = 'AAAA' | 'A' | 'SRV';
export type AddressRrType = 'AAAA' | 'A';

export interface DnsQuery {
  readonly name: string;
  readonly type: DnsRrType;
}

export interface ResolveParams {
  readonly queries: DnsQuery[];
}

export interface HaAddresses {
  name?: string;
  ipv6?: string;
  ipv4?: string;
}

export interface HaDiscoveryInput {
  /** Home agents from the configuration file, in preference order. Entries with only a name are resolved. */
  readonly configured?: HaAddresses[];
  /** The HA's FQDN: AAAA and A records (RFC 5026 §5.1, RFC 5555 §2.1). */
  readonly haName?: string;
  /** The home domain: SRV `_mip6._ipv6.<domain>` (RFC 5026 §5.1). */
  readonly domain?: string;
  readonly retryInitialMs?: number;
  readonly retryMaxMs?: number;
  /** Delay before starting over after the last candidate gave up (default LIST_RESTART_DELAY_MS). */
  readonly restartDelayMs?: number;
}

export interface SrvRecord {
  readonly priority: number;
  readonly weight: number;
  readonly port: number;
  readonly target: string;
}

export type HaDiscoveryEvent =
  /** An answer from the resolver; an empty `addresses` / `srv` list means NODATA. */
  | {
      type: 'DNS.ANSWER';
      name: string;
      rrType: DnsRrType;
      ttlSeconds: number;
      addresses?: string[];
      srv?: SrvRecord[];
    }
  /** The lookup failed: NXDOMAIN, SERVFAIL, timeout, ... */
  | { type: 'DNS.FAILURE'; name: string; rrType: DnsRrType; reason: string }
  /** The supervisor: registration with the current HA gave up (RFC 6275 §11.8: try another HA). */
  | { type: 'REGISTRATION.GAVE_UP' }
  /** Start discovery over now (e.g. after a network change brought another resolver). */
  | { type: 'RESTART' };

export type HaDiscoveryReport =
  | { type: 'DISCOVERY.FOUND'; ha: HaAddresses; index: number; candidates: number }
  | { type: 'DISCOVERY.FAILED'; reason: string; retryInMs: number };

/** One candidate home agent; `null` = not known. */
export interface HaCandidate {
  name: string | null;
  ipv6: string | null;
  ipv4: string | null;
  /** Its addresses come from DNS (so they expire with the TTL), not from the configuration. */
  fromDns: boolean;
}

/** What one address lookup of the current round gave. */
export type LookupResult =
  | { status: 'pending' }
  | { status: 'failed'; reason: string }
  | { status: 'answered'; address: string | null; ttlSeconds: number };

export interface HaDiscoveryContext {
  readonly source: 'configured' | 'name' | 'srv';
  readonly configured: HaCandidate[];
  readonly haName: string | null;
  readonly srvName: string | null;
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
  readonly restartDelayMs: number;
  candidates: HaCandidate[];
  /** Index of the current candidate in `candidates`. */
  index: number;
  /** Queries asked and not yet answered; an answer to anything else is stale and ignored. */
  pending: DnsQuery[];
  /** Results of the current AAAA + A round for the current candidate. */
  round: { AAAA: LookupResult; A: LookupResult };
  /** Re-resolve the current HA after this long (from the smallest TTL of its answers). */
  ttlMs: number;
  /** Next DNS retry delay (doubles up to retryMaxMs, back to retryInitialMs on success). */
  retryMs: number;
  /** Why the last pass failed, for the DISCOVERY.FAILED report. */
  failure: string;
}

type AnswerEvent = Extract<HaDiscoveryEvent, { type: 'DNS.ANSWER' }>;
type FailureEvent = Extract<HaDiscoveryEvent, { type: 'DNS.FAILURE' }>;
type Ctx = { context: HaDiscoveryContext };

/** DNS names compare case-insensitively (RFC 4343), with or without the root dot. */
const normalizeName = (name: string): string => name.toLowerCase().replace(/\.$/, '');

const toCandidate = (ha: HaAddresses): HaCandidate => ({
  name: ha.name ? normalizeName(ha.name) : null,
  ipv6: ha.ipv6 ?? null,
  ipv4: ha.ipv4 ?? null,
  fromDns: !ha.ipv6 && !ha.ipv4,
});

/**
 * RFC 2782 orders targets by priority (lowest first) and, within a priority, picks at random
 * weighted by weight. Randomness must come from outside a pure machine, so dsmip6 takes the
 * deterministic reading of that rule: heaviest weight first, answer order among equal weights
 * (Array.prototype.sort is stable). Weight-0 targets thus come last, as RFC 2782 intends.
 */
export function orderSrvTargets(records: readonly SrvRecord[]): string[] {
  const seen = new Set<string>();
  return [...records]
    .filter((r) => r.target !== SRV_NOT_AVAILABLE && r.target !== '')
    .sort((a, b) => a.priority - b.priority || b.weight - a.weight)
    .map((r) => normalizeName(r.target))
    .filter((name) => !seen.has(name) && seen.add(name) !== undefined);
}

const current = (context: HaDiscoveryContext): HaCandidate | undefined => context.candidates[context.index];

const roundDone = (context: HaDiscoveryContext): boolean =>
  context.round.AAAA.status !== 'pending' && context.round.A.status !== 'pending';

/**
 * The round is over and gave the current HA an address. At least one lookup must have answered:
 * when both failed, a re-resolution has learnt nothing and must not restart the TTL.
 */
const roundUsable = (context: HaDiscoveryContext): boolean => {
  if (!roundDone(context)) return false;
  if (context.round.AAAA.status !== 'answered' && context.round.A.status !== 'answered') return false;
  const { ipv6, ipv4 } = mergedAddresses(context);
  return ipv6 !== null || ipv4 !== null;
};

/** The addresses the current candidate has after this round: an answer replaces, a failure keeps. */
function mergedAddresses(context: HaDiscoveryContext): { ipv6: string | null; ipv4: string | null } {
  const ha = current(context);
  const pick = (r: LookupResult, old: string | null) => (r.status === 'answered' ? r.address : old);
  return { ipv6: pick(context.round.AAAA, ha?.ipv6 ?? null), ipv4: pick(context.round.A, ha?.ipv4 ?? null) };
}

/** Re-resolution delay: the smallest TTL among this round's answers (RFC 1035 §3.2.1). */
function roundTtlMs(context: HaDiscoveryContext): number {
  const ttls = [context.round.AAAA, context.round.A].flatMap((r) =>
    r.status === 'answered' ? [r.ttlSeconds] : [],
  );
  const seconds = Math.max(MIN_REFRESH_TTL_SECONDS, Math.min(...ttls));
  return Math.min(seconds * 1000, MAX_TIMER_MS);
}

const describeLookup = (r: LookupResult): string =>
  r.status === 'failed' ? r.reason : r.status === 'answered' ? 'no records' : 'no answer';

const isPending = (context: HaDiscoveryContext, name: string, type: DnsRrType): boolean => {
  const n = normalizeName(name);
  return context.pending.some((q) => q.name === n && q.type === type);
};

const haOf = (ha: HaCandidate): HaAddresses => ({
  ...(ha.name !== null ? { name: ha.name } : {}),
  ...(ha.ipv6 !== null ? { ipv6: ha.ipv6 } : {}),
  ...(ha.ipv4 !== null ? { ipv4: ha.ipv4 } : {}),
});

const foundParams = ({ context }: Ctx): HaDiscoveryReport => ({
  type: 'DISCOVERY.FOUND',
  ha: haOf(current(context) ?? { name: null, ipv6: null, ipv4: null, fromDns: false }),
  index: context.index,
  candidates: context.candidates.length,
});

const addressQueries = ({ context }: Ctx): ResolveParams => {
  const name = current(context)?.name ?? '';
  return {
    queries: [
      { name, type: 'AAAA' },
      { name, type: 'A' },
    ],
  };
};

const PENDING_ROUND = { AAAA: { status: 'pending' }, A: { status: 'pending' } } as const;

export const haDiscoveryMachine = setup({
  types: {
    context: {} as HaDiscoveryContext,
    events: {} as HaDiscoveryEvent,
    input: {} as HaDiscoveryInput,
  },
  actions: {
    resolve: (_, _params: ResolveParams) => {},
    report: (_, _params: HaDiscoveryReport) => {},
    /** A new pass over the candidates: configured ones afresh (names re-resolved), SRV re-asked. */
    beginPass: assign(({ context }) => ({
      index: 0,
      pending: [],
      round: PENDING_ROUND,
      candidates:
        context.source === 'configured'
          ? context.configured
          : context.source === 'name' && context.haName !== null
            ? [toCandidate({ name: context.haName })]
            : [],
    })),
    askSrv: assign(({ context }) => ({
      pending: context.srvName !== null ? [{ name: context.srvName, type: 'SRV' as const }] : [],
    })),
    askAddresses: assign(({ context }) => {
      const name = current(context)?.name ?? '';
      return {
        round: PENDING_ROUND,
        pending: [
          { name, type: 'AAAA' as const },
          { name, type: 'A' as const },
        ],
      };
    }),
    adoptSrvTargets: assign(({ event }) => ({
      pending: [],
      candidates: orderSrvTargets((event as AnswerEvent).srv ?? []).map((name) => toCandidate({ name })),
    })),
    recordAnswer: assign(({ context, event }) => {
      const e = event as AnswerEvent;
      const type = e.rrType as AddressRrType;
      const n = normalizeName(e.name);
      return {
        pending: context.pending.filter((q) => !(q.name === n && q.type === type)),
        // Several addresses: the resolver's first one is used (the DNS port may sort them).
        round: {
          ...context.round,
          [type]: { status: 'answered', address: e.addresses?.[0] ?? null, ttlSeconds: e.ttlSeconds },
        },
      };
    }),
    recordFailure: assign(({ context, event }) => {
      const e = event as FailureEvent;
      const type = e.rrType as AddressRrType;
      const n = normalizeName(e.name);
      return {
        pending: context.pending.filter((q) => !(q.name === n && q.type === type)),
        round: { ...context.round, [type]: { status: 'failed', reason: e.reason } },
      };
    }),
    /** Take this round's addresses for the current candidate and time their re-resolution. */
    adoptRound: assign(({ context }) => {
      const addresses = mergedAddresses(context);
      const candidates = context.candidates.map((ha, i) =>
        i === context.index ? { ...ha, ...addresses } : ha,
      );
      return { candidates, ttlMs: roundTtlMs(context), retryMs: context.retryInitialMs };
    }),
    /** Configured addresses never expire; the TTL timer is a formality the guard ignores. */
    pinAddresses: assign({ ttlMs: MAX_TIMER_MS }),
    skipCandidate: assign(({ context }) => {
      const ha = current(context);
      return {
        index: context.index + 1,
        failure: `${ha?.name ?? `candidate ${context.index}`}: no AAAA or A address (AAAA: ${describeLookup(
          context.round.AAAA,
        )}, A: ${describeLookup(context.round.A)})`,
      };
    }),
    skipUnnamed: assign(({ context }) => ({
      index: context.index + 1,
      failure: `candidate ${context.index}: neither a name nor an address`,
    })),
    noCandidates: assign(({ context }) => ({
      pending: [],
      failure:
        context.candidates.length === 0
          ? 'no home agent candidates'
          : `no usable home agent among ${context.candidates.length} candidates; last: ${context.failure}`,
    })),
    srvFailed: assign(({ context, event }) => ({
      pending: [],
      failure:
        event.type === 'DNS.FAILURE'
          ? `${context.srvName} SRV: ${event.reason}`
          : `${context.srvName} SRV: no home agent targets`,
    })),
    allGaveUp: assign(({ context }) => ({
      pending: [],
      failure: `registration gave up with all ${context.candidates.length} home agents`,
    })),
    nextCandidate: assign(({ context }) => ({ index: context.index + 1, pending: [] })),
    /** Exponential backoff for DNS retries, capped (RFC 5026 §5.1 leaves the delay to configuration). */
    backOff: assign(({ context }) => ({ retryMs: Math.min(context.retryMs * 2, context.retryMaxMs) })),
    resetBackoff: assign(({ context }) => ({ retryMs: context.retryInitialMs })),
  },
  guards: {
    usesSrv: ({ context }) => context.source === 'srv',
    noCandidateLeft: ({ context }) => context.index >= context.candidates.length,
    hasAddress: ({ context }) => {
      const ha = current(context);
      return ha !== undefined && (ha.ipv6 !== null || ha.ipv4 !== null);
    },
    hasName: ({ context }) => current(context)?.name != null,
    isPendingQuery: ({ context, event }) =>
      (event.type === 'DNS.ANSWER' || event.type === 'DNS.FAILURE') &&
      isPending(context, event.name, event.rrType),
    srvHasTargets: ({ event }) => event.type === 'DNS.ANSWER' && orderSrvTargets(event.srv ?? []).length > 0,
    roundDone: ({ context }) => roundDone(context),
    /** An HA with only an A record is usable: an IPv4-only home agent (RFC 5555 §2.1). */
    roundFoundAddress: ({ context }) => roundUsable(context),
    /** RFC 1035 §3.2.1: the re-resolved answer differs from what we use: the supervisor must know. */
    roundChangedAddress: ({ context }) => {
      if (!roundUsable(context)) return false;
      const { ipv6, ipv4 } = mergedAddresses(context);
      const ha = current(context);
      return ipv6 !== ha?.ipv6 || ipv4 !== ha?.ipv4;
    },
    addressesFromDns: ({ context }) => current(context)?.fromDns === true,
    isLastCandidate: ({ context }) => context.index + 1 >= context.candidates.length,
  },
  delays: {
    /** Re-resolve the current HA when the smallest TTL of its answers runs out. */
    addressTtl: ({ context }) => context.ttlMs,
    dnsRetry: ({ context }) => context.retryMs,
    listRestart: ({ context }) => context.restartDelayMs,
  },
}).createMachine({
  id: 'haDiscovery',
  context: ({ input }) => {
    // Exactly one source is used, in this priority: configured list, HA name, SRV domain.
    const source = input.configured?.length
      ? 'configured'
      : input.haName
        ? 'name'
        : input.domain
          ? 'srv'
          : 'configured';
    const retryInitialMs = input.retryInitialMs ?? DNS_RETRY_INITIAL_MS;
    return {
      source,
      configured: (input.configured ?? []).map(toCandidate),
      haName: input.haName ? normalizeName(input.haName) : null,
      srvName: input.domain ? normalizeName(SRV_PREFIX + input.domain) : null,
      retryInitialMs,
      retryMaxMs: input.retryMaxMs ?? DNS_RETRY_MAX_MS,
      restartDelayMs: input.restartDelayMs ?? LIST_RESTART_DELAY_MS,
      candidates: [],
      index: 0,
      pending: [],
      round: PENDING_ROUND,
      ttlMs: MAX_TIMER_MS,
      retryMs: retryInitialMs,
      failure: '',
    } satisfies HaDiscoveryContext;
  },
  initial: 'starting',
  on: {
    RESTART: { target: '.starting', actions: 'resetBackoff' },
  },
  states: {
    /** A new pass over the candidates. */
    starting: {
      entry: 'beginPass',
      always: [{ guard: 'usesSrv', target: 'resolvingSrv' }, { target: 'selecting' }],
    },
    /** RFC 5026 §5.1: SRV query for `_mip6._ipv6.<domain>`. */
    resolvingSrv: {
      entry: ['askSrv', { type: 'resolve', params: ({ context }) => ({ queries: context.pending }) }],
      on: {
        'DNS.ANSWER': [
          { guard: not('isPendingQuery') },
          { guard: 'srvHasTargets', target: 'selecting', actions: 'adoptSrvTargets' },
          { target: 'waitingToRetry', actions: 'srvFailed' },
        ],
        'DNS.FAILURE': { guard: 'isPendingQuery', target: 'waitingToRetry', actions: 'srvFailed' },
      },
    },
    /** Decide what the current candidate needs; past the end of the list, the pass has failed. */
    selecting: {
      always: [
        { guard: 'noCandidateLeft', target: 'waitingToRetry', actions: 'noCandidates' },
        { guard: 'hasAddress', target: 'selected', actions: 'pinAddresses' },
        { guard: 'hasName', target: 'resolvingAddresses' },
        { target: 'selecting', reenter: true, actions: 'skipUnnamed' },
      ],
    },
    /** AAAA and A for the candidate's name (RFC 5026 §5.1, RFC 5555 §2.1). */
    resolvingAddresses: {
      entry: ['askAddresses', { type: 'resolve', params: addressQueries }],
      on: {
        'DNS.ANSWER': { guard: 'isPendingQuery', actions: 'recordAnswer' },
        'DNS.FAILURE': { guard: 'isPendingQuery', actions: 'recordFailure' },
      },
      always: [
        { guard: 'roundFoundAddress', target: 'selected', actions: 'adoptRound' },
        // Neither address: this HA cannot be reached; try the next one.
        { guard: 'roundDone', target: 'selecting', actions: 'skipCandidate' },
      ],
    },
    /** The current HA is chosen and reported; the supervisor registers with it. */
    selected: {
      entry: ['resetBackoff', { type: 'report', params: foundParams }],
      initial: 'current',
      on: {
        // RFC 6275 §11.8 / RFC 5026 §5.1: registration failed with this HA: try the next one,
        // and after the last one start the list over after a delay.
        'REGISTRATION.GAVE_UP': [
          { guard: 'isLastCandidate', target: 'waitingToRestart', actions: 'allGaveUp' },
          { target: 'selecting', actions: 'nextCandidate' },
        ],
      },
      states: {
        /** Addresses valid: from configuration (never expire) or from DNS within the TTL. */
        current: {
          after: {
            addressTtl: { guard: 'addressesFromDns', target: 'refreshing' },
          },
        },
        /** TTL ran out: resolve AAAA and A again; keep the HA (and its old addresses) meanwhile. */
        refreshing: {
          entry: ['askAddresses', { type: 'resolve', params: addressQueries }],
          on: {
            'DNS.ANSWER': { guard: 'isPendingQuery', actions: 'recordAnswer' },
            'DNS.FAILURE': { guard: 'isPendingQuery', actions: 'recordFailure' },
          },
          always: [
            {
              guard: 'roundChangedAddress',
              target: 'current',
              actions: ['adoptRound', { type: 'report', params: foundParams }],
            },
            { guard: 'roundFoundAddress', target: 'current', actions: 'adoptRound' },
            // Nothing usable came back: keep the addresses in use and try again later.
            { guard: 'roundDone', target: 'refreshBackoff' },
          ],
        },
        refreshBackoff: {
          after: { dnsRetry: { target: 'refreshing', actions: 'backOff' } },
        },
      },
    },
    /** DNS gave nothing usable this pass: report, then start over with a doubled delay. */
    waitingToRetry: {
      entry: {
        type: 'report',
        params: ({ context }) => ({
          type: 'DISCOVERY.FAILED',
          reason: context.failure,
          retryInMs: context.retryMs,
        }),
      },
      after: { dnsRetry: { target: 'starting', actions: 'backOff' } },
    },
    /** Every candidate was tried and gave up: start the list over after the restart delay. */
    waitingToRestart: {
      entry: {
        type: 'report',
        params: ({ context }) => ({
          type: 'DISCOVERY.FAILED',
          reason: context.failure,
          retryInMs: context.restartDelayMs,
        }),
      },
      after: { listRestart: { target: 'starting' } },
    },
  },
});

/* ------------------------------------------------------------------------------------------------
 * Test-generation model. Discovery through SRV (the input with the most states): two targets of
 * different priority, answers with an address, NODATA or a failure for each pending query, a
 * changed AAAA address during re-resolution, a stale answer, GAVE_UP and RESTART. The configured
 * list and the HA-name sources only take branches of `selecting`/`starting`; the hand-written
 * tests cover them.
 */

const MODEL_TTL_SECONDS = 300;
const MODEL_V6 = '2001:db8:1::1';
const MODEL_V6_RENUMBERED = '2001:db8:1::99';
const MODEL_V4 = '192.0.2.1';

function modelEvents(snapshot: {
  context: HaDiscoveryContext;
  matches: (v: 'selected') => boolean;
}): HaDiscoveryEvent[] {
  const out: HaDiscoveryEvent[] = [];
  const answer = (q: DnsQuery, extra: { addresses?: string[]; srv?: SrvRecord[] }): HaDiscoveryEvent => ({
    type: 'DNS.ANSWER',
    name: q.name,
    rrType: q.type,
    ttlSeconds: MODEL_TTL_SECONDS,
    ...extra,
  });
  for (const q of snapshot.context.pending) {
    out.push({ type: 'DNS.FAILURE', name: q.name, rrType: q.type, reason: 'timeout' });
    if (q.type === 'SRV') {
      out.push(
        answer(q, {
          srv: [
            { priority: 20, weight: 0, port: 500, target: 'ha2.example.net' },
            { priority: 10, weight: 10, port: 500, target: 'ha1.example.net' },
          ],
        }),
        answer(q, { srv: [{ priority: 0, weight: 0, port: 0, target: '.' }] }),
      );
    } else {
      out.push(answer(q, { addresses: [] }));
      out.push(answer(q, { addresses: [q.type === 'AAAA' ? MODEL_V6 : MODEL_V4] }));
      if (q.type === 'AAAA' && snapshot.matches('selected')) {
        out.push(answer(q, { addresses: [MODEL_V6_RENUMBERED] }));
      }
    }
  }
  out.push(
    { type: 'DNS.ANSWER', name: 'stale.example.net', rrType: 'AAAA', ttlSeconds: 60, addresses: [MODEL_V6] },
    { type: 'REGISTRATION.GAVE_UP' },
    { type: 'RESTART' },
  );
  return out;
}

export const haDiscoveryModel: MachineModel<typeof haDiscoveryMachine> = {
  name: 'haDiscovery',
  machine: haDiscoveryMachine,
  input: { domain: 'example.net' },
  // A configured list (addresses given, a name to resolve, an unusable entry) and an HA name show
  // the branches a domain alone cannot.
  moreInputs: [
    { configured: [{ ipv6: '2001:db8:1::1', ipv4: '198.51.100.1' }, { name: 'ha2.example.net' }, {}] },
    { haName: 'ha1.example.net' },
  ],
  events: (snapshot) => modelEvents(snapshot),
  serialize: (snapshot) => {
    const { context } = snapshot;
    const ha = context.candidates[context.index];
    const lookup = (r: LookupResult) => (r.status === 'answered' ? { a: r.address } : r.status);
    return JSON.stringify({
      value: snapshot.value,
      index: context.index,
      candidates: context.candidates.length,
      current: ha ? { ipv6: ha.ipv6, ipv4: ha.ipv4, fromDns: ha.fromDns } : null,
      pending: context.pending,
      // Guards read the round only while answers are outstanding; a finished one is history.
      round:
        context.pending.length > 0 ? { AAAA: lookup(context.round.AAAA), A: lookup(context.round.A) } : null,
    });
  },
};
