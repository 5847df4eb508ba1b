/**
 * NAT keepalive for one home agent (RFC 5555 §4.3), on the mobile node. While the last Binding
 * Acknowledgement from the HA said a NAT is in the path (NAT Detection option, RFC 5555 §3.2.2),
 * the MN must keep the NAT's UDP mapping alive, and the keepalive is a BU/BA exchange. This
 * machine only keeps time: each time a keepalive is due it reports `KEEPALIVE.DUE`, and the
 * supervisor asks the binding update list entry for a BU (its `REFRESH` event). Every BA, keepalive
 * or not, refreshes the mapping, so every BA restarts the period.
 */

import { assign, setup } from 'xstate';
import type { MachineModel } from '../testgen/model.js';
import { NATD_REFRESH_NOT_NEEDED } from '../wire/constants.js';

/** RFC 5555 §6: NATKATIMEOUT, the default NAT keepalive period (110 s). */
export const NATKATIMEOUT_SECONDS = 110;
/** RFC 5555 §3.2.2: a Refresh time of 0 means "ignore this field" (use the default). */
export const NATD_REFRESH_IGNORE = 0;
/** RFC 5555 §3.2.2: a Refresh time of all ones means "no NAT, keepalives not needed". */
export { NATD_REFRESH_NOT_NEEDED };
/**
 * Largest delay a JavaScript timer can hold (2^31 - 1 ms, about 24.8 days); a larger value fires
 * at once in Node. A Refresh time above this (up to 2^32 - 2 s) is clamped: one early keepalive is
 * harmless, one that fires in a loop is not.
 */
export const MAX_TIMER_MS = 2_147_483_647;

export type NatAttachment = 'home' | 'ipv6' | 'ipv4';

/** NAT Detection option as decoded from a BA (RFC 5555 §3.2.2). */
export interface NatDetection {
  /** F flag: UDP encapsulation is mandatory even without a NAT. */
  readonly forceUdp: boolean;
  /** Refresh time in seconds: 0 = ignore, 0xFFFFFFFF = keepalives not needed. */
  readonly refreshSeconds: number;
}

export interface NatKeepaliveInput {
  /** The MN's own default period when the HA suggests none (default NATKATIMEOUT, 110 s). */
  readonly defaultRefreshSeconds?: number;
}

export type NatKeepaliveEvent =
  /** Every accepted BA from this HA, with or without the NAT Detection option. */
  | { type: 'BA'; natDetection?: NatDetection }
  /** The movement detector's verdict; home and IPv6 attachments have no IPv4 NAT to keep open. */
  | { type: 'MOVED'; attachment: NatAttachment };

export type NatKeepaliveReport = { type: 'KEEPALIVE.DUE' };

export interface NatKeepaliveContext {
  readonly defaultRefreshSeconds: number;
  /**
   * The HA's Refresh time as this machine reads it: the keepalive period in seconds while
   * keepalives run (the HA's value, or the default when it gave none or 0); 0xFFFFFFFF when the
   * HA said keepalives are not needed; the default while inactive.
   */
  refreshSeconds: number;
  /** The last BA's F flag: UDP encapsulation is mandatory (RFC 5555 §3.2.2). */
  forceUdp: boolean;
}

type BaEvent = Extract<NatKeepaliveEvent, { type: 'BA' }>;

/** The keepalive period for a Refresh time: 0 means "ignore" → our default (RFC 5555 §3.2.2, §4.3). */
function periodSeconds(refreshSeconds: number, defaultSeconds: number): number {
  return refreshSeconds === NATD_REFRESH_IGNORE ? defaultSeconds : refreshSeconds;
}

export const natKeepaliveMachine = setup({
  types: {
    context: {} as NatKeepaliveContext,
    events: {} as NatKeepaliveEvent,
    input: {} as NatKeepaliveInput,
  },
  actions: {
    report: (_, _params: NatKeepaliveReport) => {},
    /** Remember what the HA said in the NAT Detection option of this BA. */
    recordNatDetection: assign(({ context, event }) => {
      const natd = (event as BaEvent).natDetection;
      if (!natd) return { refreshSeconds: context.defaultRefreshSeconds, forceUdp: false };
      return {
        refreshSeconds: periodSeconds(natd.refreshSeconds, context.defaultRefreshSeconds),
        forceUdp: natd.forceUdp,
      };
    }),
    forgetNatDetection: assign(({ context }) => ({
      refreshSeconds: context.defaultRefreshSeconds,
      forceUdp: false,
    })),
  },
  guards: {
    /**
     * RFC 5555 §4.3: a NAT Detection option with a Refresh time other than all ones means a NAT
     * is in the path, so the MN keeps the mapping open (the F flag does not change that).
     */
    natInPath: ({ event }) =>
      event.type === 'BA' &&
      event.natDetection !== undefined &&
      event.natDetection.refreshSeconds !== NATD_REFRESH_NOT_NEEDED,
    /**
     * RFC 5555 §3.2.2: Refresh time all ones = no NAT, keepalives not needed; with F set UDP
     * encapsulation stays mandatory all the same.
     */
    udpForcedWithoutNat: ({ event }) =>
      event.type === 'BA' &&
      event.natDetection !== undefined &&
      event.natDetection.refreshSeconds === NATD_REFRESH_NOT_NEEDED &&
      event.natDetection.forceUdp,
    /** Home or IPv6 attachment: no IPv4 NAT mapping to keep (RFC 5555 §4.3 covers IPv4 only). */
    leftIpv4: ({ event }) => event.type === 'MOVED' && event.attachment !== 'ipv4',
  },
  delays: {
    /** RFC 5555 §4.3: the MN re-sends the BU every refresh time to keep the NAT mapping. */
    natKeepalive: ({ context }) => Math.min(context.refreshSeconds * 1000, MAX_TIMER_MS),
  },
}).createMachine({
  id: 'natKeepalive',
  context: ({ input }) => {
    const defaultRefreshSeconds = input.defaultRefreshSeconds ?? NATKATIMEOUT_SECONDS;
    return { defaultRefreshSeconds, refreshSeconds: defaultRefreshSeconds, forceUdp: false };
  },
  initial: 'inactive',
  states: {
    /** No NAT reported by the last BA (or none yet), or the MN is home or on IPv6: nothing to do. */
    inactive: {
      on: {
        BA: [
          { guard: 'natInPath', target: 'active.keeping', actions: 'recordNatDetection' },
          { guard: 'udpForcedWithoutNat', target: 'active.notNeeded', actions: 'recordNatDetection' },
          // A BA without the option, or with all ones and no F: still no NAT.
        ],
      },
    },
    /** The last BA carried a NAT Detection option that calls for UDP encapsulation. */
    active: {
      // Entered only through explicit targets; `keeping` is the usual case.
      initial: 'keeping',
      on: {
        BA: [
          // RFC 5555 §4.3: this BU/BA exchange refreshed the mapping: the period starts over
          // (`keeping` is exited and entered again, which re-arms its timer).
          { guard: 'natInPath', target: '.keeping', reenter: true, actions: 'recordNatDetection' },
          {
            guard: 'udpForcedWithoutNat',
            target: '.notNeeded',
            reenter: true,
            actions: 'recordNatDetection',
          },
          // The HA no longer reports a NAT (no option, or all ones without F).
          { target: 'inactive', actions: 'forgetNatDetection' },
        ],
        // Moving to another IPv4 network keeps the state: the next BA (sent from the new care-of
        // address) says whether there is a NAT there.
        MOVED: { guard: 'leftIpv4', target: 'inactive', actions: 'forgetNatDetection' },
      },
      states: {
        /** A NAT is in the path: a keepalive BU is due every refresh time (RFC 5555 §4.3). */
        keeping: {
          after: {
            natKeepalive: {
              target: 'keeping',
              reenter: true,
              actions: { type: 'report', params: { type: 'KEEPALIVE.DUE' } },
            },
          },
        },
        /**
         * No NAT (Refresh time all ones) but the HA set F: UDP encapsulation is mandatory
         * (context.forceUdp), keepalives are not needed (RFC 5555 §3.2.2).
         */
        notNeeded: {},
      },
    },
  },
});

/* ------------------------------------------------------------------------------------------------
 * Test-generation model. The payload variants are the ones the guards tell apart: no option, a NAT
 * with the default (0 = ignore) or an explicit refresh time, all ones with and without F, and F
 * with a NAT. Moves to each attachment.
 */

const BA_VARIANTS: NatKeepaliveEvent[] = [
  { type: 'BA' },
  { type: 'BA', natDetection: { forceUdp: false, refreshSeconds: NATD_REFRESH_IGNORE } },
  { type: 'BA', natDetection: { forceUdp: false, refreshSeconds: 30 } },
  { type: 'BA', natDetection: { forceUdp: true, refreshSeconds: 30 } },
  { type: 'BA', natDetection: { forceUdp: false, refreshSeconds: NATD_REFRESH_NOT_NEEDED } },
  { type: 'BA', natDetection: { forceUdp: true, refreshSeconds: NATD_REFRESH_NOT_NEEDED } },
];

const MOVED_VARIANTS: NatKeepaliveEvent[] = [
  { type: 'MOVED', attachment: 'home' },
  { type: 'MOVED', attachment: 'ipv6' },
  { type: 'MOVED', attachment: 'ipv4' },
];

export const natKeepaliveModel: MachineModel<typeof natKeepaliveMachine> = {
  name: 'natKeepalive',
  machine: natKeepaliveMachine,
  input: { defaultRefreshSeconds: NATKATIMEOUT_SECONDS },
  events: () => [...BA_VARIANTS, ...MOVED_VARIANTS],
  serialize: (snapshot) =>
    JSON.stringify({
      value: snapshot.value,
      refreshSeconds: snapshot.context.refreshSeconds,
      forceUdp: snapshot.context.forceUdp,
    }),
};
