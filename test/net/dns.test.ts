/**
 * The real DnsPort against a tiny DNS responder on 127.0.0.1 written here (enough of RFC 1035 to
 * answer A, AAAA and SRV and to send error rcodes), plus a server that never answers and a port
 * where nothing listens. The lab e2e tests query dnsmasq for the HA's records.
 */

import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dnsFailureReason, NodeDnsPort, SRV_DEFAULT_TTL_SECONDS } from '../../src/net/dns.js';

const TYPE = { A: 1, AAAA: 28, SRV: 33 } as const;

function encodeName(name: string): Buffer {
  return Buffer.concat([
    ...name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])),
    Buffer.from([0]),
  ]);
}

function rr(type: number, ttl: number, rdata: Buffer): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
  head.writeUInt16BE(type, 2);
  head.writeUInt16BE(1, 4);
  head.writeUInt32BE(ttl, 6);
  head.writeUInt16BE(rdata.length, 10);
  return Buffer.concat([head, rdata]);
}

const ipv6Bytes = (a: string) => {
  const [l, r = ''] = a.split('::') as [string, string?];
  const left = l ? l.split(':') : [];
  const right = r ? r.split(':') : [];
  const groups = [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return Buffer.from(groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 255]));
};

/** name → rcode, or answers per type; an absent name is NXDOMAIN, 'silent' never answers. */
const ZONE: Record<string, number | 'silent' | Partial<Record<number, Buffer[]>>> = {
  'ha.example.net': {
    [TYPE.A]: [rr(TYPE.A, 60, Buffer.from([192, 0, 2, 10])), rr(TYPE.A, 30, Buffer.from([192, 0, 2, 11]))],
    [TYPE.AAAA]: [rr(TYPE.AAAA, 120, ipv6Bytes('2001:db8:1::1'))],
  },
  '_mip6._ipv6.example.net': {
    [TYPE.SRV]: [
      rr(TYPE.SRV, 600, Buffer.concat([Buffer.from([0, 10, 0, 5, 0, 0]), encodeName('ha.example.net')])),
    ],
  },
  'refused.example.net': 5,
  'servfail.example.net': 2,
  'silent.example.net': 'silent',
};

function respond(server: Socket, q: Buffer, rinfo: { address: string; port: number }) {
  let o = 12;
  const labels: string[] = [];
  while (q[o]) {
    labels.push(q.subarray(o + 1, o + 1 + q[o]!).toString());
    o += 1 + q[o]!;
  }
  const questionEnd = o + 5;
  const type = q.readUInt16BE(o + 1);
  const entry = ZONE[labels.join('.').toLowerCase()];
  if (entry === 'silent') return;
  const rcode = entry === undefined ? 3 : typeof entry === 'number' ? entry : 0;
  const answers = typeof entry === 'object' ? (entry[type] ?? []) : [];
  const head = Buffer.alloc(12);
  q.copy(head, 0, 0, 2);
  head.writeUInt16BE(0x8580 | rcode, 2); // QR, AA, RD, RA
  head.writeUInt16BE(1, 4);
  head.writeUInt16BE(answers.length, 6);
  server.send(Buffer.concat([head, q.subarray(12, questionEnd), ...answers]), rinfo.port, rinfo.address);
}

let server: Socket;
let dns: NodeDnsPort;
let closedPort: number;

beforeAll(async () => {
  server = createSocket('udp4');
  server.on('message', (q, rinfo) => respond(server, q, rinfo));
  await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
  dns = new NodeDnsPort({ servers: [`127.0.0.1:${server.address().port}`], timeoutMs: 200, tries: 1 });
  // A port that was just free: nothing listens there, so the kernel answers port unreachable.
  const probe = createSocket('udp4');
  await new Promise<void>((r) => probe.bind(0, '127.0.0.1', r));
  closedPort = probe.address().port;
  await new Promise<void>((r) => probe.close(r));
});
afterAll(() => new Promise<void>((r) => server.close(r)));

describe('NodeDnsPort', () => {
  it('answers A and AAAA with the smallest TTL', async () => {
    expect(await dns.resolve('ha.example.net', 'A')).toEqual({
      ok: true,
      ttlSeconds: 30,
      addresses: ['192.0.2.10', '192.0.2.11'],
    });
    expect(await dns.resolve('ha.example.net', 'AAAA')).toEqual({
      ok: true,
      ttlSeconds: 120,
      addresses: ['2001:db8:1::1'],
    });
  });

  it('answers SRV with the documented default TTL (node does not report SRV TTLs)', async () => {
    expect(await dns.resolve('_mip6._ipv6.example.net', 'SRV')).toEqual({
      ok: true,
      ttlSeconds: SRV_DEFAULT_TTL_SECONDS,
      srv: [{ priority: 10, weight: 5, port: 0, target: 'ha.example.net' }],
    });
    const custom = new NodeDnsPort({ servers: [`127.0.0.1:${server.address().port}`], srvTtlSeconds: 42 });
    expect(await custom.resolve('_mip6._ipv6.example.net', 'SRV')).toMatchObject({
      ok: true,
      ttlSeconds: 42,
    });
  });

  it('maps failures to reasons and never rejects', async () => {
    expect(await dns.resolve('missing.example.net', 'AAAA')).toEqual({ ok: false, reason: 'NXDOMAIN' });
    expect(await dns.resolve('_mip6._ipv6.example.net', 'A')).toEqual({ ok: false, reason: 'NODATA' });
    expect(await dns.resolve('refused.example.net', 'A')).toEqual({ ok: false, reason: 'refused' });
    expect(await dns.resolve('servfail.example.net', 'A')).toEqual({ ok: false, reason: 'ESERVFAIL' });
  });

  it('times out on a server that never answers', async () => {
    const t0 = Date.now();
    expect(await dns.resolve('silent.example.net', 'AAAA')).toEqual({ ok: false, reason: 'timeout' });
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('reports refused when nothing listens on the server port', async () => {
    const nobody = new NodeDnsPort({ servers: [`127.0.0.1:${closedPort}`], timeoutMs: 300, tries: 1 });
    expect(await nobody.resolve('ha.example.net', 'AAAA')).toEqual({ ok: false, reason: 'refused' });
  });

  it('accepts bracketed IPv6 servers with a port and rejects malformed ones at construction', () => {
    expect(() => new NodeDnsPort({ servers: ['192.0.2.53', '[2001:db8::53]:5353'] })).not.toThrow();
    expect(() => new NodeDnsPort({ servers: ['not an address'] })).toThrow();
  });

  it('maps error codes', () => {
    const err = (code: string) => Object.assign(new Error(code), { code });
    expect(dnsFailureReason(err('ENOTFOUND'))).toBe('NXDOMAIN');
    expect(dnsFailureReason(err('ENODATA'))).toBe('NODATA');
    expect(dnsFailureReason(err('ETIMEOUT'))).toBe('timeout');
    expect(dnsFailureReason(err('ECONNREFUSED'))).toBe('refused');
    expect(dnsFailureReason(err('EREFUSED'))).toBe('refused');
    expect(dnsFailureReason(err('EBADNAME'))).toBe('EBADNAME');
    expect(dnsFailureReason(new Error('odd'))).toBe('odd');
  });
});
