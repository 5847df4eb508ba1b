/**
 * The mobile node supervisor: the MN's protocol brain (architecture.md "Actor tree"). It spawns
 * home agent discovery and movement detection at start, and for the home agent that discovery
 * chooses a binding update list entry and a NAT keepalive timer, each addressed by its systemId
 * (`mn/discovery`, `mn/movement`, `mn/bul/<ha>`, `mn/keepalive/<ha>`). It routes the children's
 * reports to each other, turns their effect requests into its own named actions
 * (`sendBindingUpdate`, `resolve`) and tells the operator how registration goes (`report`).
 *
 * Supervision is one-for-one: a child that fails is stopped and started again with fresh input;
 * more than MAX_RESTARTS restarts within RESTART_WINDOW_MS means something is badly wrong, so the
 * supervisor stops in `failed` and reports MN.FAILED (the daemon exits non-zero).
 *
 * The children's actions are provided here, inside this machine's `setup`, with `sendParent`: a
 * child run on its own (its tests, its model) keeps the no-op defaults and never calls sendParent.
 */

import { assign, type ErrorActorEvent, sendParent, sendTo, setup } from 'xstate';
import type { MachineModel } from '../testgen/model.js';
import { NATD_REFRESH_NOT_NEEDED } from '../wire/constants.js';
import {
  type BindingUpdateEvent,
  type BindingUpdateInput,
  type BindingUpdateReport,
  bindingUpdateMachine,
  type SendBindingUpdateParams,
} from './binding-update.js';
import {
  type HaAddresses,
  type HaDiscoveryEvent,
  type HaDiscoveryInput,
  type HaDiscoveryReport,
  haDiscoveryMachine,
  type ResolveParams,
} from './ha-discovery.js';
import {
  DEFAULT_SETTLE_MS,
  type Attachment as MovementAttachment,
  type MovementEvent,
  type MovementReport,
  movementMachine,
} from './movement.js';
import { type NatKeepaliveReport, natKeepaliveMachine } from './nat-keepalive.js';

import { errorText, MAX_RESTARTS, RESTART_WINDOW_MS } from './supervision.js';

export { MAX_RESTARTS, RESTART_WINDOW_MS };

export interface MobileNodeInput {
  readonly homeAddress: string;
  /** The home IPv6 prefix, e.g. '2001:db8:1::/64' (movement detection: home or away). */
  readonly homePrefix: string;
  /** Lifetime requested in each BU (RFC 6275 §11.7.1). */
  readonly lifetimeSeconds: number;
  /** A static IPv4 home address, or '0.0.0.0' for a dynamic one (RFC 5555 §2.5, §4.4.2). */
  readonly ipv4HomeAddress?: string;
  /** Set F in BUs from IPv4 networks (RFC 5555 §3.1.3). */
  readonly forceUdp?: boolean;
  readonly discovery: HaDiscoveryInput;
  /** First BU sequence number, drawn at random by the caller (RFC 6275 §11.7.1). */
  readonly initialSequence: number;
  readonly settleMs?: number;
}

type BaFields = Omit<Extract<BindingUpdateEvent, { type: 'BA' }>, 'type'>;

/** Children that can fail and be restarted; `bul` and `keepalive` are per home agent. */
export type MobileNodeChild = 'discovery' | 'movement' | 'bul' | 'keepalive';

/** Events from the actor layer (parsed packets, link monitor, resolver). */
export type MobileNodeOutsideEvent =
  | Extract<MovementEvent, { type: 'ADDRESS.ADDED' | 'ADDRESS.REMOVED' | 'LINK.DOWN' }>
  | Extract<HaDiscoveryEvent, { type: 'DNS.ANSWER' | 'DNS.FAILURE' }>
  /** An authenticated Binding Acknowledgement from home agent `haName`, decoded. */
  | ({ type: 'BA.RECEIVED'; haName: string } & BaFields)
  /** Binding Error from `haName` (RFC 6275 §6.1.9, §11.3.6). */
  | { type: 'BE.RECEIVED'; haName: string; status: number }
  /** Binding Refresh Request from `haName` (RFC 6275 §6.1.2, §11.7.4). */
  | { type: 'BRR.RECEIVED'; haName: string }
  /** The process is stopping: deregister from the current home agent (RFC 6275 §6.1.7). */
  | { type: 'SHUTDOWN' };

/** Effects the children ask for, wrapped by the sendParent implementations provided below. */
export type MobileNodeEffectEvent =
  | { type: 'EFFECT.SEND_BU'; params: SendBindingUpdateParams }
  | { type: 'EFFECT.RESOLVE'; params: ResolveParams };

export type MobileNodeChildEvent =
  | BindingUpdateReport
  | NatKeepaliveReport
  | HaDiscoveryReport
  | MovementReport
  | MobileNodeEffectEvent
  | ErrorActorEvent;

export type MobileNodeEvent = MobileNodeOutsideEvent | MobileNodeChildEvent;

/** Where registration stands, for `dsmip6 status`. */
export type MnRegistration = 'searching' | 'detached' | 'registering' | 'registered' | 'home' | 'rejected';

type RegisteredReport = Extract<BindingUpdateReport, { type: 'BUL.REGISTERED' }>;

export interface MnStatus {
  type: 'MN.STATUS';
  registration: MnRegistration;
  haName: string | null;
  ha: HaAddresses | null;
  attachment: MovementAttachment;
  careOf: string | null;
  /** Granted lifetime and IPv4 outcome of the current registration (while registered). */
  lifetimeSeconds?: number;
  ipv4?: RegisteredReport['ipv4'];
  /** The HA's NAT verdict for the current IPv4 attachment (null: none yet or not on IPv4). */
  natDetected: boolean | null;
  /** Why the state changed, when it is not obvious (a rejection, a give-up, a discovery failure). */
  reason?: string;
}

export type MobileNodeReport =
  | MnStatus
  /** A child failed and was started again (after a `movement` restart, replay the link state). */
  | { type: 'MN.CHILD_RESTARTED'; child: string; restarts: number; error: string }
  /** Repeated failure: the supervisor has stopped (final state). */
  | { type: 'MN.FAILED'; reason: string };

/** sendBindingUpdate: the BUL's parameters plus the home agent's addresses to send it to. */
export interface MnSendBindingUpdateParams extends SendBindingUpdateParams {
  readonly ha: HaAddresses;
}

export interface MobileNodeContext {
  readonly homeAddress: string;
  readonly homePrefix: string;
  readonly lifetimeSeconds: number;
  readonly ipv4HomeAddress: string | null;
  readonly forceUdp: boolean;
  readonly discovery: HaDiscoveryInput;
  readonly settleMs: number;
  /** Sequence number the next BUL entry starts from: one past the last BU sent (§11.7.1). */
  nextSequence: number;
  /** The home agent in use (its BUL entry and keepalive exist exactly while this is set). */
  ha: HaAddresses | null;
  haName: string | null;
  /** The movement detector's last verdict. */
  attachment: MovementAttachment;
  coa: string | null;
  natDetected: boolean | null;
  registered: { careOf: string; lifetimeSeconds: number; ipv4: RegisteredReport['ipv4'] } | null;
  /** Child restarts in the current window. */
  restarts: number;
  lastFailure: string | null;
}

/* Child ids and systemIds (architecture.md "Actor tree"). */
const DISCOVERY_ID = 'discovery';
const MOVEMENT_ID = 'movement';
export const bulId = (haName: string): string => `bul/${haName}`;
export const keepaliveId = (haName: string): string => `keepalive/${haName}`;
export const mnSystemId = (childId: string): string => `mn/${childId}`;

/** A name for the HA in ids and reports: its DNS name, else its address. */
const haNameOf = (ha: HaAddresses): string => ha.name ?? ha.ipv6 ?? ha.ipv4 ?? 'ha';

/*
 * The children, with their notifications and effect requests turned into events to this
 * supervisor. Exported so tests can `.provide()` a failing action on top of the wiring.
 */
export const mnChildLogic = {
  haDiscovery: haDiscoveryMachine.provide({
    actions: {
      resolve: sendParent((_, params: ResolveParams) => ({ type: 'EFFECT.RESOLVE' as const, params })),
      report: sendParent((_, params: HaDiscoveryReport) => params),
    },
  }),
  movement: movementMachine.provide({
    actions: { report: sendParent((_, params: MovementReport) => params) },
  }),
  bindingUpdate: bindingUpdateMachine.provide({
    actions: {
      sendBindingUpdate: sendParent((_, params: SendBindingUpdateParams) => ({
        type: 'EFFECT.SEND_BU' as const,
        params,
      })),
      report: sendParent((_, params: BindingUpdateReport) => params),
    },
  }),
  natKeepalive: natKeepaliveMachine.provide({
    actions: { report: sendParent((_, params: NatKeepaliveReport) => params) },
  }),
};

const bulInput = (context: MobileNodeContext, haName: string): BindingUpdateInput => ({
  haName,
  homeAddress: context.homeAddress,
  initialSequence: context.nextSequence,
  lifetimeSeconds: context.lifetimeSeconds,
  ...(context.ipv4HomeAddress !== null ? { ipv4HomeAddress: context.ipv4HomeAddress } : {}),
  forceUdp: context.forceUdp,
});

/** The BUL's MOVED/DETACHED for the current attachment. */
const bulAttachmentEvent = (context: MobileNodeContext): BindingUpdateEvent =>
  context.attachment === 'detached' || context.coa === null
    ? { type: 'DETACHED' }
    : { type: 'MOVED', attachment: context.attachment, coa: context.coa };

const statusParams =
  (
    registration: MnRegistration,
    reason?: (args: { context: MobileNodeContext; event: MobileNodeEvent }) => string,
  ) =>
  ({ context, event }: { context: MobileNodeContext; event: MobileNodeEvent }): MobileNodeReport => ({
    type: 'MN.STATUS',
    registration,
    haName: context.haName,
    ha: context.ha,
    attachment: context.attachment,
    careOf: registration === 'registered' ? (context.registered?.careOf ?? context.coa) : context.coa,
    ...(registration === 'registered' && context.registered
      ? { lifetimeSeconds: context.registered.lifetimeSeconds, ipv4: context.registered.ipv4 }
      : {}),
    natDetected: context.natDetected,
    ...(reason ? { reason: reason({ context, event }) } : {}),
  });

const mnSetup = setup({
  types: {
    context: {} as MobileNodeContext,
    events: {} as MobileNodeEvent,
    input: {} as MobileNodeInput,
  },
  actors: mnChildLogic,
  actions: {
    sendBindingUpdate: (_, _params: MnSendBindingUpdateParams) => {},
    resolve: (_, _params: ResolveParams) => {},
    report: (_, _params: MobileNodeReport) => {},
  },
  guards: {
    /** The event names the home agent in use (a stale one, after a switch, is ignored). */
    fromCurrentHa: ({ context, event }) => {
      if (event.type === 'EFFECT.SEND_BU') return event.params.haName === context.haName;
      if ('haName' in event && typeof event.haName === 'string') return event.haName === context.haName;
      return false;
    },
    movedDetached: ({ event }) => event.type === 'MOVEMENT.MOVED' && event.attachment === 'detached',
    movedHome: ({ event }) => event.type === 'MOVEMENT.MOVED' && event.attachment === 'home',
    /** A MOVED that keeps the registered care-of address needs no new registration. */
    keepsRegisteredCareOf: ({ context, event }) =>
      event.type === 'MOVEMENT.MOVED' &&
      event.attachment === context.attachment &&
      (event.coa ?? null) === context.coa,
    /** Past MAX_RESTARTS restarts in the window: escalate instead of restarting again. */
    restartLimitReached: ({ context }) => context.restarts >= MAX_RESTARTS,
    isDetached: ({ context }) => context.attachment === 'detached' || context.coa === null,
    isHome: ({ context }) => context.attachment === 'home',
  },
  delays: {
    /** Restarts are counted over this window, which opens at the first restart. */
    restartWindow: RESTART_WINDOW_MS,
  },
});

/** Start the BUL entry and keepalive for the HA just found (replacing any previous HA's). */
const selectHomeAgent = mnSetup.enqueueActions(({ context, event, enqueue }) => {
  if (event.type !== 'DISCOVERY.FOUND') return;
  if (context.haName !== null) {
    enqueue.stopChild(bulId(context.haName));
    enqueue.stopChild(keepaliveId(context.haName));
  }
  const haName = haNameOf(event.ha);
  enqueue.assign({ ha: event.ha, haName, registered: null });
  enqueue.spawnChild('bindingUpdate', {
    id: bulId(haName),
    systemId: mnSystemId(bulId(haName)),
    input: bulInput(context, haName),
  });
  enqueue.spawnChild('natKeepalive', {
    id: keepaliveId(haName),
    systemId: mnSystemId(keepaliveId(haName)),
    input: {},
  });
  // The new entry learns where we are now; it sends its first BU from there.
  if (context.attachment !== 'detached' && context.coa !== null) {
    enqueue.sendTo(bulId(haName), { type: 'MOVED', attachment: context.attachment, coa: context.coa });
    enqueue.sendTo(keepaliveId(haName), { type: 'MOVED', attachment: context.attachment });
  }
});

/** RFC 6275 §11.8: registration with this HA gave up; discovery moves to the next one. */
const dropHomeAgent = mnSetup.enqueueActions(({ context, enqueue }) => {
  if (context.haName !== null) {
    enqueue.stopChild(bulId(context.haName));
    enqueue.stopChild(keepaliveId(context.haName));
  }
  enqueue.sendTo(DISCOVERY_ID, { type: 'REGISTRATION.GAVE_UP' });
});

/** Movement's verdict goes to the BUL entry (register/deregister) and the keepalive. */
const forwardMove = mnSetup.enqueueActions(({ context, enqueue }) => {
  if (context.haName === null) return;
  enqueue.sendTo(bulId(context.haName), bulAttachmentEvent(context));
  if (context.attachment !== 'detached') {
    enqueue.sendTo(keepaliveId(context.haName), { type: 'MOVED', attachment: context.attachment });
  }
});

/**
 * A BA from the HA in use: to the BUL entry; an accepted one also restarts the keepalive period
 * (RFC 5555 §4.3) and, on an IPv4 attachment, gives movement the HA's NAT verdict (§4.2: the NAT
 * Detection option says keepalives are needed unless its Refresh time is all ones).
 */
const forwardBa = mnSetup.enqueueActions(({ context, event, enqueue }) => {
  if (event.type !== 'BA.RECEIVED' || context.haName === null) return;
  const { type: _type, haName: _ha, ...ba } = event;
  enqueue.sendTo(bulId(context.haName), { type: 'BA', ...ba });
  enqueue.sendTo(MOVEMENT_ID, { type: 'BU.ANSWERED' });
  if (event.status >= 128) return;
  enqueue.sendTo(keepaliveId(context.haName), {
    type: 'BA',
    ...(event.natDetection ? { natDetection: event.natDetection } : {}),
  });
  if (context.attachment === 'ipv4') {
    const nat =
      event.natDetection !== undefined && event.natDetection.refreshSeconds !== NATD_REFRESH_NOT_NEEDED;
    enqueue.sendTo(MOVEMENT_ID, { type: nat ? 'NAT.DETECTED' : 'NAT.NONE' });
  }
});

/** One-for-one restart with fresh input; a BUL entry is told the current attachment again. */
const restartChild = mnSetup.enqueueActions(({ context, event, enqueue }) => {
  if (!event.type.startsWith('xstate.error.actor.')) return;
  const { actorId, error } = event as ErrorActorEvent;
  enqueue.stopChild(actorId);
  const restarts = context.restarts + 1;
  enqueue.assign({ restarts, lastFailure: `${actorId}: ${errorText(error)}` });
  if (actorId === DISCOVERY_ID) {
    enqueue.spawnChild('haDiscovery', {
      id: DISCOVERY_ID,
      systemId: mnSystemId(DISCOVERY_ID),
      input: context.discovery,
    });
  } else if (actorId === MOVEMENT_ID) {
    enqueue.spawnChild('movement', {
      id: MOVEMENT_ID,
      systemId: mnSystemId(MOVEMENT_ID),
      input: { homePrefix: context.homePrefix, settleMs: context.settleMs },
    });
  } else if (context.haName !== null && actorId === bulId(context.haName)) {
    enqueue.spawnChild('bindingUpdate', {
      id: actorId,
      systemId: mnSystemId(actorId),
      input: bulInput(context, context.haName),
    });
    enqueue.sendTo(actorId, bulAttachmentEvent(context));
  } else if (context.haName !== null && actorId === keepaliveId(context.haName)) {
    enqueue.spawnChild('natKeepalive', { id: actorId, systemId: mnSystemId(actorId), input: {} });
  } else {
    return; // a child of a home agent no longer in use: stopping it is enough
  }
  enqueue({
    type: 'report',
    params: { type: 'MN.CHILD_RESTARTED', child: actorId, restarts, error: errorText(error) },
  });
});

const recordAttachment = mnSetup.assign(({ event }) =>
  event.type === 'MOVEMENT.MOVED'
    ? { attachment: event.attachment, coa: event.coa ?? null, natDetected: null }
    : {},
);

/** What every state does with MOVEMENT.MOVED besides its own state change. */
const MOVE_ACTIONS = [recordAttachment, forwardMove] as const;

export const mobileNodeMachine = mnSetup.createMachine({
  id: 'mobileNode',
  context: ({ input }) => ({
    homeAddress: input.homeAddress,
    homePrefix: input.homePrefix,
    lifetimeSeconds: input.lifetimeSeconds,
    ipv4HomeAddress: input.ipv4HomeAddress ?? null,
    forceUdp: input.forceUdp ?? false,
    discovery: input.discovery,
    settleMs: input.settleMs ?? DEFAULT_SETTLE_MS,
    nextSequence: input.initialSequence & 0xffff,
    ha: null,
    haName: null,
    attachment: 'detached',
    coa: null,
    natDetected: null,
    registered: null,
    restarts: 0,
    lastFailure: null,
  }),
  initial: 'running',
  states: {
    running: {
      type: 'parallel',
      entry: [
        // Movement first, so that the first DISCOVERY.FOUND finds it there.
        mnSetup.spawnChild('movement', {
          id: MOVEMENT_ID,
          systemId: mnSystemId(MOVEMENT_ID),
          input: ({ context }) => ({ homePrefix: context.homePrefix, settleMs: context.settleMs }),
        }),
        mnSetup.spawnChild('haDiscovery', {
          id: DISCOVERY_ID,
          systemId: mnSystemId(DISCOVERY_ID),
          input: ({ context }) => context.discovery,
        }),
      ],
      on: {
        'ADDRESS.ADDED': { actions: sendTo(MOVEMENT_ID, ({ event }) => event) },
        'ADDRESS.REMOVED': { actions: sendTo(MOVEMENT_ID, ({ event }) => event) },
        'LINK.DOWN': { actions: sendTo(MOVEMENT_ID, ({ event }) => event) },
        'DNS.ANSWER': { actions: sendTo(DISCOVERY_ID, ({ event }) => event) },
        'DNS.FAILURE': { actions: sendTo(DISCOVERY_ID, ({ event }) => event) },
        'EFFECT.RESOLVE': {
          actions: {
            type: 'resolve',
            params: ({ event }) => (event.type === 'EFFECT.RESOLVE' ? event.params : { queries: [] }),
          },
        },
        'MOVEMENT.NAT': {
          actions: [
            assign({ natDetected: ({ event }) => (event.type === 'MOVEMENT.NAT' ? event.confirmed : null) }),
          ],
        },
        'DISCOVERY.FAILED': {
          actions: {
            type: 'report',
            params: statusParams('searching', ({ event }) =>
              event.type === 'DISCOVERY.FAILED' ? `discovery: ${event.reason}` : '',
            ),
          },
        },
      },
      states: {
        /** Which home agent we register with, and how that goes (mirrors the BUL's reports). */
        homeAgent: {
          initial: 'searching',
          on: {
            // Also when the chosen HA's addresses changed (DNS re-resolution): start afresh.
            'DISCOVERY.FOUND': { target: '.selected.entering', actions: selectHomeAgent },
          },
          states: {
            /** No home agent chosen yet (or the last one gave up): discovery is working. */
            searching: {
              on: { 'MOVEMENT.MOVED': { actions: MOVE_ACTIONS } },
            },
            /** A home agent is chosen: its BUL entry `bul/<ha>` and keepalive `keepalive/<ha>` run. */
            selected: {
              initial: 'entering',
              on: {
                'EFFECT.SEND_BU': {
                  guard: 'fromCurrentHa',
                  actions: [
                    assign({
                      nextSequence: ({ event }) =>
                        event.type === 'EFFECT.SEND_BU' ? (event.params.sequence + 1) & 0xffff : 0,
                    }),
                    {
                      type: 'sendBindingUpdate',
                      params: ({ context, event }) => ({
                        ...(event as Extract<MobileNodeEvent, { type: 'EFFECT.SEND_BU' }>).params,
                        ha: context.ha ?? {},
                      }),
                    },
                  ],
                },
                'BA.RECEIVED': { guard: 'fromCurrentHa', actions: forwardBa },
                'BE.RECEIVED': {
                  guard: 'fromCurrentHa',
                  actions: sendTo(
                    ({ context }) => bulId(context.haName ?? ''),
                    ({ event }) => ({
                      type: 'BE' as const,
                      status: event.type === 'BE.RECEIVED' ? event.status : 0,
                    }),
                  ),
                },
                SHUTDOWN: {
                  actions: sendTo(({ context }) => bulId(context.haName ?? ''), {
                    type: 'SHUTDOWN' as const,
                  }),
                },
                // RFC 6275 §11.7.4: a Binding Refresh Request asks for a BU now.
                'BRR.RECEIVED': {
                  guard: 'fromCurrentHa',
                  actions: sendTo(({ context }) => bulId(context.haName ?? ''), { type: 'REFRESH' as const }),
                },
                // RFC 5555 §4.3: the keepalive is a BU/BA exchange; the BUL entry sends it.
                'KEEPALIVE.DUE': {
                  actions: sendTo(({ context }) => bulId(context.haName ?? ''), { type: 'REFRESH' as const }),
                },
                // RFC 5555 §4.4.1: movement counts unanswered BUs to fall back to IPv4.
                'BUL.UNANSWERED': {
                  guard: 'fromCurrentHa',
                  actions: sendTo(MOVEMENT_ID, ({ event }) => ({
                    type: 'BU.UNANSWERED' as const,
                    attempts: event.type === 'BUL.UNANSWERED' ? event.attempts : 0,
                    ...(event.type === 'BUL.UNANSWERED' && event.careOf ? { coa: event.careOf } : {}),
                  })),
                },
                'BUL.REGISTERED': {
                  guard: 'fromCurrentHa',
                  target: '.registered',
                  actions: assign({
                    registered: ({ event }) =>
                      event.type === 'BUL.REGISTERED'
                        ? { careOf: event.careOf, lifetimeSeconds: event.lifetimeSeconds, ipv4: event.ipv4 }
                        : null,
                  }),
                },
                'BUL.EXPIRED': { guard: 'fromCurrentHa', target: '.registering' },
                'BUL.DEREGISTERED': { guard: 'fromCurrentHa', target: '.home' },
                'BUL.FAILED': { guard: 'fromCurrentHa', target: '.rejected' },
                // RFC 6275 §11.8: no answer up to MAX_BINDACK_TIMEOUT: try another home agent.
                'BUL.GAVE_UP': {
                  guard: 'fromCurrentHa',
                  target: 'searching',
                  actions: [
                    dropHomeAgent,
                    assign({ ha: null, haName: null, registered: null }),
                    {
                      type: 'report',
                      params: statusParams('searching', ({ event }) =>
                        event.type === 'BUL.GAVE_UP' ? `no answer from ${event.haName}` : '',
                      ),
                    },
                  ],
                },
                'MOVEMENT.MOVED': [
                  { guard: 'movedDetached', target: '.detached', actions: MOVE_ACTIONS },
                  { guard: 'movedHome', target: '.home', actions: MOVE_ACTIONS },
                  { guard: 'keepsRegisteredCareOf', actions: MOVE_ACTIONS },
                  { target: '.registering', actions: MOVE_ACTIONS },
                ],
              },
              states: {
                /** Just chosen: where the first BU goes depends on where we are. */
                entering: {
                  always: [
                    { guard: 'isDetached', target: 'detached' },
                    { guard: 'isHome', target: 'home' },
                    { target: 'registering' },
                  ],
                },
                /** No usable link: the BUL entry waits for a care-of address. */
                detached: { entry: { type: 'report', params: statusParams('detached') } },
                /** A BU for the current care-of address is in flight (RFC 6275 §11.7.1). */
                registering: { entry: { type: 'report', params: statusParams('registering') } },
                /** The HA accepted the binding (BA status < 128). */
                registered: {
                  entry: { type: 'report', params: statusParams('registered') },
                  exit: assign({ registered: null }),
                },
                /** At home: deregistering or deregistered (RFC 6275 §11.5.5, RFC 5555 §4.4.4). */
                home: { entry: { type: 'report', params: statusParams('home') } },
                /** The HA refused the registration (RFC 6275 §11.7.3); a move or RETRY starts over. */
                rejected: {
                  entry: {
                    type: 'report',
                    params: statusParams('rejected', ({ event }) =>
                      event.type === 'BUL.FAILED' ? `BA status ${event.status}: ${event.reason}` : '',
                    ),
                  },
                },
              },
            },
          },
        },
        /** Restart bookkeeping: restarts are counted in a window that opens at the first one. */
        supervision: {
          initial: 'calm',
          states: {
            calm: {
              on: { 'xstate.error.actor.*': { target: 'watching', actions: restartChild } },
            },
            watching: {
              after: { restartWindow: { target: 'calm', actions: assign({ restarts: 0 }) } },
              on: {
                'xstate.error.actor.*': [
                  {
                    guard: 'restartLimitReached',
                    target: '#mobileNode.failed',
                    actions: {
                      type: 'report',
                      params: ({ context, event }) => ({
                        type: 'MN.FAILED',
                        reason: `${context.restarts + 1} child failures within ${RESTART_WINDOW_MS / 1000} s; last: ${
                          (event as ErrorActorEvent).actorId
                        }: ${errorText((event as ErrorActorEvent).error)}`,
                      }),
                    },
                  },
                  { actions: restartChild },
                ],
              },
            },
          },
        },
      },
    },
    /** Escalation: every child is stopped with the supervisor; the daemon exits non-zero. */
    failed: { type: 'final' },
  },
});

/* ------------------------------------------------------------------------------------------------
 * Test-generation model. xstate's pure `transition()` (which the generator uses) creates spawned
 * children as unstarted actor refs and returns `sendTo` / `sendParent` as action objects without
 * running them, so in the traversal the children never receive an event and never report. The
 * model therefore treats the supervisor's children as black boxes: `machine` runs inert children
 * (so a generated path means the same thing when executed on a live actor), and the children's
 * reports, effect requests and failures are listed as outside events. Each child's own behaviour
 * is covered by its own model.
 */

/** A child that does nothing: stands in for every child in the model's machine. */
const inertChild = setup({}).createMachine({ id: 'inertChild' });

const MODEL_HA1: HaAddresses = { name: 'ha1', ipv6: '2001:db8:1::1', ipv4: '192.0.2.1' };
const MODEL_HA2: HaAddresses = { name: 'ha2', ipv6: '2001:db8:1::2', ipv4: '192.0.2.2' };
const MODEL_HOA = '2001:db8:1::100';
const MODEL_COA_A = '2001:db8:5::10';
const MODEL_COA_4 = '192.168.1.10';

function modelEvents(context: MobileNodeContext): MobileNodeEvent[] {
  const ha = context.haName ?? 'ha1';
  const moved = (attachment: MovementAttachment, coa?: string): MobileNodeEvent => ({
    type: 'MOVEMENT.MOVED',
    attachment,
    ...(coa ? { coa } : {}),
    natSuspected: attachment === 'ipv4',
    reason: 'address change',
  });
  const bu = (haName: string): MobileNodeEvent => ({
    type: 'EFFECT.SEND_BU',
    params: {
      haName,
      sequence: context.nextSequence,
      lifetimeSeconds: 400,
      attachment: 'ipv6',
      careOf: context.coa ?? MODEL_COA_A,
      homeAddress: MODEL_HOA,
      forceUdp: false,
    },
  });
  const failure = (actorId: string): MobileNodeEvent => ({
    type: `xstate.error.actor.${actorId}`,
    error: 'model: child failed',
    actorId,
  });
  return [
    { type: 'ADDRESS.ADDED', ifname: 'eth0', family: 6, address: MODEL_COA_A, prefixLength: 64 },
    { type: 'ADDRESS.REMOVED', ifname: 'eth0', family: 6, address: MODEL_COA_A },
    { type: 'LINK.DOWN', ifname: 'eth0' },
    { type: 'DNS.ANSWER', name: 'ha1', rrType: 'AAAA', ttlSeconds: 300, addresses: [MODEL_HA1.ipv6 ?? ''] },
    { type: 'DNS.FAILURE', name: 'ha1', rrType: 'A', reason: 'timeout' },
    { type: 'EFFECT.RESOLVE', params: { queries: [{ name: 'ha1', type: 'AAAA' }] } },
    { type: 'DISCOVERY.FOUND', ha: MODEL_HA1, index: 0, candidates: 2 },
    { type: 'DISCOVERY.FOUND', ha: MODEL_HA2, index: 1, candidates: 2 },
    { type: 'DISCOVERY.FAILED', reason: 'no home agent candidates', retryInMs: 1000 },
    moved('ipv6', MODEL_COA_A),
    moved('ipv4', MODEL_COA_4),
    moved('home', MODEL_HOA),
    moved('detached'),
    { type: 'MOVEMENT.NAT', confirmed: true },
    bu(ha),
    bu('stale'),
    {
      type: 'BUL.REGISTERED',
      haName: ha,
      careOf: context.coa ?? MODEL_COA_A,
      attachment: 'ipv6',
      lifetimeSeconds: 400,
      ipv4: { status: 'not-requested' },
    },
    {
      type: 'BUL.REGISTERED',
      haName: 'stale',
      careOf: MODEL_COA_A,
      attachment: 'ipv6',
      lifetimeSeconds: 4,
      ipv4: { status: 'not-requested' },
    },
    { type: 'BUL.UNANSWERED', haName: ha, careOf: context.coa ?? MODEL_COA_A, attempts: 3 },
    { type: 'BUL.EXPIRED', haName: ha },
    { type: 'BUL.DEREGISTERED', haName: ha, acknowledged: true },
    { type: 'BUL.FAILED', haName: ha, status: 129, reason: 'administratively prohibited' },
    { type: 'BUL.GAVE_UP', haName: ha, careOf: context.coa ?? MODEL_COA_A },
    { type: 'KEEPALIVE.DUE' },
    {
      type: 'BA.RECEIVED',
      haName: ha,
      status: 0,
      sequence: (context.nextSequence - 1) & 0xffff,
      lifetimeSeconds: 400,
      natDetection: { forceUdp: false, refreshSeconds: 110 },
    },
    {
      type: 'BA.RECEIVED',
      haName: ha,
      status: 129,
      sequence: (context.nextSequence - 1) & 0xffff,
      lifetimeSeconds: 0,
    },
    { type: 'BA.RECEIVED', haName: 'stale', status: 0, sequence: 0, lifetimeSeconds: 400 },
    { type: 'BE.RECEIVED', haName: ha, status: 1 },
    { type: 'BRR.RECEIVED', haName: ha },
    { type: 'SHUTDOWN' },
    failure(MOVEMENT_ID),
    failure(DISCOVERY_ID),
    failure(bulId(ha)),
    failure(keepaliveId(ha)),
    failure(bulId('stale')),
  ];
}

export const mobileNodeModel: MachineModel<typeof mobileNodeMachine> = {
  name: 'mobileNode',
  machine: mobileNodeMachine.provide({
    actors: {
      haDiscovery: inertChild,
      movement: inertChild,
      bindingUpdate: inertChild,
      natKeepalive: inertChild,
    } as never,
  }),
  input: {
    homeAddress: MODEL_HOA,
    homePrefix: '2001:db8:1::/64',
    lifetimeSeconds: 400,
    discovery: { configured: [MODEL_HA1, MODEL_HA2] },
    initialSequence: 100,
  },
  events: (snapshot) => (snapshot.status === 'active' ? modelEvents(snapshot.context) : []),
  // Guards read the HA in use, the attachment and care-of address, and the restart count (0-3).
  serialize: (snapshot) =>
    snapshot.status !== 'active'
      ? JSON.stringify(snapshot.value)
      : JSON.stringify([
          snapshot.value,
          snapshot.context.haName,
          snapshot.context.attachment,
          snapshot.context.coa,
          snapshot.context.restarts,
        ]),
};
