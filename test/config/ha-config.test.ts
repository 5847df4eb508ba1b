import { describe, expect, it } from 'vitest';
import { HA_DEFAULTS, parseHaConfig } from '../../src/config/validate.js';
import { configOf, errorsOf, exampleJson, patch, patchAll } from './support.js';

const base = exampleJson('ha.json');
const GCM_KEY_19 = 'ab'.repeat(19);
const HMAC_KEY = 'cd'.repeat(32);

const minimal = {
  homePrefix: '2001:db8:1::/64',
  addresses: { ipv6: '2001:db8:1::1' },
  securityAssociations: [
    {
      homeAddress: '2001:db8:1::100',
      spiIn: 300,
      spiOut: 301,
      algorithm: 'aes-gcm-16',
      encryptionKey: 'ab'.repeat(20),
    },
  ],
};

describe('parseHaConfig: defaults and canonical forms', () => {
  it('fills in every default of an HA file that gives only the required fields', () => {
    const config = configOf(parseHaConfig(minimal));
    expect(config.udpPort).toBe(4191);
    expect(config.maxLifetimeSeconds).toBe(3600);
    expect(config.natKeepaliveSeconds).toBe(110);
    expect(config.allowForceUdp).toBe(true);
    expect(config.control).toEqual({ socket: '/run/dsmip6/ha.sock' });
    expect(config.log).toEqual({ level: 'info' });
    expect(config.ipv4Pool).toBeUndefined();
    expect(config.pcap).toBeUndefined();
    expect(config.addresses).toEqual({ ipv6: '2001:db8:1::1' });
    expect(HA_DEFAULTS).toMatchObject({ udpPort: 4191, maxLifetimeSeconds: 3600, natKeepaliveSeconds: 110 });
  });

  it('defaults the pool lease and an empty control or log object', () => {
    const config = configOf(
      parseHaConfig({
        ...minimal,
        ipv4Pool: { start: '192.0.2.10', end: '192.0.2.20', prefixLength: 24 },
        control: {},
        log: {},
      }),
    );
    expect(config.ipv4Pool).toEqual({
      start: '192.0.2.10',
      end: '192.0.2.20',
      prefixLength: 24,
      leaseSeconds: 3600,
    });
    expect(config.control.socket).toBe('/run/dsmip6/ha.sock');
    expect(config.log.level).toBe('info');
  });

  it('canonicalises addresses and the prefix, and decodes keys to bytes', () => {
    const config = configOf(
      parseHaConfig({
        ...minimal,
        homePrefix: '2001:DB8:1:0::/64',
        addresses: { ipv6: '2001:0db8:0001::0001', ipv4: '198.51.100.1' },
        securityAssociations: [{ ...minimal.securityAssociations[0], homeAddress: '2001:DB8:1::100' }],
      }),
    );
    expect(config.homePrefix).toEqual({ address: '2001:db8:1::', length: 64, text: '2001:db8:1::/64' });
    expect(config.addresses).toEqual({ ipv6: '2001:db8:1::1', ipv4: '198.51.100.1' });
    expect(config.securityAssociations[0]!.homeAddress).toBe('2001:db8:1::100');
    expect(config.securityAssociations[0]!.encryptionKey).toEqual(new Uint8Array(20).fill(0xab));
    expect(config.securityAssociations[0]!.authenticationKey).toBeUndefined();
  });

  it('keeps the values the example gives', () => {
    const config = configOf(parseHaConfig(base));
    expect(
      config.securityAssociations.map((sa) => [sa.homeAddress, sa.spiIn, sa.spiOut, sa.algorithm]),
    ).toEqual([
      ['2001:db8:1::100', 4097, 4098, 'aes-gcm-16'],
      ['2001:db8:1::101', 4099, 4100, 'aes-cbc-hmac-sha256'],
    ]);
    expect(config.securityAssociations[1]!.authenticationKey).toHaveLength(32);
  });
});

/** [what is wrong, field path in the JSON, new value (undefined deletes), error path, error message] */
// biome-ignore format: one case per line reads as a table
const violations: [string, string, unknown, string, string][] = [
  // homePrefix
  ['homePrefix missing', 'homePrefix', undefined, 'ha.homePrefix', 'missing (expected an IPv6 prefix, e.g. 2001:db8:1::/64)'],
  ['homePrefix a number', 'homePrefix', 64, 'ha.homePrefix', '64: not a string (expected an IPv6 prefix, e.g. 2001:db8:1::/64)'],
  ['homePrefix without a length', 'homePrefix', '2001:db8:1::', 'ha.homePrefix', '"2001:db8:1::": no prefix length (expected an IPv6 prefix, e.g. 2001:db8:1::/64)'],
  ['homePrefix IPv4', 'homePrefix', '192.0.2.0/24', 'ha.homePrefix', '"192.0.2.0/24": an IPv4 prefix (expected an IPv6 prefix, e.g. 2001:db8:1::/64)'],
  ['homePrefix not an address', 'homePrefix', '2001:db8:1::g/64', 'ha.homePrefix', '"2001:db8:1::g/64": not an IPv6 prefix (expected an IPv6 prefix, e.g. 2001:db8:1::/64)'],
  ['homePrefix length 129', 'homePrefix', '2001:db8:1::/129', 'ha.homePrefix', '"2001:db8:1::/129": prefix length must be 1-128'],
  ['homePrefix length 0', 'homePrefix', '::/0', 'ha.homePrefix', '"::/0": prefix length must be 1-128'],
  ['homePrefix host bits', 'homePrefix', '2001:db8:1::5/64', 'ha.homePrefix', '"2001:db8:1::5/64": host bits set (expected the network address: 2001:db8:1::/64)'],
  ['homePrefix multicast', 'homePrefix', 'ff02::/16', 'ha.homePrefix', '"ff02::/16": multicast (expected a unicast IPv6 prefix)'],
  // addresses
  ['addresses missing', 'addresses', undefined, 'ha.addresses', 'missing (expected { "ipv6": "<the HA\'s address>", "ipv4"?: "<a.b.c.d>" })'],
  ['addresses.ipv6 missing', 'addresses.ipv6', undefined, 'ha.addresses.ipv6', 'missing (expected an IPv6 address, e.g. 2001:db8:1::1)'],
  ['addresses.ipv6 link-local', 'addresses.ipv6', 'fe80::1', 'ha.addresses.ipv6', '"fe80::1": link-local (expected a routable unicast IPv6 address)'],
  ['addresses.ipv6 multicast', 'addresses.ipv6', 'ff02::1', 'ha.addresses.ipv6', '"ff02::1": multicast (expected a routable unicast IPv6 address)'],
  ['addresses.ipv6 unspecified', 'addresses.ipv6', '::', 'ha.addresses.ipv6', '"::": the unspecified address (expected a routable unicast IPv6 address)'],
  ['addresses.ipv6 IPv4', 'addresses.ipv6', '198.51.100.1', 'ha.addresses.ipv6', '"198.51.100.1": not an IPv6 address (expected an IPv6 address, e.g. 2001:db8:1::1; this is IPv4)'],
  ['addresses.ipv4 malformed', 'addresses.ipv4', '198.51.100.300', 'ha.addresses.ipv4', '"198.51.100.300": not an IPv4 address (expected a.b.c.d)'],
  ['addresses.ipv4 loopback', 'addresses.ipv4', '127.0.0.1', 'ha.addresses.ipv4', '"127.0.0.1": loopback (expected a routable unicast IPv4 address)'],
  ['addresses.ipv4 broadcast', 'addresses.ipv4', '255.255.255.255', 'ha.addresses.ipv4', '"255.255.255.255": the limited broadcast address (expected a routable unicast IPv4 address)'],
  ['addresses.ipv4 in the pool', 'addresses.ipv4', '192.0.2.50', 'ha.addresses.ipv4', '"192.0.2.50": inside ipv4Pool 192.0.2.10-192.0.2.99 (expected an address outside the pool)'],
  // udpPort
  ['udpPort 0', 'udpPort', 0, 'ha.udpPort', '0: out of range (expected an integer 1-65535)'],
  ['udpPort a string', 'udpPort', '4191', 'ha.udpPort', '"4191": not a number (expected an integer 1-65535)'],
  ['udpPort fractional', 'udpPort', 4191.5, 'ha.udpPort', '4191.5: not an integer (expected an integer 1-65535)'],
  // ipv4Pool
  ['ipv4Pool not an object', 'ipv4Pool', '192.0.2.0/24', 'ha.ipv4Pool', '"192.0.2.0/24": not an object (expected { "start", "end", "prefixLength", "leaseSeconds"? })'],
  ['ipv4Pool.start malformed', 'ipv4Pool.start', '192.0.2.300', 'ha.ipv4Pool.start', '"192.0.2.300": not an IPv4 address (expected a.b.c.d)'],
  ['ipv4Pool.start missing', 'ipv4Pool.start', undefined, 'ha.ipv4Pool.start', 'missing (expected a.b.c.d)'],
  ['ipv4Pool.start multicast', 'ipv4Pool.start', '224.0.0.1', 'ha.ipv4Pool.start', '"224.0.0.1": multicast (expected a routable unicast IPv4 address)'],
  ['ipv4Pool.end before start', 'ipv4Pool.end', '192.0.2.5', 'ha.ipv4Pool.end', '"192.0.2.5": before start 192.0.2.10 (expected end at or after start)'],
  ['ipv4Pool.end in another network', 'ipv4Pool.end', '192.0.3.5', 'ha.ipv4Pool.end', '"192.0.3.5": outside 192.0.2.0/24, the network of start (expected start and end in one /24)'],
  ['ipv4Pool.start the network address', 'ipv4Pool.start', '192.0.2.0', 'ha.ipv4Pool.start', '"192.0.2.0": the network address of 192.0.2.0/24 (expected a host address)'],
  ['ipv4Pool.end the broadcast address', 'ipv4Pool.end', '192.0.2.255', 'ha.ipv4Pool.end', '"192.0.2.255": the broadcast address of 192.0.2.0/24 (expected a host address)'],
  ['ipv4Pool.prefixLength 33', 'ipv4Pool.prefixLength', 33, 'ha.ipv4Pool.prefixLength', '33: out of range (expected an integer 1-32)'],
  ['ipv4Pool.prefixLength missing', 'ipv4Pool.prefixLength', undefined, 'ha.ipv4Pool.prefixLength', 'missing (expected an integer 1-32)'],
  ['ipv4Pool.leaseSeconds 0', 'ipv4Pool.leaseSeconds', 0, 'ha.ipv4Pool.leaseSeconds', '0: out of range (expected an integer 1-262140)'],
  // lifetimes and timers
  ['maxLifetimeSeconds not a multiple of 4', 'maxLifetimeSeconds', 601, 'ha.maxLifetimeSeconds', '601: not a multiple of 4 (expected a multiple of 4, the unit of BU and BA lifetimes in RFC 6275 §6.1.7: use 600 or 604)'],
  ['maxLifetimeSeconds above the wire maximum', 'maxLifetimeSeconds', 262144, 'ha.maxLifetimeSeconds', '262144: out of range (expected an integer 4-262140)'],
  ['maxLifetimeSeconds 0', 'maxLifetimeSeconds', 0, 'ha.maxLifetimeSeconds', '0: out of range (expected an integer 4-262140)'],
  ['natKeepaliveSeconds 0', 'natKeepaliveSeconds', 0, 'ha.natKeepaliveSeconds', '0: out of range (expected an integer 1-4294967294; 0 and 4294967295 have special meanings, RFC 5555 §3.2.2)'],
  ['natKeepaliveSeconds all ones', 'natKeepaliveSeconds', 4294967295, 'ha.natKeepaliveSeconds', '4294967295: out of range (expected an integer 1-4294967294; 0 and 4294967295 have special meanings, RFC 5555 §3.2.2)'],
  ['allowForceUdp a string', 'allowForceUdp', 'yes', 'ha.allowForceUdp', '"yes": not a boolean (expected true or false)'],
  // security associations
  ['securityAssociations missing', 'securityAssociations', undefined, 'ha.securityAssociations', 'missing (expected an array of security associations, one per mobile node)'],
  ['securityAssociations empty', 'securityAssociations', [], 'ha.securityAssociations', '[]: empty (expected an array of security associations, one per mobile node)'],
  ['securityAssociations an object', 'securityAssociations', {}, 'ha.securityAssociations', '{}: not an array (expected an array of security associations, one per mobile node)'],
  ['homeAddress outside the prefix', 'securityAssociations.0.homeAddress', '2001:db8:2::100', 'ha.securityAssociations[0].homeAddress', '"2001:db8:2::100": outside homePrefix 2001:db8:1::/64 (expected a home address in the home prefix, RFC 6275 §10.3.1)'],
  ['homeAddress missing', 'securityAssociations.0.homeAddress', undefined, 'ha.securityAssociations[0].homeAddress', "missing (expected the mobile node's home address, in homePrefix)"],
  ['homeAddress twice (other spelling)', 'securityAssociations.1.homeAddress', '2001:DB8:1:0::100', 'ha.securityAssociations[1].homeAddress', '"2001:DB8:1:0::100": also the home address of ha.securityAssociations[0] (expected one security association per home address)'],
  ['spiIn reserved', 'securityAssociations.0.spiIn', 255, 'ha.securityAssociations[0].spiIn', '255: out of range (expected an integer 256-4294967295; 0 is never sent and 1-255 are reserved, RFC 4303 §2.1)'],
  ['spiOut beyond 32 bits', 'securityAssociations.0.spiOut', 4294967296, 'ha.securityAssociations[0].spiOut', '4294967296: out of range (expected an integer 256-4294967295; 0 is never sent and 1-255 are reserved, RFC 4303 §2.1)'],
  ['spiOut missing', 'securityAssociations.0.spiOut', undefined, 'ha.securityAssociations[0].spiOut', 'missing (expected an integer 256-4294967295)'],
  ['spiOut equal to spiIn', 'securityAssociations.0.spiOut', 4097, 'ha.securityAssociations[0].spiOut', '4097: same as spiIn (expected a different SPI for each direction)'],
  ['SPI used by another SA', 'securityAssociations.1.spiIn', 4098, 'ha.securityAssociations[1].spiIn', '4098: already used by ha.securityAssociations[0].spiOut (expected every SPI unique across securityAssociations)'],
  ['algorithm misspelt', 'securityAssociations.0.algorithm', 'aes-gcm', 'ha.securityAssociations[0].algorithm', '"aes-gcm": not a known algorithm (expected one of aes-gcm-16, aes-cbc-hmac-sha256; did you mean "aes-gcm-16"?)'],
  ['algorithm unknown', 'securityAssociations.0.algorithm', 'chacha20', 'ha.securityAssociations[0].algorithm', '"chacha20": not a known algorithm (expected one of aes-gcm-16, aes-cbc-hmac-sha256)'],
  ['algorithm missing', 'securityAssociations.0.algorithm', undefined, 'ha.securityAssociations[0].algorithm', 'missing (expected one of aes-gcm-16, aes-cbc-hmac-sha256)'],
  ['GCM key of 19 bytes', 'securityAssociations.0.encryptionKey', GCM_KEY_19, 'ha.securityAssociations[0].encryptionKey', '<secret, 38 characters>: 19 bytes (expected a 16, 24 or 32-byte AES key and a 4-byte salt for aes-gcm-16: 20, 28 or 36 bytes = 40, 56 or 72 hex digits)'],
  ['CBC key of 20 bytes', 'securityAssociations.1.encryptionKey', 'ab'.repeat(20), 'ha.securityAssociations[1].encryptionKey', '<secret, 40 characters>: 20 bytes (expected a 16, 24 or 32-byte AES key for aes-cbc-hmac-sha256: 16, 24 or 32 bytes = 32, 48 or 64 hex digits)'],
  ['key not hex', 'securityAssociations.0.encryptionKey', 'zz'.repeat(20), 'ha.securityAssociations[0].encryptionKey', '<secret, 40 characters>: not hex (expected an even number of digits 0-9 a-f: a 16, 24 or 32-byte AES key and a 4-byte salt for aes-gcm-16: 20, 28 or 36 bytes = 40, 56 or 72 hex digits)'],
  ['key of odd length', 'securityAssociations.0.encryptionKey', 'a'.repeat(41), 'ha.securityAssociations[0].encryptionKey', '<secret, 41 characters>: not hex (expected an even number of digits 0-9 a-f: a 16, 24 or 32-byte AES key and a 4-byte salt for aes-gcm-16: 20, 28 or 36 bytes = 40, 56 or 72 hex digits)'],
  ['key a number', 'securityAssociations.0.encryptionKey', 1234, 'ha.securityAssociations[0].encryptionKey', 'number: not a string (expected a 16, 24 or 32-byte AES key and a 4-byte salt for aes-gcm-16: 20, 28 or 36 bytes = 40, 56 or 72 hex digits)'],
  ['key missing', 'securityAssociations.0.encryptionKey', undefined, 'ha.securityAssociations[0].encryptionKey', 'missing (expected a 16, 24 or 32-byte AES key and a 4-byte salt for aes-gcm-16: 20, 28 or 36 bytes = 40, 56 or 72 hex digits, e.g. from openssl rand -hex 20)'],
  ['authentication key with GCM', 'securityAssociations.0.authenticationKey', HMAC_KEY, 'ha.securityAssociations[0].authenticationKey', '<secret, 64 characters>: not used by aes-gcm-16 (expected no authenticationKey: GCM authenticates with encryptionKey)'],
  ['CBC without authentication key', 'securityAssociations.1.authenticationKey', undefined, 'ha.securityAssociations[1].authenticationKey', 'missing (expected the HMAC-SHA-256 key for aes-cbc-hmac-sha256: 32 bytes = 64 hex digits, e.g. from openssl rand -hex 32)'],
  ['CBC authentication key of 16 bytes', 'securityAssociations.1.authenticationKey', 'ab'.repeat(16), 'ha.securityAssociations[1].authenticationKey', '<secret, 32 characters>: 16 bytes (expected the HMAC-SHA-256 key for aes-cbc-hmac-sha256: 32 bytes = 64 hex digits)'],
  // control, pcap, log
  ['control.socket too long for sun_path', 'control.socket', `/run/${'x'.repeat(110)}`, 'ha.control.socket', `"/run/${'x'.repeat(53)}…: 115 bytes long (expected a Unix socket path of at most 107 bytes)`],
  ['control.socket a number', 'control.socket', 5, 'ha.control.socket', '5: not a string (expected a Unix socket path of at most 107 bytes)'],
  ['control a string', 'control', '/run/ha.sock', 'ha.control', '"/run/ha.sock": not an object (expected { "socket": "/path/to/socket" })'],
  ['pcap empty', 'pcap', '', 'ha.pcap', '"": empty (expected a file name to write the pcap to)'],
  ['log.level unknown', 'log.level', 'verbose', 'ha.log.level', '"verbose": not a log level (expected one of fatal, error, warn, info, debug, trace)'],
  ['log.level misspelt', 'log.level', 'debg', 'ha.log.level', '"debg": not a log level (expected one of fatal, error, warn, info, debug, trace; did you mean "debug"?)'],
  // unknown keys
  ['top-level key in the wrong case', 'ipv4pool', {}, 'ha.ipv4pool', 'unknown key (did you mean "ipv4Pool"?)'],
  ['top-level key misspelt', 'natKeepAliveSecond', 110, 'ha.natKeepAliveSecond', 'unknown key (did you mean "natKeepaliveSeconds"?)'],
  ['nested key far from any', 'ipv4Pool.duration', 3600, 'ha.ipv4Pool.duration', 'unknown key (expected one of start, end, prefixLength, leaseSeconds)'],
  ['key that starts a known key', 'ipv4Pool.lease', 3600, 'ha.ipv4Pool.lease', 'unknown key (did you mean "leaseSeconds"?)'],
  ['SA key misspelt', 'securityAssociations.0.spi_in', 4097, 'ha.securityAssociations[0].spi_in', 'unknown key (did you mean "spiIn"?)'],
  ['key that is not an identifier', 'log.lev el', 'x', 'ha.log["lev el"]', 'unknown key (did you mean "level"?)'],
  ['only one key possible', 'control.path', '/x', 'ha.control.path', 'unknown key (expected socket)'],
];

describe('parseHaConfig: each violated constraint gives exactly its path and message', () => {
  it.each(violations)('%s', (_what, field, value, path, message) => {
    expect(errorsOf(parseHaConfig(patch(base, field, value)))).toEqual([{ path, message }]);
  });

  it('names the root when the file is not an object', () => {
    expect(errorsOf(parseHaConfig([1, 2]))).toEqual([
      {
        path: 'ha',
        message:
          '[1,2]: not an object (expected a JSON object with homePrefix, addresses, udpPort, ipv4Pool, maxLifetimeSeconds, natKeepaliveSeconds, allowForceUdp, securityAssociations, derivedSecurityAssociations, dataplane, control, pcap, log)',
      },
    ]);
  });

  it('says when an MN file was given to the HA', () => {
    const errors = errorsOf(parseHaConfig(exampleJson('mn.json')));
    expect(errors[0]).toEqual({
      path: 'ha.homeAddress',
      message:
        'unknown key (expected one of homePrefix, addresses, udpPort, ipv4Pool, maxLifetimeSeconds, natKeepaliveSeconds, allowForceUdp, securityAssociations, derivedSecurityAssociations, dataplane, control, pcap, log)',
    });
    expect(errors).toContainEqual({
      path: 'ha',
      message:
        'has homeAgent, securityAssociation: fields of a mobile node config (expected a home agent config; is this file for dsmip6 mn --config?)',
    });
    expect(errors).toContainEqual({
      path: 'ha.securityAssociation',
      message: 'unknown key (did you mean "securityAssociations"?)',
    });
  });

  it('never puts a key into a message', () => {
    const key = `${'f00d'.repeat(9)}ff`;
    const errors = errorsOf(
      parseHaConfig(
        patchAll(base, {
          'securityAssociations.0.encryptionKey': key,
          'securityAssociations.0.authenticationKey': key,
          'securityAssociations.1.authenticationKey': `${key}zz`,
        }),
      ),
    );
    expect(errors).toHaveLength(3);
    for (const error of errors) expect(error.message).not.toContain('f00d');
  });
});

describe('parseHaConfig: reports every error at once', () => {
  it('checks SPI uniqueness even when another field of the SA is wrong', () => {
    const json = patchAll(base, {
      'securityAssociations.0.encryptionKey': 'ab',
      'securityAssociations.1.spiIn': 4098,
    });
    expect(errorsOf(parseHaConfig(json)).map((e) => e.path)).toEqual([
      'ha.securityAssociations[0].encryptionKey',
      'ha.securityAssociations[1].spiIn',
    ]);
  });

  it('lists all problems of a file, in file order', () => {
    const json = patchAll(base, {
      homePrefix: '2001:db8:1::/129',
      udpPort: 70000,
      'ipv4Pool.start': '192.0.2.300',
      'ipv4Pool.prefixLength': 40,
      maxLifetimeSeconds: 3601,
      'securityAssociations.0.spiIn': 1,
      'securityAssociations.1.algorithm': 'aes-cbc',
      'log.level': 'loud',
      extra: true,
    });
    expect(errorsOf(parseHaConfig(json))).toEqual([
      {
        path: 'ha.extra',
        message:
          'unknown key (expected one of homePrefix, addresses, udpPort, ipv4Pool, maxLifetimeSeconds, natKeepaliveSeconds, allowForceUdp, securityAssociations, derivedSecurityAssociations, dataplane, control, pcap, log)',
      },
      { path: 'ha.homePrefix', message: '"2001:db8:1::/129": prefix length must be 1-128' },
      { path: 'ha.udpPort', message: '70000: out of range (expected an integer 1-65535)' },
      { path: 'ha.ipv4Pool.start', message: '"192.0.2.300": not an IPv4 address (expected a.b.c.d)' },
      { path: 'ha.ipv4Pool.prefixLength', message: '40: out of range (expected an integer 1-32)' },
      {
        path: 'ha.maxLifetimeSeconds',
        message:
          '3601: not a multiple of 4 (expected a multiple of 4, the unit of BU and BA lifetimes in RFC 6275 §6.1.7: use 3600 or 3604)',
      },
      {
        path: 'ha.securityAssociations[0].spiIn',
        message:
          '1: out of range (expected an integer 256-4294967295; 0 is never sent and 1-255 are reserved, RFC 4303 §2.1)',
      },
      {
        path: 'ha.securityAssociations[1].algorithm',
        message:
          '"aes-cbc": not a known algorithm (expected one of aes-gcm-16, aes-cbc-hmac-sha256; did you mean "aes-cbc-hmac-sha256"?)',
      },
      {
        path: 'ha.log.level',
        message: '"loud": not a log level (expected one of fatal, error, warn, info, debug, trace)',
      },
    ]);
  });
});
