/**
 * Mobile node movement detection: turns link and address events into the attachment the MN is in
 * (home, IPv6 visited network, IPv4-only public, IPv4-only behind a NAT, detached) and the
 * care-of address to register.
 *
 * Two parallel regions:
 * - `addresses` debounces: every change of the usable address set (re)starts the `settle` timer;
 *   only when it expires is the attachment decided again (raised as `ADDRESSES.SETTLED`).
 * - `attachment` is the decision the supervisor acted on. It keeps handling BU outcomes and NAT
 *   verdicts while addresses settle, and reports `MOVEMENT.MOVED` only when the attachment or the
 *   chosen CoA really changes.
 *
 * CoA choice (RFC 5555 §4.4.1): prefer IPv6; after three BUs in total without a BA for the IPv6
 * CoA, use the IPv4 CoA. That IPv6 failure is remembered across later moves, because the RFC
 * recommends not changing the address family chosen for the previous BU on movement; it is
 * forgotten at home, or when a BA proves an IPv6 CoA works. Returning home is IPv6 only
 * (RFC 5555 §4.4.4): home means an address of the home IPv6 prefix on one of the MN's links.
 */

import { and, assign, raise, setup } from 'xstate';
import type { MachineModel } from '../testgen/model.js';
import { classifyAddress, matchesPrefix, parsePrefix } from './address-class.js';

/**
 * Default time without address changes before the attachment is decided again. Implementation
 * choice: RFC 6275 §11.5.1 leaves the policy for declaring a movement to the implementation.
 */
export const DEFAULT_SETTLE_MS = 500;

/**
 * RFC 5555 §4.4.1: "If after three attempts, in total, a binding acknowledgement was not received,
 * the mobile node SHOULD send a new binding update using the IPv4 care-of address."
 */
export const IPV6_BU_ATTEMPTS_BEFORE_IPV4 = 3;

export type Attachment = 'home' | 'ipv6' | 'ipv4' | 'detached';

/** What an address on a link is good for. */
export type AddressKind = 'home' | 'ipv6' | 'ipv4.public' | 'ipv4.private';

export interface LinkAddress {
  ifname: string;
  family: 4 | 6;
  /** Canonical text (RFC 5952 / dotted quad). */
  address: string;
  prefixLength: number;
  kind: AddressKind;
}

export interface MovementInput {
  /** The home IPv6 prefix, e.g. '2001:db8:1::/64'. */
  homePrefix: string;
  /** Debounce in ms (default DEFAULT_SETTLE_MS). */
  settleMs?: number;
}

export type MovementEvent =
  | { type: 'ADDRESS.ADDED'; ifname: string; family: 4 | 6; address: string; prefixLength: number }
  | { type: 'ADDRESS.REMOVED'; ifname: string; family: 4 | 6; address: string }
  /** The link went down: its addresses are gone. */
  | { type: 'LINK.DOWN'; ifname: string }
  /**
   * From the binding update list: BUs sent for the current CoA without a BA. `coa`, when given,
   * names the CoA those BUs carried, so a late count for a CoA already given up is ignored.
   */
  | { type: 'BU.UNANSWERED'; attempts: number; coa?: string }
  /** A BA arrived: the current CoA works. */
  | { type: 'BU.ANSWERED' }
  /** The HA's BA carried a NAT Detection option (RFC 5555 §4.2, §4.4.2). */
  | { type: 'NAT.DETECTED' }
  /** The HA's BA to a UDP-encapsulated BU carried no NAT Detection option. */
  | { type: 'NAT.NONE' };

/** Raised by the `addresses` region when the settle time passed; not sent from outside. */
export type MovementInternalEvent = { type: 'ADDRESSES.SETTLED' };

export type MovementReason = 'address change' | 'ipv6 unanswered, falling back to ipv4';

export type MovementReport =
  | {
      type: 'MOVEMENT.MOVED';
      attachment: Attachment;
      /** The CoA to register: IPv6 for 'ipv6', IPv4 for 'ipv4', the home-prefix address for 'home'. */
      coa?: string;
      /** The best IPv6 care-of address on the links (not in the home prefix), if any. */
      coa6?: string;
      /** The best IPv4 care-of address on the links, if any. */
      coa4?: string;
      /** IPv4 attachment with an RFC 1918 / RFC 6598 CoA: a NAT is likely until the HA says. */
      natSuspected: boolean;
      reason: MovementReason;
    }
  | { type: 'MOVEMENT.NAT'; confirmed: boolean };

export interface MovementContext {
  homePrefix: string;
  settleMs: number;
  /** Usable addresses on the links, in order of arrival. */
  addresses: LinkAddress[];
  /** The attachment last reported. */
  attachment: Attachment;
  /** The CoA last reported (the home-prefix address at home), null when detached. */
  coa: string | null;
  /** RFC 5555 §4.4.1: IPv6 BUs went unanswered three times; use IPv4 while there is one. */
  ipv6Failed: boolean;
  /** Latest count of unanswered BUs for the current CoA (for inspection). */
  unanswered: number;
}

export interface AttachmentChoice {
  attachment: Attachment;
  coa?: string;
  coa6?: string;
  coa4?: string;
  natSuspected: boolean;
}

type ChoiceInput = Pick<MovementContext, 'addresses' | 'coa' | 'ipv6Failed'>;

/** Keeps the current CoA when it is still there (no needless re-registration), else the oldest. */
function pick(list: LinkAddress[], current: string | null): LinkAddress | undefined {
  return list.find((a) => a.address === current) ?? list[0];
}

/**
 * The attachment the address set calls for. Pure; the machine's guards and reports share it.
 * Order: home (IPv6 home prefix, RFC 5555 §4.4.4) > IPv6 CoA (§4.4.1) unless IPv6 failed and
 * IPv4 exists > IPv4 CoA (a public one before a private one, to avoid a NAT) > detached.
 */
export function chooseAttachment(ctx: ChoiceInput): AttachmentChoice {
  const of = (kind: AddressKind) => ctx.addresses.filter((a) => a.kind === kind);
  const home = pick(of('home'), ctx.coa);
  const v6 = pick(of('ipv6'), ctx.coa);
  const v4 = pick([...of('ipv4.public'), ...of('ipv4.private')], ctx.coa);
  const candidates = {
    ...(v6 ? { coa6: v6.address } : {}),
    ...(v4 ? { coa4: v4.address } : {}),
  };
  if (home) return { attachment: 'home', coa: home.address, ...candidates, natSuspected: false };
  if (v6 && !(ctx.ipv6Failed && v4)) {
    return { attachment: 'ipv6', coa: v6.address, ...candidates, natSuspected: false };
  }
  if (v4) {
    return { attachment: 'ipv4', coa: v4.address, ...candidates, natSuspected: v4.kind === 'ipv4.private' };
  }
  return { attachment: 'detached', ...candidates, natSuspected: false };
}

/** Classifies an ADDRESS.ADDED event; undefined when the address cannot serve as CoA or HoA. */
function toLinkAddress(
  homePrefix: string,
  e: { ifname: string; family: 4 | 6; address: string; prefixLength: number },
): LinkAddress | undefined {
  const c = classifyAddress(e.family, e.address);
  if (!c) return undefined;
  const base = { ifname: e.ifname, family: e.family, address: c.canonical, prefixLength: e.prefixLength };
  if (e.family === 6) {
    // An address of the home prefix on our link means home, whatever its scope class (a lab may
    // use a ULA home prefix).
    const home = parsePrefix(homePrefix);
    if (home && matchesPrefix(c.bytes, home)) return { ...base, kind: 'home' };
    return c.cls === 'ipv6.global' ? { ...base, kind: 'ipv6' } : undefined;
  }
  if (c.cls === 'ipv4.public') return { ...base, kind: 'ipv4.public' };
  if (c.cls === 'ipv4.private') return { ...base, kind: 'ipv4.private' };
  return undefined;
}

const sameAddress = (a: LinkAddress, ifname: string, address: string) =>
  a.ifname === ifname && a.address === address;

function movedReport(context: MovementContext, reason: MovementReason): MovementReport {
  return { type: 'MOVEMENT.MOVED', ...chooseAttachment(context), reason };
}

/**
 * A real change of the usable address set, from either `addresses` state: (re)start settling.
 * The transitions sit on the leaf states, not on the region: a `reenter` transition on a region
 * of a parallel root would re-enter the root and reset the `attachment` region too.
 */
const ADDRESS_CHANGES = {
  'ADDRESS.ADDED': {
    guard: 'addsAddress',
    target: '#movement.addresses.settling',
    reenter: true,
    actions: 'addAddress',
  },
  'ADDRESS.REMOVED': {
    guard: 'removesAddress',
    target: '#movement.addresses.settling',
    reenter: true,
    actions: 'removeAddress',
  },
  'LINK.DOWN': {
    guard: 'linkHasAddresses',
    target: '#movement.addresses.settling',
    reenter: true,
    actions: 'removeLinkAddresses',
  },
} as const;

export const movementMachine = setup({
  types: {
    context: {} as MovementContext,
    events: {} as MovementEvent | MovementInternalEvent,
    input: {} as MovementInput,
  },
  actions: {
    /** Notification to the supervisor (which provides `sendParent`). */
    report: (_, _params: MovementReport) => {},
    addAddress: assign({
      addresses: ({ context, event }) => {
        if (event.type !== 'ADDRESS.ADDED') return context.addresses;
        const added = toLinkAddress(context.homePrefix, event);
        if (!added) return context.addresses;
        const others = context.addresses.filter((a) => !sameAddress(a, added.ifname, added.address));
        return [...others, added];
      },
    }),
    removeAddress: assign({
      addresses: ({ context, event }) => {
        if (event.type !== 'ADDRESS.REMOVED') return context.addresses;
        const address = classifyAddress(event.family, event.address)?.canonical;
        return context.addresses.filter(
          (a) => !(address !== undefined && sameAddress(a, event.ifname, address)),
        );
      },
    }),
    removeLinkAddresses: assign({
      addresses: ({ context, event }) =>
        event.type === 'LINK.DOWN'
          ? context.addresses.filter((a) => a.ifname !== event.ifname)
          : context.addresses,
    }),
    /** Takes the decision as the new current attachment; a new CoA starts a new BU count. */
    adoptChoice: assign(({ context }) => {
      const choice = chooseAttachment(context);
      return {
        attachment: choice.attachment,
        coa: choice.coa ?? null,
        unanswered: choice.coa === context.coa ? context.unanswered : 0,
      };
    }),
    /** RFC 5555 §4.4.1: three IPv6 BUs without a BA, so the IPv6 path counts as failed. */
    markIpv6Failed: assign({ ipv6Failed: true }),
    /** A BA for an IPv6 CoA (or returning home) shows the IPv6 path works again. */
    clearIpv6Failed: assign({ ipv6Failed: false }),
    recordUnanswered: assign({
      unanswered: ({ context, event }) =>
        event.type === 'BU.UNANSWERED' ? event.attempts : context.unanswered,
    }),
    resetUnanswered: assign({ unanswered: 0 }),
  },
  guards: {
    addsAddress: ({ context, event }) => {
      if (event.type !== 'ADDRESS.ADDED') return false;
      const added = toLinkAddress(context.homePrefix, event);
      if (!added) return false;
      const old = context.addresses.find((a) => sameAddress(a, added.ifname, added.address));
      return old === undefined || old.prefixLength !== added.prefixLength;
    },
    removesAddress: ({ context, event }) => {
      if (event.type !== 'ADDRESS.REMOVED') return false;
      const address = classifyAddress(event.family, event.address)?.canonical;
      return address !== undefined && context.addresses.some((a) => sameAddress(a, event.ifname, address));
    },
    linkHasAddresses: ({ context, event }) =>
      event.type === 'LINK.DOWN' && context.addresses.some((a) => a.ifname === event.ifname),
    /** Same attachment and same CoA: nothing to re-register (the NAT verdict stays too). */
    choiceUnchanged: ({ context }) => {
      const choice = chooseAttachment(context);
      return choice.attachment === context.attachment && (choice.coa ?? null) === context.coa;
    },
    choiceHome: ({ context }) => chooseAttachment(context).attachment === 'home',
    choiceIpv6: ({ context }) => chooseAttachment(context).attachment === 'ipv6',
    choiceIpv4Private: ({ context }) => {
      const c = chooseAttachment(context);
      return c.attachment === 'ipv4' && c.natSuspected;
    },
    choiceIpv4Public: ({ context }) => {
      const c = chooseAttachment(context);
      return c.attachment === 'ipv4' && !c.natSuspected;
    },
    /** A count about a CoA other than the current one is stale. */
    unansweredForCurrentCoa: ({ context, event }) =>
      event.type === 'BU.UNANSWERED' && (event.coa === undefined || event.coa === context.coa),
    /** RFC 5555 §4.4.1: three attempts in total without a BA. */
    ipv6AttemptsExhausted: ({ event }) =>
      event.type === 'BU.UNANSWERED' && event.attempts >= IPV6_BU_ATTEMPTS_BEFORE_IPV4,
    ipv4FallbackPrivate: ({ context }) => {
      const c = chooseAttachment({ ...context, ipv6Failed: true });
      return c.attachment === 'ipv4' && c.natSuspected;
    },
    ipv4FallbackPublic: ({ context }) => {
      const c = chooseAttachment({ ...context, ipv6Failed: true });
      return c.attachment === 'ipv4' && !c.natSuspected;
    },
  },
  delays: {
    /** Debounce: no address change for this long before the attachment is decided again. */
    settle: ({ context }) => context.settleMs,
  },
}).createMachine({
  id: 'movement',
  type: 'parallel',
  context: ({ input }) => {
    if (parsePrefix(input.homePrefix)?.bytes.length !== 16) {
      throw new TypeError(
        `movement: homePrefix ${JSON.stringify(input.homePrefix)}: expected an IPv6 prefix like 2001:db8:1::/64`,
      );
    }
    return {
      homePrefix: input.homePrefix,
      settleMs: input.settleMs ?? DEFAULT_SETTLE_MS,
      addresses: [],
      attachment: 'detached',
      coa: null,
      ipv6Failed: false,
      unanswered: 0,
    };
  },
  states: {
    addresses: {
      initial: 'stable',
      states: {
        stable: { on: ADDRESS_CHANGES },
        // Every further change restarts the settle timer (reenter), so a burst of changes or a
        // flapping address yields one decision, settleMs after the last change.
        settling: {
          on: ADDRESS_CHANGES,
          after: { settle: { target: 'stable', actions: raise({ type: 'ADDRESSES.SETTLED' }) } },
        },
      },
    },
    attachment: {
      initial: 'detached',
      on: {
        'ADDRESSES.SETTLED': [
          { guard: 'choiceUnchanged' },
          {
            guard: 'choiceHome',
            target: '.home',
            actions: [
              'adoptChoice',
              { type: 'report', params: ({ context }) => movedReport(context, 'address change') },
            ],
          },
          {
            guard: 'choiceIpv6',
            target: '.ipv6',
            actions: [
              'adoptChoice',
              { type: 'report', params: ({ context }) => movedReport(context, 'address change') },
            ],
          },
          {
            guard: 'choiceIpv4Private',
            target: '.ipv4.behindNat.suspected',
            actions: [
              'adoptChoice',
              { type: 'report', params: ({ context }) => movedReport(context, 'address change') },
            ],
          },
          {
            guard: 'choiceIpv4Public',
            target: '.ipv4.public',
            actions: [
              'adoptChoice',
              { type: 'report', params: ({ context }) => movedReport(context, 'address change') },
            ],
          },
          {
            target: '.detached',
            actions: [
              'adoptChoice',
              { type: 'report', params: ({ context }) => movedReport(context, 'address change') },
            ],
          },
        ],
        'BU.UNANSWERED': { guard: 'unansweredForCurrentCoa', actions: 'recordUnanswered' },
        'BU.ANSWERED': { actions: 'resetUnanswered' },
      },
      states: {
        detached: {},
        /** RFC 5555 §4.4.4 / RFC 6275 §11.5.5: back on the home link over IPv6; the visit is over. */
        home: { entry: 'clearIpv6Failed' },
        /** Registered (or registering) an IPv6 CoA, RFC 5555 §4.4.1's preferred choice. */
        ipv6: {
          on: {
            'BU.UNANSWERED': [
              {
                guard: and(['unansweredForCurrentCoa', 'ipv6AttemptsExhausted', 'ipv4FallbackPrivate']),
                target: '#movement.attachment.ipv4.behindNat.suspected',
                actions: [
                  'markIpv6Failed',
                  'adoptChoice',
                  {
                    type: 'report',
                    params: ({ context }) => movedReport(context, 'ipv6 unanswered, falling back to ipv4'),
                  },
                ],
              },
              {
                guard: and(['unansweredForCurrentCoa', 'ipv6AttemptsExhausted', 'ipv4FallbackPublic']),
                target: '#movement.attachment.ipv4.public',
                actions: [
                  'markIpv6Failed',
                  'adoptChoice',
                  {
                    type: 'report',
                    params: ({ context }) => movedReport(context, 'ipv6 unanswered, falling back to ipv4'),
                  },
                ],
              },
              // Otherwise (fewer than three, or no IPv4 address to fall back to) the parent records
              // the count and the BUL keeps retransmitting over IPv6.
            ],
            'BU.ANSWERED': { actions: ['resetUnanswered', 'clearIpv6Failed'] },
          },
        },
        /**
         * IPv4-only (or IPv6 failed): BUs go UDP-encapsulated to the HA's IPv4 address and the HA
         * tells whether a NAT is on the path (RFC 5555 §4.2, §4.4.2).
         */
        ipv4: {
          initial: 'public',
          states: {
            /** Public CoA, no verdict from the HA yet: no NAT expected. */
            public: {
              on: {
                'NAT.DETECTED': {
                  target: 'behindNat.confirmed',
                  actions: { type: 'report', params: { type: 'MOVEMENT.NAT', confirmed: true } },
                },
                'NAT.NONE': {
                  target: 'noNat',
                  actions: { type: 'report', params: { type: 'MOVEMENT.NAT', confirmed: false } },
                },
              },
            },
            /** The HA's BA carried no NAT Detection option: no NAT, whatever the address looks like. */
            noNat: {
              on: {
                'NAT.DETECTED': {
                  target: 'behindNat.confirmed',
                  actions: { type: 'report', params: { type: 'MOVEMENT.NAT', confirmed: true } },
                },
              },
            },
            behindNat: {
              initial: 'suspected',
              states: {
                /** Private (RFC 1918) or CGN (RFC 6598) CoA: a NAT is likely, the HA has not said. */
                suspected: {
                  on: {
                    'NAT.DETECTED': {
                      target: 'confirmed',
                      actions: { type: 'report', params: { type: 'MOVEMENT.NAT', confirmed: true } },
                    },
                    'NAT.NONE': {
                      target: '#movement.attachment.ipv4.noNat',
                      actions: { type: 'report', params: { type: 'MOVEMENT.NAT', confirmed: false } },
                    },
                  },
                },
                /** RFC 5555 §4.4.2: the BA's NAT Detection option; keepalives are needed (§4.3). */
                confirmed: {
                  on: {
                    'NAT.NONE': {
                      target: '#movement.attachment.ipv4.noNat',
                      actions: { type: 'report', params: { type: 'MOVEMENT.NAT', confirmed: false } },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
});

/** Address pool for test generation: each kind once, on two links. */
const MODEL_ADDRESSES = [
  { ifname: 'eth0', family: 6, address: '2001:db8:1::100', prefixLength: 64 },
  { ifname: 'eth0', family: 6, address: '2001:db8:5::10', prefixLength: 64 },
  { ifname: 'eth0', family: 4, address: '198.51.100.10', prefixLength: 24 },
  { ifname: 'wlan0', family: 4, address: '192.168.1.10', prefixLength: 24 },
] as const;

export const movementModel: MachineModel<typeof movementMachine> = {
  name: 'movement',
  machine: movementMachine,
  input: { homePrefix: '2001:db8:1::/64', settleMs: DEFAULT_SETTLE_MS },
  events: (snapshot) => {
    const present = (address: string) => snapshot.context.addresses.some((a) => a.address === address);
    const out: MovementEvent[] = [];
    for (const a of MODEL_ADDRESSES) {
      if (present(a.address)) {
        out.push({ type: 'ADDRESS.REMOVED', ifname: a.ifname, family: a.family, address: a.address });
      } else {
        out.push({ type: 'ADDRESS.ADDED', ...a });
      }
    }
    out.push(
      { type: 'LINK.DOWN', ifname: 'eth0' },
      { type: 'LINK.DOWN', ifname: 'wlan0' },
      { type: 'BU.UNANSWERED', attempts: 2 },
      { type: 'BU.UNANSWERED', attempts: IPV6_BU_ATTEMPTS_BEFORE_IPV4 },
      { type: 'BU.ANSWERED' },
      { type: 'NAT.DETECTED' },
      { type: 'NAT.NONE' },
    );
    return out;
  },
  // The pool is fixed, so the address list and the CoA are finite; the unanswered count is left
  // out because no guard reads it (the guards read the event's count).
  serialize: (snapshot) =>
    JSON.stringify({
      value: snapshot.value,
      addresses: snapshot.context.addresses.map((a) => a.address).sort(),
      coa: snapshot.context.coa,
      ipv6Failed: snapshot.context.ipv6Failed,
    }),
};
