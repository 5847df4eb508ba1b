import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import { serveControl } from '../../src/net/control-socket.js';

const dir = mkdtempSync(join(tmpdir(), 'dsmip6-status-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('dsmip6 status', () => {
  it('prints the home agent binding cache: HoA, IPv4 HoA, CoA, NAT with address:port, lifetime left, sequence', async () => {
    const path = join(dir, 'ha.sock');
    const server = await serveControl(path, () => ({
      role: 'ha',
      now: 1_000_000,
      bindings: [
        {
          homeAddress: '2001:db8:1::100',
          careOf: { family: 4, address: '10.0.0.10' },
          tunnel: 'udp',
          nat: { address: '203.0.113.130', port: 40876 },
          ipv4HomeAddress: '198.51.100.129',
          lifetimeSeconds: 400,
          sequence: 52987,
          expiresAt: 1_000_000 + 321_400,
        },
      ],
      counters: { buReceived: 3, baSent: 3, dropped: {} },
    }));
    try {
      const r = await cli('status', '--socket', path);
      expect(r.code).toBe(0);
      const lines = r.out.split('\n');
      expect(lines[0]).toContain('1 binding(s)');
      expect(lines[1]).toMatch(/^HoA\s+IPv4 HoA\s+CoA\s+tunnel\s+NAT\s+lifetime left\s+seq$/);
      expect(lines[2]).toMatch(
        /^2001:db8:1::100\s+198\.51\.100\.129\s+10\.0\.0\.10\s+udp\s+yes 203\.0\.113\.130:40876\s+321 s\s+52987$/,
      );
      const json = await cli('status', '--socket', path, '--json');
      expect(JSON.parse(json.out)).toMatchObject({ role: 'ha', bindings: [{ sequence: 52987 }] });
    } finally {
      await server.close();
    }
  });

  it('prints the mobile node binding update list', async () => {
    const path = join(dir, 'mn.sock');
    const server = await serveControl(path, () => ({
      role: 'mn',
      now: 0,
      homeAddress: '2001:db8:1::100',
      counters: { lastSequence: 52985 },
      status: {
        registration: 'registered',
        haName: 'ha.example.net',
        attachment: 'ipv6',
        careOf: '2001:db8:20::10',
        lifetimeSeconds: 400,
        ipv4: { status: 'assigned', address: '198.51.100.129' },
        natDetected: null,
      },
    }));
    try {
      const r = await cli('status', '--socket', path);
      expect(r.code).toBe(0);
      expect(r.out).toContain('mobile node');
      expect(r.out).toMatch(
        /2001:db8:1::100\s+ha\.example\.net\s+registered\s+ipv6\s+2001:db8:20::10\s+198\.51\.100\.129\s+-\s+400 s\s+52985/,
      );
    } finally {
      await server.close();
    }
  });

  it('says when no daemon answers, naming the socket', async () => {
    const r = await cli('status', '--socket', join(dir, 'nobody.sock'));
    expect(r.code).toBe(1);
    expect(r.err).toContain('no dsmip6 daemon at');
  });

  it('refuses to start a second daemon on a live control socket', async () => {
    const path = join(dir, 'twice.sock');
    const first = await serveControl(path, () => ({}));
    try {
      await expect(serveControl(path, () => ({}))).rejects.toThrow(
        /in use: another dsmip6 daemon is running/,
      );
    } finally {
      await first.close();
    }
  });
});

describe('dsmip6 ha / mn with a bad config', () => {
  it('prints every error with the field and exits 2 without starting', async () => {
    const { writeFileSync } = await import('node:fs');
    const file = join(dir, 'bad-ha.json');
    writeFileSync(
      file,
      JSON.stringify({ homePrefix: '2001:db8:1::/129', addresses: { ipv6: 'nope' }, udpPrt: 4191 }),
    );
    const r = await cli('ha', '--config', file);
    expect(r.code).toBe(2);
    expect(r.err).toContain('ha.homePrefix');
    expect(r.err).toContain('ha.addresses.ipv6');
    expect(r.err).toContain('ha.udpPrt unknown key (did you mean "udpPort"?)');
    const missing = await cli('mn');
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('--config FILE is required');
  });
});

describe('--inspect address', () => {
  it('takes a port or host:port, loopback by default, and names a bad one', async () => {
    const { parseInspectAddress } = await import('../../src/cli/daemons.js');
    expect(parseInspectAddress('8190')).toEqual({ host: '127.0.0.1', port: 8190 });
    expect(parseInspectAddress('0.0.0.0:8190')).toEqual({ host: '0.0.0.0', port: 8190 });
    expect(parseInspectAddress('[::1]:8190')).toEqual({ host: '::1', port: 8190 });
    expect(() => parseInspectAddress('99999')).toThrow('expected [host:]port');
  });
});
