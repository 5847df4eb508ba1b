import { describe, expect, it } from 'vitest';
import { MN_DEFAULTS, parseMnConfig } from '../../src/config/validate.js';
import { configOf, errorsOf, exampleJson, patch, patchAll } from './support.js';

const base = exampleJson('mn.json');
const HOME_AGENT_EXPECTED =
  'exactly one of "addresses": [...], "name": "ha.example.net", "domain": "example.net"';
const NAME_EXPECTED = 'a DNS name of letters, digits and hyphens, e.g. ha.example.net';

const minimal = {
  homeAddress: '2001:db8:1::100',
  homePrefix: '2001:db8:1::/64',
  homeAgent: { name: 'ha.example.net' },
  securityAssociation: { spiIn: 300, spiOut: 301, algorithm: 'aes-gcm-16', encryptionKey: 'ab'.repeat(20) },
};

describe('parseMnConfig: defaults and canonical forms', () => {
  it('fills in every default of an MN file that gives only the required fields', () => {
    const config = configOf(parseMnConfig(minimal));
    expect(config.lifetimeSeconds).toBe(600);
    expect(config.forceUdp).toBe(false);
    expect(config.udpPort).toBe(0);
    expect(config.settleMs).toBe(500);
    expect(config.control).toEqual({ socket: '/run/dsmip6/mn.sock' });
    expect(config.log).toEqual({ level: 'info' });
    expect(config.ipv4HomeAddress).toBeUndefined();
    expect(config.dns).toBeUndefined();
    expect(config.interfaces).toBeUndefined();
    expect(config.pcap).toBeUndefined();
    expect(MN_DEFAULTS).toMatchObject({ lifetimeSeconds: 600, udpPort: 0, settleMs: 500 });
  });

  it('turns "dynamic" into 0.0.0.0 and keeps a static IPv4 home address', () => {
    expect(configOf(parseMnConfig({ ...minimal, ipv4HomeAddress: 'dynamic' })).ipv4HomeAddress).toBe(
      '0.0.0.0',
    );
    expect(configOf(parseMnConfig({ ...minimal, ipv4HomeAddress: '192.0.2.20' })).ipv4HomeAddress).toBe(
      '192.0.2.20',
    );
  });

  it('takes each of the three ways to find the home agent', () => {
    expect(configOf(parseMnConfig({ ...minimal, homeAgent: { name: 'HA.Example.NET.' } })).homeAgent).toEqual(
      {
        name: 'ha.example.net',
      },
    );
    expect(configOf(parseMnConfig({ ...minimal, homeAgent: { domain: 'example.net' } })).homeAgent).toEqual({
      domain: 'example.net',
    });
    const addresses = [{ ipv6: '2001:DB8:1::1', ipv4: '198.51.100.1' }, { name: 'ha2.example.net' }];
    expect(configOf(parseMnConfig({ ...minimal, homeAgent: { addresses } })).homeAgent).toEqual({
      addresses: [{ ipv6: '2001:db8:1::1', ipv4: '198.51.100.1' }, { name: 'ha2.example.net' }],
    });
  });

  it('canonicalises DNS servers in the form node:dns takes', () => {
    const servers = ['203.0.113.53', '203.0.113.53:5353', '2001:DB8::53', '[2001:db8:0::53]:53'];
    expect(configOf(parseMnConfig({ ...minimal, dns: { servers } })).dns).toEqual({
      servers: ['203.0.113.53', '203.0.113.53:5353', '2001:db8::53', '[2001:db8::53]:53'],
    });
  });

  it('keeps the values the example gives', () => {
    const config = configOf(parseMnConfig(base));
    expect(config.homeAddress).toBe('2001:db8:1::100');
    expect(config.interfaces).toEqual(['eth0', 'wlan0']);
    expect(config.securityAssociation).toMatchObject({ spiIn: 4098, spiOut: 4097, algorithm: 'aes-gcm-16' });
    expect(config.securityAssociation.encryptionKey).toHaveLength(36);
  });
});

/** [what is wrong, field path in the JSON, new value (undefined deletes), error path, error message] */
// biome-ignore format: one case per line reads as a table
const violations: [string, string, unknown, string, string][] = [
  ['homeAddress missing', 'homeAddress', undefined, 'mn.homeAddress', 'missing (expected an IPv6 address, e.g. 2001:db8:1::1, in homePrefix)'],
  ['homeAddress outside the prefix', 'homeAddress', '2001:db8:2::100', 'mn.homeAddress', '"2001:db8:2::100": outside homePrefix 2001:db8:1::/64 (expected a home address in the home prefix, RFC 6275 §10.3.1)'],
  ['homeAddress loopback', 'homeAddress', '::1', 'mn.homeAddress', '"::1": the loopback address (expected a routable unicast IPv6 address)'],
  ['homeAddress IPv4-mapped', 'homeAddress', '::ffff:192.0.2.1', 'mn.homeAddress', '"::ffff:192.0.2.1": an IPv4-mapped address (expected a routable unicast IPv6 address)'],
  ['homePrefix link-local', 'homePrefix', 'fe80::/64', 'mn.homePrefix', '"fe80::/64": link-local (expected a unicast IPv6 prefix)'],
  ['lifetimeSeconds not a multiple of 4', 'lifetimeSeconds', 602, 'mn.lifetimeSeconds', '602: not a multiple of 4 (expected a multiple of 4, the unit of BU and BA lifetimes in RFC 6275 §6.1.7: use 600 or 604)'],
  ['lifetimeSeconds below one unit', 'lifetimeSeconds', 2, 'mn.lifetimeSeconds', '2: out of range (expected an integer 4-262140)'],
  ['ipv4HomeAddress 0.0.0.0', 'ipv4HomeAddress', '0.0.0.0', 'mn.ipv4HomeAddress', '"0.0.0.0": in "this network" 0.0.0.0/8 (expected a.b.c.d, or "dynamic" to have the HA assign one)'],
  ['ipv4HomeAddress "Dynamic"', 'ipv4HomeAddress', 'Dynamic', 'mn.ipv4HomeAddress', '"Dynamic": not an IPv4 address (expected a.b.c.d, or "dynamic" to have the HA assign one)'],
  ['ipv4HomeAddress link-local', 'ipv4HomeAddress', '169.254.1.1', 'mn.ipv4HomeAddress', '"169.254.1.1": link-local (expected a.b.c.d, or "dynamic" to have the HA assign one)'],
  ['forceUdp a number', 'forceUdp', 1, 'mn.forceUdp', '1: not a boolean (expected true or false)'],
  ['homeAgent missing', 'homeAgent', undefined, 'mn.homeAgent', `missing (expected { ${HOME_AGENT_EXPECTED} })`],
  ['homeAgent empty', 'homeAgent', {}, 'mn.homeAgent', `{}: no home agent given (expected ${HOME_AGENT_EXPECTED})`],
  ['homeAgent with two ways', 'homeAgent', { name: 'ha.example.net', domain: 'example.net' }, 'mn.homeAgent', `{"name":"ha.example.net","domain":"example.net"}: both name and domain (expected ${HOME_AGENT_EXPECTED})`],
  ['homeAgent.name an address', 'homeAgent', { name: '198.51.100.1' }, 'mn.homeAgent.name', `"198.51.100.1": an address, not a name (expected ${NAME_EXPECTED}; put addresses in homeAgent.addresses)`],
  ['homeAgent.domain with an empty label', 'homeAgent', { domain: 'example..net' }, 'mn.homeAgent.domain', `"example..net": not a DNS name (expected ${NAME_EXPECTED})`],
  ['homeAgent.domain with an underscore', 'homeAgent', { domain: '_mip6._ipv6.example.net' }, 'mn.homeAgent.domain', `"_mip6._ipv6.example.net": not a DNS name (expected ${NAME_EXPECTED})`],
  ['homeAgent.addresses empty', 'homeAgent.addresses', [], 'mn.homeAgent.addresses', '[]: empty (expected an array of { "ipv6"?, "ipv4"?, "name"? }, most preferred first)'],
  ['homeAgent.addresses entry empty', 'homeAgent.addresses', [{}], 'mn.homeAgent.addresses[0]', '{}: no address or name (expected at least one of ipv6, ipv4, name)'],
  ['homeAgent.addresses entry bad IPv4', 'homeAgent.addresses', [{ ipv4: '198.51.100.256' }], 'mn.homeAgent.addresses[0].ipv4', '"198.51.100.256": not an IPv4 address (expected a.b.c.d)'],
  ['homeAgent.addresses entry misspelt key', 'homeAgent.addresses', [{ ip6: '2001:db8:1::1' }], 'mn.homeAgent.addresses[0].ip6', 'unknown key (did you mean "ipv6"?)'],
  ['homeAgent unknown way', 'homeAgent.names', ['ha.example.net'], 'mn.homeAgent.names', 'unknown key (did you mean "name"?)'],
  ['dns.servers empty', 'dns.servers', [], 'mn.dns.servers', '[]: empty (expected an array of addresses, e.g. ["192.0.2.53"])'],
  ['dns.servers port 0', 'dns.servers', ['192.0.2.53:0'], 'mn.dns.servers[0]', '"192.0.2.53:0": port "0" out of range (expected a port 1-65535)'],
  ['dns.servers a name', 'dns.servers', ['ns.example.net'], 'mn.dns.servers[0]', '"ns.example.net": not an IP address (expected an IP address with an optional port: 192.0.2.53, 192.0.2.53:53, 2001:db8::53 or [2001:db8::53]:53)'],
  ['dns.servers bracketed IPv4', 'dns.servers', ['[192.0.2.53]:53'], 'mn.dns.servers[0]', '"[192.0.2.53]:53": not an IP address (expected an IP address with an optional port: 192.0.2.53, 192.0.2.53:53, 2001:db8::53 or [2001:db8::53]:53)'],
  ['udpPort beyond 16 bits', 'udpPort', 70000, 'mn.udpPort', '70000: out of range (expected an integer 0-65535)'],
  ['interfaces empty', 'interfaces', [], 'mn.interfaces', '[]: empty (expected an array of interface names, e.g. ["eth0", "wlan0"]; leave it out to watch every link but lo)'],
  ['interfaces twice', 'interfaces', ['eth0', 'eth0'], 'mn.interfaces[1]', '"eth0": listed twice (expected each interface once)'],
  ['interface name too long', 'interfaces', ['eth0', 'a-very-long-name0'], 'mn.interfaces[1]', '"a-very-long-name0": not an interface name (expected an interface name of 1-15 characters, e.g. eth0)'],
  ['securityAssociation missing', 'securityAssociation', undefined, 'mn.securityAssociation', `missing (expected { "spiIn", "spiOut", "algorithm", "encryptionKey", "authenticationKey"? }, matching the HA's entry for homeAddress)`],
  ['securityAssociation with a homeAddress', 'securityAssociation.homeAddress', '2001:db8:1::100', 'mn.securityAssociation.homeAddress', 'unknown key (expected one of spiIn, spiOut, algorithm, encryptionKey, authenticationKey)'],
  ['securityAssociation spiIn = spiOut', 'securityAssociation.spiIn', 4097, 'mn.securityAssociation.spiOut', '4097: same as spiIn (expected a different SPI for each direction)'],
  ['settleMs negative', 'settleMs', -1, 'mn.settleMs', '-1: out of range (expected an integer 0-60000)'],
  ['pcap a boolean', 'pcap', true, 'mn.pcap', 'true: not a string (expected a file name to write the pcap to)'],
  ['log not an object', 'log', 'debug', 'mn.log', '"debug": not an object (expected { "level": "info" })'],
  ['top-level key far from any', 'timeout', 600, 'mn.timeout', 'unknown key (expected one of homeAddress, homePrefix, lifetimeSeconds, ipv4HomeAddress, forceUdp, homeAgent, dns, udpPort, interfaces, securityAssociation, settleMs, dataplane, control, pcap, log)'],
  ['top-level key without its unit', 'lifetime', 600, 'mn.lifetime', 'unknown key (did you mean "lifetimeSeconds"?)'],
  ['top-level key in snake case', 'force_udp', true, 'mn.force_udp', 'unknown key (did you mean "forceUdp"?)'],
];

describe('parseMnConfig: each violated constraint gives exactly its path and message', () => {
  it.each(violations)('%s', (_what, field, value, path, message) => {
    expect(errorsOf(parseMnConfig(patch(base, field, value)))).toEqual([{ path, message }]);
  });

  it('an SA switched to CBC reports the GCM-sized key and the missing authentication key', () => {
    const json = patch(base, 'securityAssociation.algorithm', 'aes-cbc-hmac-sha256');
    expect(errorsOf(parseMnConfig(json))).toEqual([
      {
        path: 'mn.securityAssociation.encryptionKey',
        message:
          '<secret, 72 characters>: 36 bytes (expected a 16, 24 or 32-byte AES key for aes-cbc-hmac-sha256: 16, 24 or 32 bytes = 32, 48 or 64 hex digits)',
      },
      {
        path: 'mn.securityAssociation.authenticationKey',
        message:
          'missing (expected the HMAC-SHA-256 key for aes-cbc-hmac-sha256: 32 bytes = 64 hex digits, e.g. from openssl rand -hex 32)',
      },
    ]);
  });

  it('says when an HA file was given to the MN', () => {
    expect(errorsOf(parseMnConfig(exampleJson('ha.json')))).toContainEqual({
      path: 'mn',
      message:
        'has securityAssociations, ipv4Pool: fields of a home agent config (expected a mobile node config; is this file for dsmip6 ha --config?)',
    });
  });
});

describe('parseMnConfig: reports every error at once', () => {
  it('lists all problems of a file', () => {
    const json = patchAll(base, {
      homeAddress: '2001:db8:9::1',
      lifetimeSeconds: 1000001,
      forceUdp: 'no',
      'homeAgent.addresses': [{ ipv6: 'ha.example.net' }, { ipv4: '10.0.0.1', nmae: 'x' }],
      'securityAssociation.spiOut': 0,
      settleMs: 0.5,
      'control.sock': '/tmp/mn.sock',
    });
    expect(errorsOf(parseMnConfig(json))).toEqual([
      {
        path: 'mn.homeAddress',
        message:
          '"2001:db8:9::1": outside homePrefix 2001:db8:1::/64 (expected a home address in the home prefix, RFC 6275 §10.3.1)',
      },
      { path: 'mn.lifetimeSeconds', message: '1000001: out of range (expected an integer 4-262140)' },
      { path: 'mn.forceUdp', message: '"no": not a boolean (expected true or false)' },
      {
        path: 'mn.homeAgent.addresses[0].ipv6',
        message: '"ha.example.net": not an IPv6 address (expected an IPv6 address, e.g. 2001:db8:1::1)',
      },
      { path: 'mn.homeAgent.addresses[1].nmae', message: 'unknown key (did you mean "name"?)' },
      {
        path: 'mn.securityAssociation.spiOut',
        message:
          '0: out of range (expected an integer 256-4294967295; 0 is never sent and 1-255 are reserved, RFC 4303 §2.1)',
      },
      { path: 'mn.settleMs', message: '0.5: not an integer (expected an integer 0-60000)' },
      { path: 'mn.control.sock', message: 'unknown key (did you mean "socket"?)' },
    ]);
  });
});
