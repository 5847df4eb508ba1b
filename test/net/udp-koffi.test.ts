import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { KoffiUdpPortFactory } from '../../src/net/udp-koffi.js';

describe('KoffiUdpPortFactory (no root needed)', () => {
  it('binds an ephemeral port, receives owned copies with the sender, sends back, counts', async () => {
    const port = await new KoffiUdpPortFactory({ bufferBytes: 1 << 20 }).bind(4, '127.0.0.1', 0);
    const peer = createSocket('udp4');
    await new Promise<void>((r) => peer.bind(0, '127.0.0.1', () => r()));
    try {
      expect(port.local().port).toBeGreaterThan(0);
      const got: { data: Uint8Array; address: string; port: number }[] = [];
      port.onMessage((d) => got.push(d));
      for (let i = 0; i < 3; i++) peer.send(Buffer.from([i, i, i]), port.local().port, '127.0.0.1');
      await expect.poll(() => got.length).toBe(3);
      expect(got.map((d) => [...d.data])).toEqual([
        [0, 0, 0],
        [1, 1, 1],
        [2, 2, 2],
      ]);
      expect(got[0]).toMatchObject({ address: '127.0.0.1', port: peer.address().port });
      const echoed = new Promise<Buffer>((r) => peer.once('message', (m) => r(m)));
      await port.send({ data: Uint8Array.from([9, 8, 7]), address: '127.0.0.1', port: peer.address().port });
      expect([...(await echoed)]).toEqual([9, 8, 7]);
      expect(port.stats()).toMatchObject({ received: 3, sent: 1, errors: 0 });
      await expect(port.send({ data: new Uint8Array(1), address: 'nope', port: 1 })).rejects.toThrow(
        /EINVAL/,
      );
    } finally {
      peer.close();
      await port.close();
    }
    await expect(port.send({ data: new Uint8Array(1), address: '127.0.0.1', port: 9 })).rejects.toThrow(
      /not running|NOT_RUNNING/,
    );
  });

  it('names the errno of a failed bind, and checks arguments first', async () => {
    const f = new KoffiUdpPortFactory();
    const a = await f.bind(4, '127.0.0.1', 0);
    try {
      await expect(f.bind(4, '127.0.0.1', a.local().port)).rejects.toThrow(/EADDRINUSE/);
      await expect(f.bind(4, '192.0.2.77', 0)).rejects.toThrow(/EADDRNOTAVAIL/);
      await expect(f.bind(6, '127.0.0.1', 0)).rejects.toThrow(/EINVAL/);
    } finally {
      await a.close();
    }
  });
});
