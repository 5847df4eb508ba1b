/**
 * A virtual home network in the lab (RFC 6275: a home link with no nodes on it): the home prefix
 * 2001:db8:1:80::/64 and the IPv4 pool 198.51.100.128/25 exist only as routes to the HA, whose TUN
 * is the whole home network. A bound home address is reached through the tunnel; one without a
 * binding gets ICMPv6 / ICMP Destination Unreachable from the HA's daemon. Needs root; fails
 * without it.
 */

import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { LAB_ADDRESSES as A, labDown, labExec, labMove, labSpawn, labUp } from '../../src/lab/lab.js';
import { queryControl } from '../../src/net/control-socket.js';
import { requireRoot } from '../support/root.js';
import { until } from '../support/until.js';

const prefix = `v${process.pid % 10000}`;
const dir = mkdtempSync(join(tmpdir(), 'dsmip6-vh-'));
const haSock = join(dir, 'ha.sock');
const mnSock = join(dir, 'mn.sock');
const KEY = 'd4'.repeat(20);
const HOME = A.networks.haVirtualHome.ipv6;
const HOA6 = '2001:db8:1:80::100';
const children: ChildProcess[] = [];

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await labDown(prefix).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

interface MnDoc {
  status: { registration: string; ipv4?: { address?: string } } | null;
  dataplane: { route: { mode: string } | null; routesReady: boolean };
}
interface HaDoc {
  dataplane: { dropped: Record<string, number>; icmpSent: number };
}

it('a virtual home network: bound home addresses answer through the tunnel, unbound ones get Destination Unreachable from the HA', async () => {
  requireRoot();
  await labUp({ prefix });
  await labMove(prefix, 'ipv4');
  const ha = join(dir, 'ha.json');
  const mn = join(dir, 'mn.json');
  writeFileSync(
    ha,
    JSON.stringify({
      homePrefix: HOME,
      addresses: { ipv6: A.ha.ipv6, ipv4: A.ha.ipv4 },
      ipv4Pool: { start: '198.51.100.129', end: '198.51.100.254', prefixLength: 25, leaseSeconds: 3600 },
      securityAssociations: [
        { homeAddress: HOA6, spiIn: 0x5001, spiOut: 0x6001, algorithm: 'aes-gcm-16', encryptionKey: KEY },
      ],
      dataplane: { tun: 'dsm6vh' },
      control: { socket: haSock },
    }),
  );
  writeFileSync(
    mn,
    JSON.stringify({
      homeAddress: HOA6,
      homePrefix: HOME,
      ipv4HomeAddress: 'dynamic',
      homeAgent: { addresses: [{ ipv6: A.ha.ipv6, ipv4: A.ha.ipv4 }] },
      securityAssociation: { spiIn: 0x6001, spiOut: 0x5001, algorithm: 'aes-gcm-16', encryptionKey: KEY },
      settleMs: 100,
      dataplane: { tun: 'dsm6mn' },
      control: { socket: mnSock },
    }),
  );
  for (const [node, file] of [
    ['ha', ha],
    ['mn', mn],
  ] as const) {
    const c = labSpawn(prefix, node, [process.execPath, 'bin/dsmip6.js', node, '--config', file]);
    c.stdout?.resume();
    c.stderr?.resume();
    children.push(c);
  }
  const status = await until(
    'registered from the public IPv4 network',
    () => queryControl(mnSock) as Promise<MnDoc>,
    (d) =>
      d.status?.registration === 'registered' && d.dataplane.route?.mode === 'ip4' && d.dataplane.routesReady,
  );
  const hoa4 = status.status?.ipv4?.address;
  expect(hoa4).toBe('198.51.100.129');
  for (const target of [HOA6, hoa4!]) {
    const r = await labExec(prefix, 'cn', ['ping', '-c', '3', '-i', '0.2', '-W', '1', target]);
    if (!/ [123] received/.test(r.stdout)) {
      const nstat = await labExec(prefix, 'ha', ['nstat', '-az']);
      const counters = nstat.stdout.split('\n').filter((l) => /^(Ip6|Icmp6Out)/.test(l) && !/\s0\s/.test(l));
      const why = JSON.stringify({ ha: (await queryControl(haSock)) as HaDoc, haKernel: counters });
      expect.fail(`ping ${target} got no reply: ${r.stdout}\n${why}`);
    }
  }
  // No binding for these: the HA's daemon answers from its own addresses.
  const v6 = await labExec(prefix, 'cn', ['ping', '-c', '1', '-W', '2', '2001:db8:1:80::200']);
  expect(v6.stdout).toMatch(/From 2001:db8:1::1 icmp_seq=1 Destination unreachable: Address unreachable/);
  const v4 = await labExec(prefix, 'cn', ['ping', '-c', '1', '-W', '2', '198.51.100.200']);
  expect(v4.stdout).toMatch(/From 198\.51\.100\.1 icmp_seq=1 Destination Host Unreachable/);
  const counters = (await queryControl(haSock)) as HaDoc;
  expect(counters.dataplane.dropped['no-binding']).toBeGreaterThanOrEqual(2);
  expect(counters.dataplane.icmpSent).toBeGreaterThanOrEqual(2);
}, 90_000);
