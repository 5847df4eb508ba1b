/**
 * The main job as a user runs it (`npx dsmip6 demo`), in the lab: real daemons, the walk home →
 * IPv6 → IPv4 → NAT → home, and the correspondent node reaching both home addresses after every
 * move. Needs root; fails without it.
 */
import { execFile } from 'node:child_process';
import { expect, it } from 'vitest';
import { labDown } from '../../src/lab/lab.js';
import { requireRoot } from '../support/root.js';

const prefix = `w${process.pid % 10000}`;

it('dsmip6 demo: every move settles and the CN pings both home addresses after each one', async () => {
  requireRoot();
  try {
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ['bin/dsmip6.js', 'demo', '--no-inspect', '--name', prefix],
        { timeout: 180_000 },
        (e, stdout, stderr) =>
          e ? reject(new Error(`${e.message}\n${stdout}\n${stderr}`)) : resolve(stdout),
      ),
    );
    expect(out).toContain('every move settled.');
    const rows = out.split('\n').filter((l) => /^(home|ipv6|ipv4|nat) /.test(l));
    expect(rows.map((r) => r.split(/\s+/)[0])).toEqual(['home', 'ipv6', 'ipv4', 'nat', 'home']);
    for (const r of rows) expect(r).toMatch(/v6 [\d.]+ ms, v4 [\d.]+ ms$/);
    expect(rows[1]).toMatch(/2001:db8:20::10\s+ip6/);
    expect(rows[2]).toMatch(/203\.0\.113\.10\s+ip4/);
    expect(rows[3]).toMatch(/10\.0\.0\.10\s+udp\s+yes \(203\.0\.113\.130:\d+\)/);
  } finally {
    await labDown(prefix).catch(() => {});
  }
}, 200_000);
