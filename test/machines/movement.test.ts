import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock, type StateValue } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import { classifyAddress, matchesPrefix, parsePrefix } from '../../src/machines/address-class.js';
import {
  IPV6_BU_ATTEMPTS_BEFORE_IPV4,
  type MovementEvent,
  type MovementReport,
  movementMachine,
  movementModel,
} from '../../src/machines/movement.js';

const HOME_PREFIX = '2001:db8:1::/64';
const SETTLE = 500;

const HOME6 = '2001:db8:1::100';
const V6A = '2001:db8:5::10';
const V6B = '2001:db8:6::20';
const PUB4 = '198.51.100.10';
const PRIV4 = '192.168.1.10';
const CGN4 = '100.64.3.4';

function start(settleMs?: number) {
  const clock = new SimulatedClock();
  const reports: { at: number; report: MovementReport }[] = [];
  const actor = createActor(
    movementMachine.provide({
      actions: { report: (_, params) => void reports.push({ at: clock.now(), report: params }) },
    }),
    { input: { homePrefix: HOME_PREFIX, ...(settleMs === undefined ? {} : { settleMs }) }, clock },
  );
  actor.start();
  const send = (e: MovementEvent) => actor.send(e);
  const add = (ifname: string, address: string, prefixLength = address.includes(':') ? 64 : 24) =>
    send({ type: 'ADDRESS.ADDED', ifname, family: address.includes(':') ? 6 : 4, address, prefixLength });
  const remove = (ifname: string, address: string) =>
    send({ type: 'ADDRESS.REMOVED', ifname, family: address.includes(':') ? 6 : 4, address });
  /** Steps the clock 1 ms at a time (the only timer is the settle debounce). */
  const advance = (ms: number) => {
    for (let i = 0; i < ms; i++) clock.increment(1);
  };
  const attachment = (): StateValue => (actor.getSnapshot().value as { attachment: StateValue }).attachment;
  const moved = () => reports.filter((r) => r.report.type === 'MOVEMENT.MOVED');
  return { actor, clock, reports, send, add, remove, advance, attachment, moved };
}

describe('movement: attachment from address events', () => {
  it('starts detached and stable, reports nothing', () => {
    const m = start();
    expect(m.actor.getSnapshot().value).toEqual({ addresses: 'stable', attachment: 'detached' });
    m.advance(2000);
    expect(m.reports).toEqual([]);
  });

  it('IPv6 visited network: reports the IPv6 CoA exactly settleMs after the address appears', () => {
    const m = start();
    m.add('eth0', V6A);
    expect(m.actor.getSnapshot().value).toEqual({ addresses: 'settling', attachment: 'detached' });
    m.advance(SETTLE - 1);
    expect(m.reports).toEqual([]);
    m.advance(1);
    expect(m.reports).toEqual([
      {
        at: SETTLE,
        report: {
          type: 'MOVEMENT.MOVED',
          attachment: 'ipv6',
          coa: V6A,
          coa6: V6A,
          natSuspected: false,
          reason: 'address change',
        },
      },
    ]);
    expect(m.actor.getSnapshot().value).toEqual({ addresses: 'stable', attachment: 'ipv6' });
  });

  it('dual-stack visited network: prefers the IPv6 CoA and names the IPv4 one as coa4 (RFC 5555 §4.4.1)', () => {
    const m = start();
    m.add('eth0', PRIV4);
    m.add('eth0', V6A);
    m.advance(SETTLE);
    expect(m.moved().map((r) => r.report)).toEqual([
      {
        type: 'MOVEMENT.MOVED',
        attachment: 'ipv6',
        coa: V6A,
        coa6: V6A,
        coa4: PRIV4,
        natSuspected: false,
        reason: 'address change',
      },
    ]);
    expect(m.attachment()).toBe('ipv6');
  });

  it('IPv4-only public network: ipv4.public, no NAT suspected', () => {
    const m = start();
    m.add('eth0', PUB4);
    m.advance(SETTLE);
    expect(m.reports.map((r) => r.report)).toEqual([
      {
        type: 'MOVEMENT.MOVED',
        attachment: 'ipv4',
        coa: PUB4,
        coa4: PUB4,
        natSuspected: false,
        reason: 'address change',
      },
    ]);
    expect(m.attachment()).toEqual({ ipv4: 'public' });
  });

  it.each([
    ['RFC 1918 10/8', '10.1.2.3'],
    ['RFC 1918 172.16/12', '172.31.255.1'],
    ['RFC 1918 192.168/16', PRIV4],
    ['RFC 6598 CGN 100.64/10', CGN4],
  ])('IPv4-only private network (%s): NAT suspected', (_, address) => {
    const m = start();
    m.add('wlan0', address);
    m.advance(SETTLE);
    expect(m.reports.map((r) => r.report)).toEqual([
      {
        type: 'MOVEMENT.MOVED',
        attachment: 'ipv4',
        coa: address,
        coa4: address,
        natSuspected: true,
        reason: 'address change',
      },
    ]);
    expect(m.attachment()).toEqual({ ipv4: { behindNat: 'suspected' } });
  });

  it('addresses just outside the private ranges are public (172.32.0.1, 100.128.0.1)', () => {
    for (const address of ['172.32.0.1', '100.128.0.1', '11.0.0.1']) {
      const m = start();
      m.add('eth0', address);
      m.advance(SETTLE);
      expect(m.attachment()).toEqual({ ipv4: 'public' });
    }
  });

  it('prefers a public IPv4 CoA over a private one when both are new', () => {
    const m = start();
    m.add('wlan0', PRIV4);
    m.add('eth0', PUB4);
    m.advance(SETTLE);
    expect(m.moved().map((r) => r.report.type === 'MOVEMENT.MOVED' && r.report.coa)).toEqual([PUB4]);
    expect(m.attachment()).toEqual({ ipv4: 'public' });
  });

  it('home: an address of the home IPv6 prefix on a link wins over a visited IPv6 address (RFC 6275 §11.5.5)', () => {
    const m = start();
    m.add('eth0', V6A);
    m.add('eth0', HOME6);
    m.advance(SETTLE);
    expect(m.reports.map((r) => r.report)).toEqual([
      {
        type: 'MOVEMENT.MOVED',
        attachment: 'home',
        coa: HOME6,
        coa6: V6A,
        natSuspected: false,
        reason: 'address change',
      },
    ]);
    expect(m.attachment()).toBe('home');
  });

  it('home prefix matching uses the prefix bits, not the text (2001:0db8:0001:0::5 is home)', () => {
    const m = start();
    m.add('eth0', '2001:0db8:0001:0000::5');
    m.advance(SETTLE);
    expect(m.attachment()).toBe('home');
    expect(m.moved()[0]!.report).toMatchObject({ coa: '2001:db8:1::5' });
  });

  it('ignores addresses that cannot be a CoA: link-local, loopback, ULA, 169.254/16, 127/8, garbage', () => {
    const m = start();
    m.add('eth0', 'fe80::1');
    m.add('eth0', '::1');
    m.add('eth0', 'fd00:1::5');
    m.add('eth0', '169.254.7.7', 16);
    m.add('lo', '127.0.0.1', 8);
    m.add('eth0', 'not-an-address');
    m.send({ type: 'ADDRESS.ADDED', ifname: 'eth0', family: 6, address: PUB4, prefixLength: 24 });
    expect(m.actor.getSnapshot().value).toEqual({ addresses: 'stable', attachment: 'detached' });
    m.advance(2000);
    expect(m.reports).toEqual([]);
    expect(m.actor.getSnapshot().context.addresses).toEqual([]);
  });

  it('returning home over IPv4 is not possible: an IPv4 address alone at home is a visited IPv4 network (RFC 5555 §4.4.4)', () => {
    const m = start();
    m.add('eth0', V6A);
    m.advance(SETTLE);
    m.send({ type: 'LINK.DOWN', ifname: 'eth0' });
    m.add('eth1', '10.0.0.7');
    m.advance(SETTLE);
    expect(m.attachment()).toEqual({ ipv4: { behindNat: 'suspected' } });
    m.add('eth1', HOME6);
    m.advance(SETTLE);
    expect(m.attachment()).toBe('home');
    expect(m.moved().map((r) => r.report.type === 'MOVEMENT.MOVED' && r.report.attachment)).toEqual([
      'ipv6',
      'ipv4',
      'home',
    ]);
  });
});

describe('movement: debounce', () => {
  it('three changes within the settle time give one report settleMs after the last change', () => {
    const m = start();
    m.add('eth0', PRIV4); // t=0
    m.advance(200);
    m.add('eth0', PUB4); // t=200
    m.advance(200);
    m.add('eth0', V6A); // t=400
    m.advance(SETTLE - 1); // t=899
    expect(m.reports).toEqual([]);
    m.advance(1); // t=900
    expect(m.reports).toHaveLength(1);
    expect(m.reports[0]).toMatchObject({ at: 900, report: { attachment: 'ipv6', coa: V6A, coa4: PUB4 } });
    m.advance(3000);
    expect(m.reports).toHaveLength(1);
  });

  it('honours a configured settleMs', () => {
    const m = start(50);
    m.add('eth0', V6A);
    m.advance(49);
    expect(m.reports).toEqual([]);
    m.advance(1);
    expect(m.reports).toHaveLength(1);
    expect(m.reports[0]!.at).toBe(50);
  });

  it('a flapping CoA that comes back within the settle time gives no report', () => {
    const m = start();
    m.add('eth0', V6A);
    m.advance(SETTLE);
    expect(m.reports).toHaveLength(1);
    m.remove('eth0', V6A); // t=500
    m.advance(300);
    m.add('eth0', V6A); // t=800
    expect(m.actor.getSnapshot().value).toEqual({ addresses: 'settling', attachment: 'ipv6' });
    m.advance(SETTLE);
    expect(m.reports).toHaveLength(1);
    expect(m.actor.getSnapshot().value).toEqual({ addresses: 'stable', attachment: 'ipv6' });
  });

  it('a link that goes down and comes back within the settle time gives no report', () => {
    const m = start();
    m.add('wlan0', PRIV4);
    m.advance(SETTLE);
    m.send({ type: 'LINK.DOWN', ifname: 'wlan0' });
    m.advance(SETTLE - 1);
    m.add('wlan0', PRIV4);
    m.advance(5 * SETTLE);
    expect(m.reports).toHaveLength(1);
    expect(m.attachment()).toEqual({ ipv4: { behindNat: 'suspected' } });
  });

  it('events that change no usable address do not restart the settle timer', () => {
    const m = start();
    m.add('eth0', V6A); // t=0
    m.advance(400);
    m.add('eth0', 'fe80::1'); // ignored
    m.add('eth0', V6A); // already there
    m.remove('eth0', V6B); // never there
    m.send({ type: 'LINK.DOWN', ifname: 'wlan9' }); // no addresses
    m.advance(100); // t=500
    expect(m.reports).toHaveLength(1);
    expect(m.reports[0]!.at).toBe(SETTLE);
  });
});

describe('movement: keeping the current CoA', () => {
  it('a second IPv6 address does not change the CoA (no needless re-registration)', () => {
    const m = start();
    m.add('eth0', V6A);
    m.advance(SETTLE);
    m.add('wlan0', V6B);
    m.advance(2 * SETTLE);
    expect(m.reports).toHaveLength(1);
    expect(m.actor.getSnapshot().context.coa).toBe(V6A);
  });

  it('a CoA that flaps behind a newer address is kept, though it is no longer the oldest', () => {
    const m = start();
    m.add('eth0', V6A);
    m.advance(SETTLE);
    m.add('wlan0', V6B);
    m.advance(SETTLE);
    m.remove('eth0', V6A);
    m.advance(100);
    m.add('eth0', V6A); // now listed after V6B
    m.advance(SETTLE);
    expect(m.reports).toHaveLength(1);
    expect(m.actor.getSnapshot().context.coa).toBe(V6A);
  });

  it('a public IPv4 address next to a private IPv4 CoA keeps the private CoA', () => {
    const m = start();
    m.add('wlan0', PRIV4);
    m.advance(SETTLE);
    m.add('eth0', PUB4);
    m.advance(SETTLE);
    expect(m.reports).toHaveLength(1);
    expect(m.attachment()).toEqual({ ipv4: { behindNat: 'suspected' } });
  });

  it('an IPv4 address appearing while on IPv6 changes nothing', () => {
    const m = start();
    m.add('eth0', V6A);
    m.advance(SETTLE);
    m.add('eth0', PUB4);
    m.advance(2 * SETTLE);
    expect(m.reports).toHaveLength(1);
    expect(m.attachment()).toBe('ipv6');
  });

  it('when the CoA goes away, the remaining address becomes the CoA', () => {
    const m = start();
    m.add('eth0', V6A);
    m.advance(SETTLE);
    m.add('wlan0', V6B);
    m.advance(SETTLE);
    m.remove('eth0', V6A);
    m.advance(SETTLE);
    expect(m.moved().map((r) => r.report)).toEqual([
      expect.objectContaining({ attachment: 'ipv6', coa: V6A }),
      {
        type: 'MOVEMENT.MOVED',
        attachment: 'ipv6',
        coa: V6B,
        coa6: V6B,
        natSuspected: false,
        reason: 'address change',
      },
    ]);
  });

  it('a new private IPv4 address next to the public CoA keeps the public CoA and its NAT verdict', () => {
    const m = start();
    m.add('eth0', PUB4);
    m.advance(SETTLE);
    m.send({ type: 'NAT.NONE' });
    m.add('wlan0', PRIV4);
    m.advance(SETTLE);
    expect(m.attachment()).toEqual({ ipv4: 'noNat' });
    expect(m.moved()).toHaveLength(1);
  });
});

describe('movement: IPv6 → IPv4 fallback (RFC 5555 §4.4.1)', () => {
  function onDualStack(ipv4 = PRIV4) {
    const m = start();
    m.add('eth0', V6A);
    m.add('eth0', ipv4);
    m.advance(SETTLE);
    m.reports.length = 0;
    return m;
  }

  it('two unanswered IPv6 BUs: stay on IPv6', () => {
    const m = onDualStack();
    m.send({ type: 'BU.UNANSWERED', attempts: 1 });
    m.send({ type: 'BU.UNANSWERED', attempts: 2 });
    expect(m.attachment()).toBe('ipv6');
    expect(m.reports).toEqual([]);
  });

  it('the third unanswered IPv6 BU switches to the IPv4 CoA at once', () => {
    const m = onDualStack();
    m.send({ type: 'BU.UNANSWERED', attempts: 1 });
    m.send({ type: 'BU.UNANSWERED', attempts: 2 });
    const t = m.clock.now();
    m.send({ type: 'BU.UNANSWERED', attempts: IPV6_BU_ATTEMPTS_BEFORE_IPV4 });
    expect(m.reports).toEqual([
      {
        at: t,
        report: {
          type: 'MOVEMENT.MOVED',
          attachment: 'ipv4',
          coa: PRIV4,
          coa6: V6A,
          coa4: PRIV4,
          natSuspected: true,
          reason: 'ipv6 unanswered, falling back to ipv4',
        },
      },
    ]);
    expect(m.attachment()).toEqual({ ipv4: { behindNat: 'suspected' } });
    expect(m.actor.getSnapshot().context.ipv6Failed).toBe(true);
  });

  it('falls back to a public IPv4 CoA into ipv4.public', () => {
    const m = onDualStack(PUB4);
    m.send({ type: 'BU.UNANSWERED', attempts: 3 });
    expect(m.attachment()).toEqual({ ipv4: 'public' });
    expect(m.reports[0]!.report).toMatchObject({ coa: PUB4, natSuspected: false });
  });

  it('no fallback without an IPv4 address; it happens once one appears and BUs still go unanswered', () => {
    const m = start();
    m.add('eth0', V6A);
    m.advance(SETTLE);
    m.reports.length = 0;
    m.send({ type: 'BU.UNANSWERED', attempts: 3 });
    m.send({ type: 'BU.UNANSWERED', attempts: 4 });
    expect(m.attachment()).toBe('ipv6');
    expect(m.reports).toEqual([]);
    expect(m.actor.getSnapshot().context.ipv6Failed).toBe(false);
    m.add('eth0', PUB4);
    m.advance(SETTLE);
    expect(m.reports).toEqual([]); // an IPv4 address alone does not beat IPv6
    m.send({ type: 'BU.UNANSWERED', attempts: 5 });
    expect(m.attachment()).toEqual({ ipv4: 'public' });
  });

  it('BU.ANSWERED resets: two more unanswered BUs after a BA do not fall back', () => {
    const m = onDualStack();
    m.send({ type: 'BU.UNANSWERED', attempts: 2 });
    expect(m.actor.getSnapshot().context.unanswered).toBe(2);
    m.send({ type: 'BU.ANSWERED' });
    expect(m.actor.getSnapshot().context.unanswered).toBe(0);
    m.send({ type: 'BU.UNANSWERED', attempts: 1 });
    m.send({ type: 'BU.UNANSWERED', attempts: 2 });
    expect(m.attachment()).toBe('ipv6');
    expect(m.reports).toEqual([]);
  });

  it('ignores an unanswered count about a CoA it already left', () => {
    const m = onDualStack();
    m.send({ type: 'BU.UNANSWERED', attempts: 3, coa: '2001:db8:99::1' });
    expect(m.attachment()).toBe('ipv6');
    m.send({ type: 'BU.UNANSWERED', attempts: 3, coa: V6A });
    expect(m.attachment()).toEqual({ ipv4: { behindNat: 'suspected' } });
  });

  it('does not flip back to IPv6 on the next move (RFC 5555 §4.4.1 recommendation)', () => {
    const m = onDualStack();
    m.send({ type: 'BU.UNANSWERED', attempts: 3 });
    m.reports.length = 0;
    // Move to another dual-stack network: both addresses change.
    m.send({ type: 'LINK.DOWN', ifname: 'eth0' });
    m.add('wlan0', V6B);
    m.add('wlan0', '10.9.9.9', 8);
    m.advance(SETTLE);
    expect(m.reports.map((r) => r.report)).toEqual([
      {
        type: 'MOVEMENT.MOVED',
        attachment: 'ipv4',
        coa: '10.9.9.9',
        coa6: V6B,
        coa4: '10.9.9.9',
        natSuspected: true,
        reason: 'address change',
      },
    ]);
  });

  it('uses IPv6 again when no IPv4 address is left, and keeps it once a BA proves it works', () => {
    const m = onDualStack();
    m.send({ type: 'BU.UNANSWERED', attempts: 3 });
    m.remove('eth0', PRIV4);
    m.advance(SETTLE);
    expect(m.attachment()).toBe('ipv6');
    m.send({ type: 'BU.ANSWERED' });
    expect(m.actor.getSnapshot().context.ipv6Failed).toBe(false);
    m.add('eth0', PRIV4);
    m.advance(SETTLE);
    expect(m.attachment()).toBe('ipv6');
    expect(m.moved().map((r) => r.report.type === 'MOVEMENT.MOVED' && r.report.attachment)).toEqual([
      'ipv4',
      'ipv6',
    ]);
  });

  it('unanswered BUs do nothing on IPv4 or at home', () => {
    const m = start();
    m.add('eth0', PUB4);
    m.advance(SETTLE);
    m.send({ type: 'BU.UNANSWERED', attempts: 10 });
    expect(m.attachment()).toEqual({ ipv4: 'public' });
    expect(m.actor.getSnapshot().context.unanswered).toBe(10);
    m.send({ type: 'BU.ANSWERED' });
    expect(m.actor.getSnapshot().context.unanswered).toBe(0);
    m.add('eth0', HOME6);
    m.advance(SETTLE);
    m.send({ type: 'BU.UNANSWERED', attempts: 10 });
    expect(m.attachment()).toBe('home');
    expect(m.moved()).toHaveLength(2);
  });

  it('returning home forgets the IPv6 failure', () => {
    const m = onDualStack();
    m.send({ type: 'BU.UNANSWERED', attempts: 3 });
    m.add('eth0', HOME6);
    m.advance(SETTLE);
    expect(m.attachment()).toBe('home');
    expect(m.actor.getSnapshot().context.ipv6Failed).toBe(false);
    m.send({ type: 'LINK.DOWN', ifname: 'eth0' });
    m.add('wlan0', V6B);
    m.add('wlan0', PRIV4);
    m.advance(SETTLE);
    expect(m.attachment()).toBe('ipv6');
  });
});

describe('movement: returning home and detaching', () => {
  it('visited IPv6 → home: one report with the home address as CoA', () => {
    const m = start();
    m.add('wlan0', V6A);
    m.advance(SETTLE);
    m.send({ type: 'LINK.DOWN', ifname: 'wlan0' });
    m.add('eth0', HOME6);
    m.advance(SETTLE);
    expect(m.moved().map((r) => r.report)).toEqual([
      expect.objectContaining({ attachment: 'ipv6', coa: V6A }),
      {
        type: 'MOVEMENT.MOVED',
        attachment: 'home',
        coa: HOME6,
        natSuspected: false,
        reason: 'address change',
      },
    ]);
  });

  it('link down removes that link’s addresses and gives detached after the settle time', () => {
    const m = start();
    m.add('eth0', V6A);
    m.add('eth0', PRIV4);
    m.advance(SETTLE);
    const t = m.clock.now();
    m.send({ type: 'LINK.DOWN', ifname: 'eth0' });
    expect(m.actor.getSnapshot().context.addresses).toEqual([]);
    m.advance(SETTLE);
    expect(m.reports.at(-1)).toEqual({
      at: t + SETTLE,
      report: {
        type: 'MOVEMENT.MOVED',
        attachment: 'detached',
        natSuspected: false,
        reason: 'address change',
      },
    });
    expect(m.attachment()).toBe('detached');
  });

  it('link down on one link keeps the other link’s CoA', () => {
    const m = start();
    m.add('eth0', V6A);
    m.advance(SETTLE);
    m.add('wlan0', PUB4);
    m.advance(SETTLE);
    m.send({ type: 'LINK.DOWN', ifname: 'eth0' });
    m.advance(SETTLE);
    expect(m.reports.at(-1)!.report).toEqual({
      type: 'MOVEMENT.MOVED',
      attachment: 'ipv4',
      coa: PUB4,
      coa4: PUB4,
      natSuspected: false,
      reason: 'address change',
    });
  });

  it('removing an address by a non-canonical spelling matches it', () => {
    const m = start();
    m.add('eth0', V6A);
    m.advance(SETTLE);
    m.remove('eth0', '2001:0db8:0005:0000:0000:0000:0000:0010');
    m.advance(SETTLE);
    expect(m.attachment()).toBe('detached');
  });
});

describe('movement: NAT verdict from the HA (RFC 5555 §4.2, §4.4.2)', () => {
  function onPrivate() {
    const m = start();
    m.add('wlan0', PRIV4);
    m.advance(SETTLE);
    m.reports.length = 0;
    return m;
  }

  it('suspected → confirmed on NAT.DETECTED, reported once', () => {
    const m = onPrivate();
    m.send({ type: 'NAT.DETECTED' });
    m.send({ type: 'NAT.DETECTED' });
    expect(m.attachment()).toEqual({ ipv4: { behindNat: 'confirmed' } });
    expect(m.reports.map((r) => r.report)).toEqual([{ type: 'MOVEMENT.NAT', confirmed: true }]);
  });

  it('suspected → noNat on NAT.NONE; then a NAT appearing is reported', () => {
    const m = onPrivate();
    m.send({ type: 'NAT.NONE' });
    expect(m.attachment()).toEqual({ ipv4: 'noNat' });
    m.send({ type: 'NAT.NONE' });
    m.send({ type: 'NAT.DETECTED' });
    expect(m.attachment()).toEqual({ ipv4: { behindNat: 'confirmed' } });
    m.send({ type: 'NAT.NONE' });
    expect(m.reports.map((r) => r.report)).toEqual([
      { type: 'MOVEMENT.NAT', confirmed: false },
      { type: 'MOVEMENT.NAT', confirmed: true },
      { type: 'MOVEMENT.NAT', confirmed: false },
    ]);
  });

  it('a public CoA behind a NAT anyway is confirmed by the HA', () => {
    const m = start();
    m.add('eth0', PUB4);
    m.advance(SETTLE);
    m.send({ type: 'NAT.DETECTED' });
    expect(m.attachment()).toEqual({ ipv4: { behindNat: 'confirmed' } });
    expect(m.reports.at(-1)!.report).toEqual({ type: 'MOVEMENT.NAT', confirmed: true });
  });

  it('NAT verdicts mean nothing on IPv6 or at home', () => {
    const m = start();
    m.add('eth0', V6A);
    m.advance(SETTLE);
    m.send({ type: 'NAT.DETECTED' });
    m.send({ type: 'NAT.NONE' });
    expect(m.attachment()).toBe('ipv6');
    expect(m.reports).toHaveLength(1);
  });

  it('a confirmed NAT survives an unrelated address change but not a new IPv4 CoA', () => {
    const m = onPrivate();
    m.send({ type: 'NAT.DETECTED' });
    m.add('wlan0', 'fe80::1');
    m.add('wlan0', '192.168.1.11');
    m.advance(SETTLE);
    expect(m.attachment()).toEqual({ ipv4: { behindNat: 'confirmed' } });
    m.remove('wlan0', PRIV4);
    m.advance(SETTLE);
    expect(m.attachment()).toEqual({ ipv4: { behindNat: 'suspected' } });
    expect(m.reports.map((r) => r.report)).toEqual([
      { type: 'MOVEMENT.NAT', confirmed: true },
      {
        type: 'MOVEMENT.MOVED',
        attachment: 'ipv4',
        coa: '192.168.1.11',
        coa4: '192.168.1.11',
        natSuspected: true,
        reason: 'address change',
      },
    ]);
  });

  it('the NAT verdict is handled while addresses are settling', () => {
    const m = onPrivate();
    m.add('wlan0', V6A);
    m.send({ type: 'NAT.DETECTED' });
    expect(m.actor.getSnapshot().value).toEqual({
      addresses: 'settling',
      attachment: { ipv4: { behindNat: 'confirmed' } },
    });
  });
});

describe('address classification', () => {
  it('matches prefixes bit by bit', () => {
    const p = parsePrefix('172.16.0.0/12')!;
    expect(matchesPrefix(classifyAddress(4, '172.31.255.255')!.bytes, p)).toBe(true);
    expect(matchesPrefix(classifyAddress(4, '172.32.0.0')!.bytes, p)).toBe(false);
    expect(matchesPrefix(classifyAddress(6, '2001:db8:1::1')!.bytes, p)).toBe(false);
    expect(parsePrefix('2001:db8::/129')).toBeUndefined();
    expect(parsePrefix('10.0.0.0/33')).toBeUndefined();
    expect(parsePrefix('10.0.0.0')).toBeUndefined();
  });

  it('rejects an input home prefix that is not IPv6', () => {
    const actor = createActor(movementMachine, { input: { homePrefix: '10.0.0.0/8' } });
    let error: unknown;
    actor.subscribe({ error: (e) => (error = e) });
    actor.start();
    expect(String(error)).toContain('homePrefix "10.0.0.0/8"');
  });
});

describe('movement model', () => {
  it('the abstract graph terminates and reaches every state node', () => {
    type Snap = { _nodes: { id: string; after: { eventType: string }[] }[] };
    const timerEvents = (s: unknown) =>
      (s as Snap)._nodes.flatMap((n) =>
        n.after.map((t) => ({ type: t.eventType }) as unknown as MovementEvent),
      );
    const paths = getShortestPaths(movementModel.machine, {
      events: (s) => [...movementModel.events(s), ...timerEvents(s)],
      serializeState: movementModel.serialize as never,
      input: movementModel.input,
    });
    const reached = new Set<string>();
    for (const p of paths) for (const n of (p.state as unknown as Snap)._nodes) reached.add(n.id);
    const all: string[] = [];
    const walk = (node: { id: string; states: Record<string, unknown> }) => {
      all.push(node.id);
      for (const child of Object.values(node.states)) walk(child as typeof node);
    };
    walk(movementMachine.root as unknown as { id: string; states: Record<string, unknown> });
    expect(all.filter((id) => !reached.has(id))).toEqual([]);
    expect(paths.length).toBeLessThan(5000);
  });
});
