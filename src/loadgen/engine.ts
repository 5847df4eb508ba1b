/**
 * The load generator's engine: a population of simulated mobile nodes (population.ts) talking to
 * one home agent over UDP, phase by phase:
 * - register: every node sends its first BU (the HA adds a binding);
 * - steady: for `durationSeconds`, nodes in turn refresh, or move (new care-of address and source
 *   port) with probability `moveRatio`;
 * - deregister: every node sends lifetime 0 (the HA removes the binding).
 * A phase offers BUs either at a fixed rate (open loop: the latency a rate gets) or as fast as
 * answers come back with at most `window` outstanding (closed loop: the HA's peak). A BU not
 * answered within `timeoutMs` is lost; a node never has two BUs outstanding, as a real one.
 */

import { performance } from 'node:perf_hooks';
import { bindingUpdateFor } from '../actors/messages.js';
import { seededRandom } from '../net/memory.js';
import type { UdpPort, UdpPortFactory } from '../net/ports.js';
import type { DerivedSaRange } from '../security/derived.js';
import { openMobilityPacket, sealMobilityPacket } from '../security/esp.js';
import { BaStatus, ipv6, NATD_REFRESH_NOT_NEEDED } from '../wire/index.js';
import { LatencyRecorder, type LatencySummary } from './latency.js';
import { createPopulation, espSequenceStart, privateCareOf, type SimulatedMobileNode } from './population.js';

export type Phase = 'register' | 'steady' | 'deregister';
export const PHASES: readonly Phase[] = ['register', 'steady', 'deregister'];

export interface LoadgenOptions {
  readonly ha: { readonly ipv4: string; readonly port: number; readonly ipv6: string };
  readonly range: DerivedSaRange;
  readonly mobileNodes: number;
  /** BUs per second offered, or 'max': closed loop with `window` outstanding. */
  readonly rate: number | 'max';
  readonly window: number;
  readonly lifetimeSeconds: number;
  readonly durationSeconds: number;
  readonly natRatio: number;
  readonly ipv4HomeRatio: number;
  readonly moveRatio: number;
  readonly timeoutMs: number;
  readonly phases: readonly Phase[];
  readonly sockets: number;
  /** Local addresses of the sockets, in turn (one address, or several from a prefix). */
  readonly bindAddresses: readonly string[];
  readonly udp: UdpPortFactory;
  /** Seed of the node mix and the move draws. */
  readonly seed?: number;
  /** Progress lines (phase start and end). */
  readonly progress?: (line: string) => void;
  /** Called between phases, e.g. for the benchmark to sample the HA. */
  readonly afterPhase?: (phase: Phase, report: PhaseReport) => Promise<void> | void;
}

export interface PhaseReport {
  readonly phase: Phase;
  readonly rate: number | 'max';
  readonly offered: number;
  readonly answered: number;
  readonly lost: number;
  readonly seconds: number;
  readonly offeredPerSecond: number;
  readonly answeredPerSecond: number;
  readonly latency: LatencySummary;
  /** BAs by status (RFC 6275 §6.1.8), e.g. {"0": 10000}. */
  readonly status: Record<string, number>;
  /** IPv4 Address Acknowledgement statuses (RFC 5555 §3.2.1), for nodes that asked. */
  readonly ipv4Ack: Record<string, number>;
  /** BAs whose NAT Detection said what the node's path is (keepalives iff NAT'd, RFC 5555 §4.2). */
  readonly natAsExpected: number;
  readonly natUnexpected: number;
  /** Datagrams that were not a BA for an outstanding BU (late, duplicate, undecryptable). */
  readonly stray: number;
}

export interface LoadgenReport {
  readonly mobileNodes: number;
  readonly sockets: number;
  readonly phases: PhaseReport[];
}

/** What the HA should hold for a node after its last BU (tests compare the binding cache). */
export interface ExpectedBinding {
  readonly homeAddress: string;
  /** The IPv4 care-of address the node claims (RFC 5555 §3.1.2). */
  readonly careOf: string;
  /** Behind a NAT: the outer source the HA sees and must answer (RFC 5555 §4.2). */
  readonly nat?: { readonly address: string; readonly port: number };
}

/** A population with its sockets open, running one phase at a time (the benchmark drives it). */
export interface Loadgen {
  readonly mobileNodes: number;
  readonly sockets: number;
  expectedBindings(): ExpectedBinding[];
  run(phase: Phase, how?: { rate?: number | 'max'; durationSeconds?: number }): Promise<PhaseReport>;
  close(): Promise<void>;
}

interface Counters {
  offered: number;
  answered: number;
  lost: number;
  stray: number;
  status: Record<string, number>;
  ipv4Ack: Record<string, number>;
  natAsExpected: number;
  natUnexpected: number;
  latency: LatencyRecorder;
}

const newCounters = (): Counters => ({
  offered: 0,
  answered: 0,
  lost: 0,
  stray: 0,
  status: {},
  ipv4Ack: {},
  natAsExpected: 0,
  natUnexpected: 0,
  latency: new LatencyRecorder(),
});

const bump = (record: Record<string, number>, key: number): void => {
  record[key] = (record[key] ?? 0) + 1;
};

/** Runs `o.phases` in order and closes the sockets. */
export async function runLoadgen(o: LoadgenOptions): Promise<LoadgenReport> {
  const loadgen = await createLoadgen(o);
  const phases: PhaseReport[] = [];
  try {
    for (const phase of PHASES) {
      if (!o.phases.includes(phase)) continue;
      const report = await loadgen.run(phase);
      phases.push(report);
      await o.afterPhase?.(phase, report);
    }
  } finally {
    await loadgen.close();
  }
  return { mobileNodes: loadgen.mobileNodes, sockets: loadgen.sockets, phases };
}

export async function createLoadgen(o: LoadgenOptions): Promise<Loadgen> {
  const population = createPopulation({
    range: o.range,
    count: o.mobileNodes,
    natRatio: o.natRatio,
    ipv4HomeRatio: o.ipv4HomeRatio,
    sockets: o.sockets,
    seed: o.seed ?? 1,
    firstEspSequence: espSequenceStart(Date.now()),
  });
  const random = seededRandom((o.seed ?? 1) ^ 0x5bd1e995);
  const haIpv6 = ipv6(o.ha.ipv6);
  const sockets: UdpPort[] = [];
  const sourceOf: string[] = [];
  const portOf: number[] = [];
  let counters = newCounters();
  /** BUs in flight, oldest first, for the timeout sweep. */
  const inFlight: { node: SimulatedMobileNode; sequence: number }[] = [];
  let inFlightHead = 0;
  let outstanding = 0;
  let onAnswer: () => void = () => {};

  const settle = (node: SimulatedMobileNode): void => {
    node.outstanding = -1;
    outstanding--;
    onAnswer();
  };

  const receive = (data: Uint8Array): void => {
    const opened = openMobilityPacket(population.sad, data);
    if (!opened.ok || opened.message.kind !== 'bindingAcknowledgement') {
      counters.stray++;
      return;
    }
    const node = population.nodeOfSpi(opened.sa.spi);
    const ba = opened.message;
    // A 135 answers the outstanding BU with the HA's last accepted sequence number, not the BU's.
    const outOfWindow = ba.status === BaStatus.SequenceNumberOutOfWindow;
    if (!node || node.outstanding < 0 || (node.outstanding !== ba.sequence && !outOfWindow)) {
      counters.stray++;
      return;
    }
    counters.latency.add(performance.now() - node.sentAt);
    counters.answered++;
    bump(counters.status, ba.status);
    // RFC 6275 §11.7.3: 135 carries the last sequence number the HA accepted; continue from it, as a
    // mobile node does after a restart (a second load generator run against a live binding cache).
    if (outOfWindow) node.sequence = ba.sequence;
    for (const option of ba.options) {
      if (option.kind === 'ipv4AddressAcknowledgement') bump(counters.ipv4Ack, option.status);
      if (option.kind === 'natDetection') {
        const keepalives = option.refreshTime !== NATD_REFRESH_NOT_NEEDED;
        if (keepalives === node.nat) counters.natAsExpected++;
        else counters.natUnexpected++;
      }
    }
    settle(node);
  };

  for (let i = 0; i < o.sockets; i++) {
    const address = o.bindAddresses[i % o.bindAddresses.length]!;
    const socket = await o.udp.bind(4, address, 0);
    socket.onMessage((d) => receive(d.data));
    sockets.push(socket);
    sourceOf.push(socket.local().address);
    portOf.push(socket.local().port);
  }

  const send = (node: SimulatedMobileNode, lifetimeSeconds: number): void => {
    const socket = sockets[node.socket]!;
    // getsockname is a system call: the sockets' addresses are read once, at bind.
    const source = sourceOf[node.socket]!;
    node.sequence = (node.sequence + 1) & 0xffff;
    const careOf = node.nat ? privateCareOf(node) : source;
    const message = bindingUpdateFor({
      haName: 'ha',
      ha: { ipv4: o.ha.ipv4, ipv6: o.ha.ipv6 },
      attachment: 'ipv4',
      careOf,
      homeAddress: node.homeAddress,
      sequence: node.sequence,
      lifetimeSeconds,
      forceUdp: false,
      ...(node.wantsIpv4 && lifetimeSeconds > 0 ? { ipv4HomeAddress: '0.0.0.0' } : {}),
    });
    // RFC 5555 §4.2: inside UDP, the inner IPv6 source is the home address.
    const packet = sealMobilityPacket({ src: ipv6(node.homeAddress), dst: haIpv6 }, message, node.sa);
    if (node.outstanding >= 0) {
      counters.lost++;
      outstanding--;
    }
    node.outstanding = node.sequence;
    node.sentAt = performance.now();
    outstanding++;
    counters.offered++;
    inFlight.push({ node, sequence: node.sequence });
    socket.send({ data: packet, address: o.ha.ipv4, port: o.ha.port }).catch(() => {
      // A send that fails (buffer full) is a BU the HA never sees: the timeout counts it lost.
    });
  };

  /** BUs past the timeout are lost (and their nodes free to send again). */
  const sweep = (): void => {
    const limit = performance.now() - o.timeoutMs;
    while (inFlightHead < inFlight.length) {
      const f = inFlight[inFlightHead]!;
      if (f.node.outstanding === f.sequence && f.node.sentAt > limit) break;
      inFlightHead++;
      if (f.node.outstanding === f.sequence) {
        counters.lost++;
        settle(f.node);
      }
    }
    if (inFlightHead > 4096 && inFlightHead * 2 > inFlight.length) {
      inFlight.splice(0, inFlightHead);
      inFlightHead = 0;
    }
  };

  /**
   * Offers `next()`'s BUs until it returns undefined, at the configured rate or closed-loop, then
   * waits for the last answers (or their timeout).
   */
  /** `next()`: the next BU, `null` when every node still awaits a BA, `undefined` when done. */
  const drive = (
    rateOrMax: number | 'max',
    next: () => { node: SimulatedMobileNode; lifetime: number } | null | undefined,
  ): Promise<void> =>
    new Promise((resolve) => {
      const start = performance.now();
      let sent = 0;
      let exhausted = false;
      let timer: NodeJS.Timeout | undefined;
      const sendOne = (): boolean => {
        const op = next();
        if (op === null) return false;
        if (op === undefined) {
          exhausted = true;
          return false;
        }
        send(op.node, op.lifetime);
        sent++;
        return true;
      };
      const finishIfDone = (): boolean => {
        if (!exhausted || outstanding > 0) return false;
        if (timer) clearInterval(timer);
        onAnswer = () => {};
        resolve();
        return true;
      };
      if (rateOrMax === 'max') {
        const fill = (): void => {
          while (!exhausted && outstanding < o.window && sendOne()) {}
          finishIfDone();
        };
        onAnswer = fill;
        timer = setInterval(() => {
          sweep();
          fill();
        }, 20);
        fill();
      } else {
        const rate = rateOrMax;
        onAnswer = () => {
          finishIfDone();
        };
        timer = setInterval(() => {
          const due = Math.floor(((performance.now() - start) * rate) / 1000);
          while (!exhausted && sent < due && sendOne()) {}
          sweep();
          finishIfDone();
        }, 1);
      }
    });

  const phaseReport = (phase: Phase, rate: number | 'max', seconds: number): PhaseReport => ({
    phase,
    rate,
    offered: counters.offered,
    answered: counters.answered,
    lost: counters.lost,
    seconds: Math.round(seconds * 1000) / 1000,
    offeredPerSecond: Math.round(counters.offered / seconds),
    answeredPerSecond: Math.round(counters.answered / seconds),
    latency: counters.latency.summary(),
    status: counters.status,
    ipv4Ack: counters.ipv4Ack,
    natAsExpected: counters.natAsExpected,
    natUnexpected: counters.natUnexpected,
    stray: counters.stray,
  });

  const nodes = population.nodes;
  let steadyNext = 0;
  return {
    mobileNodes: nodes.length,
    sockets: sockets.length,
    expectedBindings: () =>
      nodes.map((node) => {
        const source = { address: sourceOf[node.socket]!, port: portOf[node.socket]! };
        return node.nat
          ? { homeAddress: node.homeAddress, careOf: privateCareOf(node), nat: source }
          : { homeAddress: node.homeAddress, careOf: source.address };
      }),
    async run(phase, how = {}) {
      const rate = how.rate ?? o.rate;
      counters = newCounters();
      o.progress?.(`${phase}: ${nodes.length} mobile nodes, rate ${rate}`);
      const t0 = performance.now();
      if (phase === 'steady') {
        const deadline = t0 + (how.durationSeconds ?? o.durationSeconds) * 1000;
        await drive(rate, () => {
          if (performance.now() >= deadline) return undefined;
          // The next node in turn that is not still waiting for a BA: a mobile node never has two
          // BUs outstanding (RFC 6275 §11.8), so a slow HA sees fewer BUs, not duplicates.
          for (let tries = 0; tries < nodes.length; tries++) {
            const node = nodes[steadyNext++ % nodes.length]!;
            if (node.outstanding >= 0) continue;
            if (sockets.length > 1 && random() < o.moveRatio) {
              // A move: another network, so another care-of address and source port.
              node.moves++;
              node.socket = (node.socket + 1 + Math.floor(random() * (sockets.length - 1))) % sockets.length;
            }
            return { node, lifetime: o.lifetimeSeconds };
          }
          return null;
        });
      } else {
        let i = 0;
        const lifetime = phase === 'register' ? o.lifetimeSeconds : 0;
        await drive(rate, () => (i < nodes.length ? { node: nodes[i++]!, lifetime } : undefined));
      }
      // Every BU is answered or timed out; the phase lasted until then.
      const report = phaseReport(phase, rate, (performance.now() - t0) / 1000);
      o.progress?.(
        `${phase}: ${report.answered}/${report.offered} answered, ${report.answeredPerSecond} BA/s, p50 ${report.latency.p50Ms} ms, p99 ${report.latency.p99Ms} ms, lost ${report.lost}`,
      );
      return report;
    },
    async close() {
      await Promise.all(sockets.map((s) => s.close()));
    },
  };
}
