import { describe, expect, it } from 'vitest';
import { haDiscoveryInput, homeAgentInput, mobileNodeInput } from '../../src/config/inputs.js';
import { parseHaConfig, parseMnConfig } from '../../src/config/validate.js';
import { configOf, exampleJson } from './support.js';

describe('config → machine inputs', () => {
  it('gives the home agent supervisor the example HA config', () => {
    expect(homeAgentInput(configOf(parseHaConfig(exampleJson('ha.json'))))).toEqual({
      homePrefix: '2001:db8:1::/64',
      ipv4Pool: { start: '192.0.2.10', end: '192.0.2.99', prefixLength: 24, leaseSeconds: 3600 },
      maxLifetimeSeconds: 3600,
      natKeepaliveSeconds: 110,
      allowForceUdp: true,
    });
  });

  it('gives the mobile node supervisor the example MN config', () => {
    expect(mobileNodeInput(configOf(parseMnConfig(exampleJson('mn.json'))), 1234)).toEqual({
      homeAddress: '2001:db8:1::100',
      homePrefix: '2001:db8:1::/64',
      lifetimeSeconds: 600,
      ipv4HomeAddress: '0.0.0.0',
      forceUdp: false,
      discovery: { configured: [{ ipv6: '2001:db8:1::1', ipv4: '198.51.100.1' }] },
      initialSequence: 1234,
      settleMs: 500,
    });
  });

  it('maps each way to find the home agent onto HA discovery', () => {
    expect(haDiscoveryInput({ name: 'ha.example.net' })).toEqual({ haName: 'ha.example.net' });
    expect(haDiscoveryInput({ domain: 'example.net' })).toEqual({ domain: 'example.net' });
  });
});
