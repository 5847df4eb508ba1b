import { describe, expect, it } from 'vitest';
import { baReceived, bindingAckFor, bindingUpdateFor, buReceived } from '../../src/actors/messages.js';
import type { MnSendBindingUpdateParams } from '../../src/machines/mobile-node.js';
import { emitMobilityPacket, ipv6, parseMobilityPacket } from '../../src/wire/index.js';

const HOA = '2001:db8:1::100';
const HA = { name: 'ha1', ipv6: '2001:db8:1::1', ipv4: '198.51.100.1' };

const params = (over: Partial<MnSendBindingUpdateParams>): MnSendBindingUpdateParams => ({
  haName: 'ha1',
  ha: HA,
  sequence: 7,
  lifetimeSeconds: 400,
  attachment: 'ipv6',
  careOf: '2001:db8:20::10',
  homeAddress: HOA,
  forceUdp: false,
  ...over,
});

/** Emits the BU as it travels and decodes it again, as the home agent's receive path does. */
function roundTrip(p: MnSendBindingUpdateParams, udp?: { address: string; port: number }) {
  const native = p.attachment === 'ipv6';
  const bytes = emitMobilityPacket(
    native
      ? { src: ipv6(p.careOf), dst: ipv6(HA.ipv6), homeAddress: ipv6(HOA) }
      : { src: ipv6(HOA), dst: ipv6(HA.ipv6) },
    bindingUpdateFor(p),
  );
  const parsed = parseMobilityPacket(bytes);
  if (!parsed.ok || parsed.value.message.kind !== 'bindingUpdate') throw new Error('not a BU');
  return buReceived(parsed.value.message, {
    homeAddress: HOA,
    ipv6Source: parsed.value.ipv6.src,
    saHomeAddress: HOA,
    ...(udp ? { udp } : {}),
  });
}

describe('BU: from the mobile node effect to the home agent event', () => {
  it('from an IPv6 care-of address: Alternate CoA gives the care-of address (RFC 6275 §11.7.1)', () => {
    const ev = roundTrip(params({ ipv4HomeAddress: '0.0.0.0' }));
    expect(ev).toEqual({
      type: 'BU.RECEIVED',
      homeAddress: HOA,
      saHomeAddress: HOA,
      sequence: 7,
      homeRegistration: true,
      forceUdp: false,
      lifetimeSeconds: 400,
      careOf: { family: 6, address: '2001:db8:20::10' },
      ipv4HomeAddressRequested: '0.0.0.0',
    });
  });

  it('from IPv4 behind a NAT: the IPv4 CoA option and the outer source both reach the HA (RFC 5555 §4.2)', () => {
    const ev = roundTrip(params({ attachment: 'ipv4', careOf: '10.0.0.10', forceUdp: true }), {
      address: '203.0.113.200',
      port: 61001,
    });
    expect(ev).toMatchObject({
      careOf: { family: 4, address: '10.0.0.10' },
      ipv4CareOfAddress: '10.0.0.10',
      udp: { sourceAddress: '203.0.113.200', sourcePort: 61001 },
      forceUdp: true,
    });
  });

  it('deregistration from home carries lifetime 0 and no care-of option', () => {
    const bu = bindingUpdateFor(params({ attachment: 'home', careOf: HOA, lifetimeSeconds: 0 }));
    expect(bu.lifetime).toBe(0);
    expect(bu.options).toEqual([]);
  });
});

describe('BA: from the home agent effect to the mobile node event', () => {
  it('carries status, sequence, lifetime and every RFC 5555 option across the wire', () => {
    const ba = bindingAckFor({
      homeAddress: HOA,
      careOf: { family: 4, address: '10.0.0.10' },
      status: 0,
      sequence: 7,
      lifetimeSeconds: 400,
      refreshAdviceSeconds: 200,
      ipv4Ack: { status: 0, address: '192.0.2.100', prefixLength: 32 },
      natDetection: { forceUdp: false, refreshSeconds: 110 },
    });
    const bytes = emitMobilityPacket({ src: ipv6(HA.ipv6), dst: ipv6(HOA) }, ba);
    const parsed = parseMobilityPacket(bytes);
    if (!parsed.ok || parsed.value.message.kind !== 'bindingAcknowledgement') throw new Error('not a BA');
    expect(baReceived('ha1', parsed.value.message, 12)).toEqual({
      type: 'BA.RECEIVED',
      haName: 'ha1',
      status: 0,
      sequence: 7,
      lifetimeSeconds: 400,
      refreshAdviceSeconds: 200,
      ipv4Ack: { status: 0, address: '192.0.2.100', prefixLength: 32 },
      natDetection: { forceUdp: false, refreshSeconds: 110 },
      roundTripMs: 12,
    });
  });
});
