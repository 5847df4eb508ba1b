import { afterEach, describe, expect, it } from 'vitest';
import type { Datagram, UdpPort } from '../../src/net/ports.js';
import { DgramUdpPortFactory, UdpBindError } from '../../src/net/udp.js';

const factory = new DgramUdpPortFactory();
const open: UdpPort[] = [];
const bind = async (...args: Parameters<DgramUdpPortFactory['bind']>) => {
  const port = await factory.bind(...args);
  open.push(port);
  return port;
};
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close()));
});

function nextMessage(port: UdpPort): Promise<Datagram> {
  return new Promise((resolve) => port.onMessage(resolve));
}

describe('DgramUdpPortFactory over loopback', () => {
  for (const [family, address] of [
    [4, '127.0.0.1'],
    [6, '::1'],
  ] as const) {
    it(`round trip over ${address}`, async () => {
      const a = await bind(family, address, 0);
      const b = await bind(family, address, 0);
      expect(a.family).toBe(family);
      expect(a.local().address).toBe(address);
      expect(a.local().port).toBeGreaterThan(0);
      const got = nextMessage(b);
      const sent = new Uint8Array([1, 2, 3, 4]);
      await a.send({ data: sent.subarray(1, 3), address, port: b.local().port });
      const d = await got;
      expect(d).toEqual({ data: new Uint8Array([2, 3]), address, port: a.local().port });
      expect(Buffer.isBuffer(d.data)).toBe(false);
      // The reply path, and the receiver owns its copy.
      const back = nextMessage(a);
      await b.send({ data: d.data, address, port: a.local().port });
      d.data[0] = 99;
      expect((await back).data).toEqual(new Uint8Array([2, 3]));
    });
  }

  it('reports a bind to an address this host does not have clearly', async () => {
    const e = await factory.bind(6, '2001:db8::1', 4191).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UdpBindError);
    expect((e as Error).message).toBe('udp: cannot bind [2001:db8::1]:4191: EADDRNOTAVAIL');
    expect((e as UdpBindError).code).toBe('EADDRNOTAVAIL');
  });

  it('reports a port in use, a wrong family and a bad port', async () => {
    const a = await bind(4, '127.0.0.1', 0);
    const { port } = a.local();
    await expect(factory.bind(4, '127.0.0.1', port)).rejects.toThrow(
      `udp: cannot bind 127.0.0.1:${port}: EADDRINUSE`,
    );
    await expect(factory.bind(4, '::1', 4191)).rejects.toThrow(
      'udp: cannot bind [::1]:4191: EINVAL (family 4 needs an IPv4 address)',
    );
    await expect(factory.bind(6, '::1', 70000)).rejects.toThrow('EINVAL (port must be an integer 0-65535)');
  });

  it('keeps the families apart (ipv6Only): udp6 and udp4 wildcards share a port number', async () => {
    const v6 = await bind(6, '::', 0);
    const v4 = await bind(4, '0.0.0.0', v6.local().port);
    expect(v4.local().port).toBe(v6.local().port);
    const got = nextMessage(v4);
    const sender = await bind(4, '127.0.0.1', 0);
    await sender.send({ data: new Uint8Array([7]), address: '127.0.0.1', port: v4.local().port });
    expect((await got).address).toBe('127.0.0.1');
  });

  it('counts datagrams that arrive before a receiver is set', async () => {
    const a = await bind(4, '127.0.0.1', 0);
    const b = await factory.bind(4, '127.0.0.1', 0);
    open.push(b);
    await a.send({ data: new Uint8Array([1]), address: '127.0.0.1', port: b.local().port });
    await expect.poll(() => b.stats().droppedNoReceiver).toBe(1);
    expect(b.stats().received).toBe(1);
  });

  it('closes: sends then fail, a second close is harmless, the port is free again', async () => {
    const a = await factory.bind(4, '127.0.0.1', 0);
    const { port } = a.local();
    await a.close();
    await a.close();
    await expect(a.send({ data: new Uint8Array([1]), address: '127.0.0.1', port })).rejects.toThrow(
      `udp: cannot send to 127.0.0.1:${port}: ERR_SOCKET_DGRAM_NOT_RUNNING`,
    );
    const again = await bind(4, '127.0.0.1', port);
    expect(again.local().port).toBe(port);
  });
});
