/**
 * Binding update list entry (RFC 6275 §11.7, RFC 5555 §4.4): one per home agent. It registers the
 * current care-of address, retransmits with exponential backoff, keeps sequence numbers, reads
 * every Binding Acknowledgement status, refreshes before the binding expires and deregisters on
 * return home. Sending a BU is the `sendBindingUpdate` action; what happened is told through
 * `report`. The actor layer provides both.
 */

import { and, assign, not, or, raise, setup, stateIn } from 'xstate';
import type { MachineModel } from '../testgen/model.js';

/** RFC 6275 §13: InitialBindackTimeoutFirstReg, leaves time for the HA's DAD. */
export const INITIAL_BINDACK_TIMEOUT_FIRST_REG_MS = 1_500;
/** RFC 6275 §12: INITIAL_BINDACK_TIMEOUT, when the HA already has a binding for us. */
export const INITIAL_BINDACK_TIMEOUT_MS = 1_000;
/** RFC 6275 §12: MAX_BINDACK_TIMEOUT; retransmissions continue at this period (§11.8). */
export const MAX_BINDACK_TIMEOUT_MS = 32_000;
/** RFC 6275 §12, §11.8: MAX_UPDATE_RATE, BUs to one node per second. */
export const MAX_UPDATE_RATE = 3;
export const RATE_WINDOW_MS = 1_000;
/**
 * RFC 6275 §11.7.1 leaves the refresh time to the MN; dsmip6 refreshes at 80% of the granted
 * lifetime, or at the HA's Binding Refresh Advice when that comes sooner (§6.2.4).
 */
export const REFRESH_FRACTION = 0.8;
/** Largest lifetime a BU can carry: 0xFFFF units of 4 s (RFC 6275 §6.1.7). */
export const MAX_LIFETIME_SECONDS = 262_140;
/** BA status codes this machine tells apart (RFC 6275 §6.1.8; RFC 5555 §4.4.2 for 144). */
const STATUS = {
  sequenceOutOfWindow: 135,
  duplicateAddressDetectionFailed: 134,
  notHomeAgentForThisMn: 133,
  forceUdpRefused: 144,
} as const;

export type Attachment = 'home' | 'ipv6' | 'ipv4';

export interface BindingUpdateInput {
  /** Names the HA in reports and systemIds (`mn/bul/<haName>`). */
  readonly haName: string;
  readonly homeAddress: string;
  /** Where to start the sequence; the caller draws it at random (RFC 6275 §11.7.1). */
  readonly initialSequence: number;
  readonly lifetimeSeconds: number;
  /** Request an IPv4 home address: a static one, or '0.0.0.0' for a dynamic one (RFC 5555 §2.5). */
  readonly ipv4HomeAddress?: string;
  /** Set the F flag: force UDP encapsulation (RFC 5555 §3.1.3). */
  readonly forceUdp?: boolean;
  readonly initialTimeoutFirstRegMs?: number;
}

export interface Ipv4AckSummary {
  readonly status: number;
  readonly address: string;
  readonly prefixLength: number;
}

export interface NatDetectionSummary {
  readonly forceUdp: boolean;
  readonly refreshSeconds: number;
}

export type BindingUpdateEvent =
  /** The movement detector chose a care-of address (home: deregister). */
  | { type: 'MOVED'; attachment: Attachment; coa: string }
  /** No usable link: stop sending until the next MOVED. */
  | { type: 'DETACHED' }
  /** An authenticated Binding Acknowledgement from this HA, decoded. */
  | {
      type: 'BA';
      status: number;
      sequence: number;
      lifetimeSeconds: number;
      refreshAdviceSeconds?: number;
      ipv4Ack?: Ipv4AckSummary;
      natDetection?: NatDetectionSummary;
      /**
       * Milliseconds since the BU this BA answers was sent, as the actor layer measured it. RFC 6275
       * §11.7.3 counts the granted lifetime from the BU's sending, not from the BA's arrival.
       */
      roundTripMs?: number;
    }
  /** Binding Refresh Request (RFC 6275 §11.7.4), or a NAT keepalive that is due (RFC 5555 §4.3). */
  | { type: 'REFRESH' }
  /** Binding Error from the HA; status 1 means it has no binding for us (RFC 6275 §11.3.6). */
  | { type: 'BE'; status: number }
  /** Leave the failed state (operator or supervisor decision). */
  | { type: 'RETRY' }
  /** The mobile node is stopping: delete the binding from where we are (lifetime 0, RFC 6275 §6.1.7). */
  | { type: 'SHUTDOWN' }
  /** Internal: a BU should go out now, subject to the rate limit. */
  | { type: 'XMIT' };

export interface SendBindingUpdateParams {
  readonly haName: string;
  readonly sequence: number;
  readonly lifetimeSeconds: number;
  readonly attachment: Attachment;
  /** IPv6 or IPv4 care-of address; the home address when deregistering at home. */
  readonly careOf: string;
  readonly homeAddress: string;
  /** IPv4 Home Address option to include (RFC 5555 §4.4.2), if any. */
  readonly ipv4HomeAddress?: string;
  readonly forceUdp: boolean;
}

export type Ipv4Status = 'not-requested' | 'requested' | 'assigned' | 'refused' | 'unsupported';

export type BindingUpdateReport =
  | {
      type: 'BUL.REGISTERED';
      haName: string;
      careOf: string;
      attachment: Attachment;
      lifetimeSeconds: number;
      ipv4: { status: Ipv4Status; address?: string; ackStatus?: number };
      natDetection?: NatDetectionSummary;
    }
  | { type: 'BUL.UNANSWERED'; haName: string; careOf: string; attempts: number }
  | { type: 'BUL.GAVE_UP'; haName: string; careOf: string }
  | { type: 'BUL.FAILED'; haName: string; status: number; reason: string }
  | { type: 'BUL.EXPIRED'; haName: string }
  | { type: 'BUL.DEREGISTERED'; haName: string; acknowledged: boolean };

export interface BindingUpdateContext {
  readonly haName: string;
  readonly homeAddress: string;
  readonly requestedLifetimeSeconds: number;
  readonly firstRegTimeoutMs: number;
  /** Last sequence number sent (the next BU uses the following value, modulo 2^16). */
  sequence: number;
  attachment: Attachment | null;
  careOf: string | null;
  /** The HA holds a binding for us (decides the first retransmission timeout). */
  haHasBinding: boolean;
  backoffMs: number;
  /** BUs sent for the current care-of address without an answer. */
  attempts: number;
  grantedLifetimeSeconds: number;
  refreshMs: number;
  /** Part of the granted lifetime already gone when the BA arrived (its round trip, §11.7.3). */
  lifetimeElapsedMs: number;
  forceUdp: boolean;
  ipv4: { request: string | null; status: Ipv4Status; address?: string; ackStatus?: number };
  natDetection: NatDetectionSummary | null;
  /** BUs sent in the last RATE_WINDOW_MS (busy rate slots), and whether one is waiting for a slot. */
  sentInWindow: number;
  pendingSend: boolean;
  lastFailure: { status: number; reason: string } | null;
  /** Shutting down: BUs carry lifetime 0 from the current care-of address. */
  leaving: boolean;
}

type BaEvent = Extract<BindingUpdateEvent, { type: 'BA' }>;

const nextSequence = (s: number): number => (s + 1) & 0xffff;
const roundLifetime = (s: number): number =>
  Math.min(MAX_LIFETIME_SECONDS, Math.max(0, Math.floor(s / 4) * 4));

function failureReason(status: number): string {
  switch (status) {
    case 129:
      return 'administratively prohibited';
    case 130:
      return 'insufficient resources';
    case 131:
      return 'home registration not supported';
    case 132:
      return 'not home subnet';
    case 133:
      return 'not home agent for this mobile node';
    case 134:
      return 'duplicate address detection failed; stop using this home address';
    case 144:
      return 'home agent refused forced UDP encapsulation';
    default:
      return 'reason unspecified';
  }
}

/** The refresh delay for a granted lifetime and optional Binding Refresh Advice. */
export function refreshDelayMs(grantedSeconds: number, adviceSeconds?: number): number {
  const byFraction = Math.floor(grantedSeconds * REFRESH_FRACTION * 1000);
  if (adviceSeconds !== undefined && adviceSeconds > 0 && adviceSeconds < grantedSeconds) {
    return Math.min(byFraction, adviceSeconds * 1000);
  }
  return byFraction;
}

/* Parameters of the effects, computed from the context when the action runs. */
const emitBuParams = ({ context }: { context: BindingUpdateContext }): SendBindingUpdateParams => {
  const home = context.attachment === 'home';
  const deleting = home || context.leaving;
  const ipv4 = !deleting && context.ipv4.request !== null && context.ipv4.status !== 'unsupported';
  return {
    haName: context.haName,
    sequence: context.sequence,
    lifetimeSeconds: deleting ? 0 : context.requestedLifetimeSeconds,
    attachment: context.attachment ?? 'ipv6',
    careOf: home ? context.homeAddress : (context.careOf ?? context.homeAddress),
    homeAddress: context.homeAddress,
    ...(ipv4 ? { ipv4HomeAddress: context.ipv4.request ?? undefined } : {}),
    // RFC 5555 §3.1.3: F SHOULD NOT be set with an IPv6 care-of address.
    forceUdp: context.forceUdp && context.attachment === 'ipv4',
  };
};

const reportRegisteredParams = ({ context }: { context: BindingUpdateContext }): BindingUpdateReport => ({
  type: 'BUL.REGISTERED',
  haName: context.haName,
  careOf: context.careOf ?? context.homeAddress,
  attachment: context.attachment ?? 'ipv6',
  lifetimeSeconds: context.grantedLifetimeSeconds,
  ipv4: {
    status: context.ipv4.status,
    ...(context.ipv4.address ? { address: context.ipv4.address } : {}),
    ...(context.ipv4.ackStatus !== undefined ? { ackStatus: context.ipv4.ackStatus } : {}),
  },
  ...(context.natDetection ? { natDetection: context.natDetection } : {}),
});

const reportUnansweredParams = ({ context }: { context: BindingUpdateContext }): BindingUpdateReport => ({
  type: 'BUL.UNANSWERED',
  haName: context.haName,
  careOf: context.careOf ?? '',
  attempts: context.attempts,
});

const reportGaveUpParams = ({ context }: { context: BindingUpdateContext }): BindingUpdateReport => ({
  type: 'BUL.GAVE_UP',
  haName: context.haName,
  careOf: context.careOf ?? '',
});

const reportFailureParams = ({ context }: { context: BindingUpdateContext }): BindingUpdateReport => ({
  type: 'BUL.FAILED',
  haName: context.haName,
  status: context.lastFailure?.status ?? 128,
  reason: context.lastFailure?.reason ?? 'reason unspecified',
});

const reportExpiredParams = ({ context }: { context: BindingUpdateContext }): BindingUpdateReport => ({
  type: 'BUL.EXPIRED',
  haName: context.haName,
});

/** One of the MAX_UPDATE_RATE send slots of the §11.8 rate limit (see `rateLimit`). */
function rateSlot(takes: 'rateAllows' | 'slot2Next' | 'slot3Next') {
  const send = ['transmit', { type: 'sendBindingUpdate', params: emitBuParams }] as const;
  return {
    initial: 'free',
    states: {
      free: {
        on: { XMIT: { guard: takes, target: 'busy', actions: ['takeSlot', ...send] } },
      },
      busy: {
        after: {
          rateWindow: [
            // A BU waited for a slot: it goes out now and holds this slot for the next window.
            { guard: 'hasPending', target: 'busy', reenter: true, actions: [...send] },
            { target: 'free', actions: 'releaseSlot' },
          ],
        },
      },
    },
  } as const;
}

export const bindingUpdateMachine = setup({
  types: {
    context: {} as BindingUpdateContext,
    events: {} as BindingUpdateEvent,
    input: {} as BindingUpdateInput,
  },
  actions: {
    sendBindingUpdate: (_, _params: SendBindingUpdateParams) => {},
    report: (_, _params: BindingUpdateReport) => {},
    /** A new care-of address: backoff starts over (first-registration timeout if unbound). */
    startRegistration: assign(({ context, event }) => {
      const moved = event.type === 'MOVED' ? event : null;
      return {
        attachment: moved ? moved.attachment : context.attachment,
        careOf: moved ? moved.coa : context.careOf,
        // A move after a shutdown deregistration registers again, with a real lifetime.
        leaving: moved ? false : context.leaving,
        attempts: 0,
        backoffMs: context.haHasBinding ? INITIAL_BINDACK_TIMEOUT_MS : context.firstRegTimeoutMs,
      };
    }),
    /** RFC 6275 §11.8: the timeout doubles up to MAX_BINDACK_TIMEOUT. */
    backOff: assign({ backoffMs: ({ context }) => Math.min(context.backoffMs * 2, MAX_BINDACK_TIMEOUT_MS) }),
    requestBu: raise({ type: 'XMIT' }),
    /** Every BU, retransmissions included, takes a new, larger sequence number (§11.7.1). */
    transmit: assign(({ context }) => ({
      sequence: nextSequence(context.sequence),
      pendingSend: false,
      attempts: context.attempts + 1,
    })),
    /** §11.8 rate limit: a BU holds one of MAX_UPDATE_RATE slots for RATE_WINDOW_MS. */
    takeSlot: assign({ sentInWindow: ({ context }) => context.sentInWindow + 1 }),
    releaseSlot: assign({ sentInWindow: ({ context }) => Math.max(0, context.sentInWindow - 1) }),
    deferBu: assign({ pendingSend: true }),
    /** Nothing to send any more (detached, failed, home): a BU waiting for a slot is dropped. */
    cancelPendingBu: assign({ pendingSend: false }),
    /** §11.7.3: after an authenticated 135, continue from the HA's last accepted number. */
    resynchronise: assign({ sequence: ({ event }) => (event as BaEvent).sequence }),
    acceptBinding: assign(({ context, event }) => {
      const ba = event as BaEvent;
      const ipv4 = { ...context.ipv4 };
      if (context.ipv4.request !== null && context.ipv4.status !== 'unsupported') {
        if (!ba.ipv4Ack) {
          // RFC 5555 §2.3.1: no IPv4 Address Ack means this HA does not support it; stop asking.
          ipv4.status = 'unsupported';
          delete ipv4.address;
        } else if (ba.ipv4Ack.status < 128) {
          ipv4.status = 'assigned';
          ipv4.address = ba.ipv4Ack.address;
          // RFC 5555 §3.1.1: later BUs carry the address that was assigned, not 0.0.0.0 again.
          ipv4.request = ba.ipv4Ack.address;
          ipv4.ackStatus = ba.ipv4Ack.status;
        } else {
          // RFC 5555 §4.4.2: no IPv4 binding; the request may be repeated in later BUs.
          ipv4.status = 'refused';
          ipv4.ackStatus = ba.ipv4Ack.status;
          delete ipv4.address;
        }
      }
      const granted = roundLifetime(ba.lifetimeSeconds);
      return {
        haHasBinding: true,
        attempts: 0,
        grantedLifetimeSeconds: granted,
        refreshMs: refreshDelayMs(granted, ba.refreshAdviceSeconds),
        lifetimeElapsedMs: Math.max(0, ba.roundTripMs ?? 0),
        ipv4,
        natDetection: ba.natDetection ?? null,
        lastFailure: null,
      };
    }),
    recordFailure: assign({
      lastFailure: ({ event }) => {
        const status = event.type === 'BA' ? event.status : 0;
        // An accepted status with lifetime 0 (`grantsNoTime`) is a failure too: no binding exists.
        return { status, reason: status < 128 ? 'granted lifetime 0' : failureReason(status) };
      },
      haHasBinding: false,
    }),
    dropForceUdp: assign({ forceUdp: false }),
    forgetBinding: assign({ haHasBinding: false, natDetection: null }),
  },
  guards: {
    /**
     * §11.7.3: a BA answers the BU in flight only with the same sequence number. While a newer BU
     * waits for the rate limit, the BU in flight is superseded (it may name an older care-of
     * address), so its BA is ignored and the waiting BU gets its own answer.
     */
    answersLastBu: ({ context, event }) =>
      event.type === 'BA' && event.sequence === context.sequence && !context.pendingSend,
    isOutOfWindow: ({ event }) => event.type === 'BA' && event.status === STATUS.sequenceOutOfWindow,
    isAccepted: ({ event }) => event.type === 'BA' && event.status < 128,
    grantsNoTime: ({ event }) =>
      event.type === 'BA' && event.status < 128 && roundLifetime(event.lifetimeSeconds) === 0,
    /** RFC 5555 §4.4.2: the HA refused F; the MN may try again without it. */
    forceUdpRefused: ({ context, event }) =>
      event.type === 'BA' && event.status === STATUS.forceUdpRefused && context.forceUdp,
    isRejected: ({ event }) => event.type === 'BA' && event.status >= 128,
    /** §10.3.2: 133 to a deregistration means the HA had no binding: we are deregistered all the same. */
    deregistrationAccepted: ({ event }) =>
      event.type === 'BA' && (event.status < 128 || event.status === STATUS.notHomeAgentForThisMn),
    movedHome: ({ event }) => event.type === 'MOVED' && event.attachment === 'home',
    movedAway: ({ event }) => event.type === 'MOVED' && event.attachment !== 'home',
    /** A MOVED to the address already registered changes nothing. */
    sameCareOf: ({ context, event }) =>
      event.type === 'MOVED' && event.coa === context.careOf && event.attachment === context.attachment,
    rateAllows: ({ context }) => context.sentInWindow < MAX_UPDATE_RATE,
    /** Slot n takes a BU only when the slots before it are all busy, so exactly one slot takes it. */
    slot2Next: stateIn('#bindingUpdate.rateLimit.slot1.busy'),
    slot3Next: and([
      stateIn('#bindingUpdate.rateLimit.slot1.busy'),
      stateIn('#bindingUpdate.rateLimit.slot2.busy'),
    ]),
    hasPending: ({ context }) => context.pendingSend,
    backoffAtMax: ({ context }) => context.backoffMs >= MAX_BINDACK_TIMEOUT_MS,
    backoffReachesMax: ({ context }) => context.backoffMs * 2 >= MAX_BINDACK_TIMEOUT_MS,
    haHasBinding: ({ context }) => context.haHasBinding,
    noBindingAtHa: ({ event }) => event.type === 'BE' && event.status === 1,
  },
  delays: {
    retransmit: ({ context }) => context.backoffMs,
    refreshDue: ({ context }) => Math.max(0, context.refreshMs - context.lifetimeElapsedMs),
    /** The binding expires at the HA when the granted lifetime runs out without a refresh. */
    bindingLifetime: ({ context }) =>
      Math.max(0, context.grantedLifetimeSeconds * 1000 - context.lifetimeElapsedMs),
    rateWindow: RATE_WINDOW_MS,
  },
}).createMachine({
  id: 'bindingUpdate',
  type: 'parallel',
  context: ({ input }) => ({
    haName: input.haName,
    homeAddress: input.homeAddress,
    requestedLifetimeSeconds: roundLifetime(input.lifetimeSeconds),
    firstRegTimeoutMs: input.initialTimeoutFirstRegMs ?? INITIAL_BINDACK_TIMEOUT_FIRST_REG_MS,
    // The first BU carries initialSequence; store one less so `transmit` always increments.
    sequence: (input.initialSequence - 1) & 0xffff,
    attachment: null,
    careOf: null,
    haHasBinding: false,
    backoffMs: input.initialTimeoutFirstRegMs ?? INITIAL_BINDACK_TIMEOUT_FIRST_REG_MS,
    attempts: 0,
    grantedLifetimeSeconds: 0,
    refreshMs: 0,
    lifetimeElapsedMs: 0,
    forceUdp: input.forceUdp ?? false,
    ipv4: {
      request: input.ipv4HomeAddress ?? null,
      status: input.ipv4HomeAddress ? 'requested' : 'not-requested',
    },
    natDetection: null,
    sentInWindow: 0,
    pendingSend: false,
    lastFailure: null,
    leaving: false,
  }),
  states: {
    registration: {
      initial: 'idle',
      on: {
        DETACHED: { target: '.idle' },
        SHUTDOWN: [
          {
            guard: 'haHasBinding',
            target: '.deregistering',
            actions: [assign({ leaving: true }), 'startRegistration'],
          },
          { target: '.home' },
        ],
      },
      states: {
        /** No care-of address yet, or detached. */
        idle: {
          entry: 'cancelPendingBu',
          on: {
            MOVED: [
              // Home with a binding still at the HA (we were detached): deregister it (§11.5.5).
              {
                guard: and(['movedHome', 'haHasBinding']),
                target: 'deregistering',
                actions: 'startRegistration',
              },
              { guard: 'movedHome', target: 'home' },
              { target: 'registering', actions: 'startRegistration' },
            ],
          },
        },
        /** A BU is in flight and we hold no accepted binding (§11.7.1, §11.8). */
        registering: {
          entry: 'requestBu',
          after: {
            retransmit: [
              // §11.8: keep retransmitting at MAX_BINDACK_TIMEOUT until answered or moved.
              {
                guard: 'backoffAtMax',
                target: 'registering',
                reenter: true,
                actions: { type: 'report', params: reportUnansweredParams },
              },
              // Reaching the maximum: the MN SHOULD try another HA (§11.8); the supervisor decides.
              {
                guard: 'backoffReachesMax',
                target: 'registering',
                reenter: true,
                actions: [
                  { type: 'report', params: reportUnansweredParams },
                  'backOff',
                  { type: 'report', params: reportGaveUpParams },
                ],
              },
              {
                target: 'registering',
                reenter: true,
                actions: [{ type: 'report', params: reportUnansweredParams }, 'backOff'],
              },
            ],
          },
          on: {
            BA: [
              // §11.7.3: an authenticated 135 resynchronises whatever its sequence number.
              { guard: 'isOutOfWindow', target: 'registering', reenter: true, actions: 'resynchronise' },
              { guard: not('answersLastBu') },
              { guard: 'forceUdpRefused', target: 'registering', reenter: true, actions: 'dropForceUdp' },
              {
                guard: or(['isRejected', 'grantsNoTime']),
                target: 'failed',
                actions: ['recordFailure', { type: 'report', params: reportFailureParams }],
              },
              { target: 'bound', actions: 'acceptBinding' },
            ],
            MOVED: [
              { guard: 'movedHome', target: 'deregistering', actions: 'startRegistration' },
              { guard: 'sameCareOf' },
              { target: 'registering', reenter: true, actions: 'startRegistration' },
            ],
          },
        },
        /** The HA has accepted our binding: refresh before it runs out (§11.7.1). */
        bound: {
          initial: 'registered',
          entry: { type: 'report', params: reportRegisteredParams },
          after: {
            bindingLifetime: {
              target: 'registering',
              actions: [
                'forgetBinding',
                'startRegistration',
                { type: 'report', params: reportExpiredParams },
              ],
            },
          },
          on: {
            MOVED: [
              { guard: 'movedHome', target: 'deregistering', actions: 'startRegistration' },
              { guard: 'sameCareOf' },
              { target: 'registering', actions: 'startRegistration' },
            ],
            // §11.3.6: the HA says it has no binding for us: register again at once.
            BE: {
              guard: 'noBindingAtHa',
              target: 'registering',
              actions: ['forgetBinding', 'startRegistration'],
            },
          },
          states: {
            registered: {
              after: { refreshDue: { target: 'refreshing', actions: 'startRegistration' } },
              on: { REFRESH: { target: 'refreshing', actions: 'startRegistration' } },
            },
            /** A refresh BU is in flight; the old binding stays valid until its lifetime ends. */
            refreshing: {
              entry: 'requestBu',
              after: { retransmit: { target: 'refreshing', reenter: true, actions: 'backOff' } },
              on: {
                BA: [
                  { guard: 'isOutOfWindow', target: 'refreshing', reenter: true, actions: 'resynchronise' },
                  { guard: not('answersLastBu') },
                  { guard: 'forceUdpRefused', target: 'refreshing', reenter: true, actions: 'dropForceUdp' },
                  {
                    guard: or(['isRejected', 'grantsNoTime']),
                    target: '#bindingUpdate.registration.failed',
                    actions: ['recordFailure', { type: 'report', params: reportFailureParams }],
                  },
                  { target: '#bindingUpdate.registration.bound', reenter: true, actions: 'acceptBinding' },
                ],
              },
            },
          },
        },
        /** Returning home: BU with lifetime 0 from the home address (§11.5.5). */
        deregistering: {
          entry: 'requestBu',
          after: {
            retransmit: [
              {
                guard: 'backoffAtMax',
                target: 'home',
                actions: [
                  'forgetBinding',
                  {
                    type: 'report',
                    params: ({ context }) => ({
                      type: 'BUL.DEREGISTERED',
                      haName: context.haName,
                      acknowledged: false,
                    }),
                  },
                ],
              },
              { target: 'deregistering', reenter: true, actions: 'backOff' },
            ],
          },
          on: {
            BA: [
              { guard: 'isOutOfWindow', target: 'deregistering', reenter: true, actions: 'resynchronise' },
              { guard: not('answersLastBu') },
              {
                target: 'home',
                actions: [
                  'forgetBinding',
                  {
                    type: 'report',
                    params: ({ context, event }) => ({
                      type: 'BUL.DEREGISTERED',
                      haName: context.haName,
                      acknowledged: event.type === 'BA' && (event.status < 128 || event.status === 133),
                    }),
                  },
                ],
              },
            ],
            MOVED: { guard: 'movedAway', target: 'registering', actions: 'startRegistration' },
          },
        },
        /** At home with no binding at the HA. */
        home: {
          entry: 'cancelPendingBu',
          on: {
            MOVED: { guard: 'movedAway', target: 'registering', actions: 'startRegistration' },
          },
        },
        /** The HA rejected the registration (§11.7.3): no more BUs until we move or are told to retry. */
        failed: {
          entry: 'cancelPendingBu',
          on: {
            MOVED: [
              { guard: 'movedHome', target: 'home' },
              { target: 'registering', actions: 'startRegistration' },
            ],
            RETRY: { target: 'registering', actions: 'startRegistration' },
          },
        },
      },
    },
    /**
     * RFC 6275 §11.8: the MN MUST NOT send more than MAX_UPDATE_RATE BUs to the HA "within a
     * second", in any second (a sliding window, not fixed windows). Each BU sent holds one of
     * MAX_UPDATE_RATE slots for RATE_WINDOW_MS; a BU requested while every slot is busy waits
     * (requests coalesce: the BU sent describes the latest care-of address) and goes out in the
     * first slot to free.
     */
    rateLimit: {
      type: 'parallel',
      on: {
        // Every slot busy (each slot's free state has no XMIT then): wait for one to free.
        XMIT: { guard: not('rateAllows'), actions: 'deferBu' },
      },
      states: {
        slot1: rateSlot('rateAllows'),
        slot2: rateSlot('slot2Next'),
        slot3: rateSlot('slot3Next'),
      },
    },
  },
});

const HOME = '2001:db8:1::100';
const COA_A = '2001:db8:20::10';
const COA_B = '2001:db8:30::10';
const COA_4 = '203.0.113.10';

/**
 * Test model: two IPv6 care-of addresses (to tell "same CoA" from "new CoA"), one IPv4 one, and
 * home; BAs that answer the BU in flight with each status class, plus a stale one and a 135.
 */
export const bindingUpdateModel: MachineModel<typeof bindingUpdateMachine> = {
  name: 'bindingUpdate',
  machine: bindingUpdateMachine,
  input: {
    haName: 'ha1',
    homeAddress: HOME,
    initialSequence: 65_534, // so generated paths cross the 2^16 wrap
    lifetimeSeconds: 400,
    ipv4HomeAddress: '0.0.0.0',
    forceUdp: true,
  },
  events: ({ context }) => {
    const seq = context.sequence;
    const ba = (status: number, extra: Partial<Extract<BindingUpdateEvent, { type: 'BA' }>> = {}) => ({
      type: 'BA' as const,
      status,
      sequence: seq,
      lifetimeSeconds: 400,
      ...extra,
    });
    return [
      { type: 'MOVED', attachment: 'ipv6', coa: COA_A },
      { type: 'MOVED', attachment: 'ipv6', coa: COA_B },
      { type: 'MOVED', attachment: 'ipv4', coa: COA_4 },
      { type: 'MOVED', attachment: 'home', coa: HOME },
      { type: 'DETACHED' },
      ba(0, {
        refreshAdviceSeconds: 200,
        ipv4Ack: { status: 0, address: '192.0.2.100', prefixLength: 32 },
        natDetection: { forceUdp: false, refreshSeconds: 110 },
      }),
      ba(0),
      ba(0, { ipv4Ack: { status: 132, address: '0.0.0.0', prefixLength: 0 } }),
      ba(0, { lifetimeSeconds: 0 }),
      ba(135, { sequence: (seq + 1000) & 0xffff }),
      ba(129),
      ba(133),
      ba(144),
      ba(0, { sequence: (seq - 1) & 0xffff }), // stale: answers an earlier retransmission
      { type: 'REFRESH' },
      { type: 'BE', status: 1 },
      { type: 'RETRY' },
      { type: 'SHUTDOWN' },
    ];
  },
  serialize: (s) => {
    const c = s.context;
    return JSON.stringify([
      s.value,
      c.careOf,
      c.haHasBinding,
      c.backoffMs, // 1000 or 1500 times a power of two up to 32000: finite
      c.forceUdp,
      c.pendingSend, // (the busy rate-limit slots are in the state value)
      c.leaving,
    ]);
  },
};
