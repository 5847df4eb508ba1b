import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import { emitPcap, parsePcap } from '../../src/wire/index.js';
import { expertVerdict, fieldValues, tsharkDecode } from '../support/tshark.js';

const dir = mkdtempSync(join(tmpdir(), 'dsmip6-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('dsmip6 command', () => {
  it('the installed bin prints help and the version', () => {
    const help = execFileSync(process.execPath, ['bin/dsmip6.js', '--help'], { encoding: 'utf8' });
    expect(help).toContain('Usage: dsmip6 <command>');
    expect(help).toContain('demo');
    expect(help).toContain('packets');
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(execFileSync(process.execPath, ['bin/dsmip6.js', '--version'], { encoding: 'utf8' }).trim()).toBe(
      pkg.version,
    );
  });

  it('rejects an unknown command with exit code 2 and a pointer to --help', async () => {
    const r = await cli('frobnicate');
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown command "frobnicate"');
    expect(r.err).toContain('--help');
  });

  it('packets writes a pcap of the walk that decode reads back without a malformed packet', async () => {
    const file = join(dir, 'walk.pcap');
    const demo = await cli('packets', '--pcap', file);
    expect(demo.code).toBe(0);
    expect(demo.out).toMatch(
      /BU seq=\d+ flags=AH lifetime=400s \[alt-coa 2001:db8:20::10, ipv4-hoa 0\.0\.0\.0\/32\]/,
    );
    expect(demo.out).toContain('nat-detection refresh=110s');
    const pcap = parsePcap(readFileSync(file));
    expect(pcap.ok && pcap.value.records.length).toBe(13);
    const decoded = await cli('decode', file);
    expect(decoded.code).toBe(0);
    expect(decoded.out).toContain('13 packets, 0 malformed');
    expect(decoded.out).toContain('UDP 4191 > 61001 | IPv4 198.51.100.99 > 192.0.2.100');
  });

  it('the packets pcap opens in Wireshark with no warnings and every BU answered by a BA', async () => {
    const file = join(dir, 'walk-tshark.pcap');
    expect((await cli('packets', '--pcap', file)).code).toBe(0);
    const pcap = parsePcap(readFileSync(file));
    if (!pcap.ok) throw new Error(pcap.error.message);
    const frames = tsharkDecode(pcap.value.records.map((r) => r.data));
    expect(frames.map((f) => expertVerdict(f).warnings)).toEqual(frames.map(() => []));
    const types = frames.flatMap((f) => fieldValues(f.layers, 'mip6.mhtype'));
    expect(types).toEqual(['5', '6', '5', '6', '5', '6', '5', '6']);
    const buSeq = frames.flatMap((f) => fieldValues(f.layers, 'mip6.bu.seqnr'));
    expect(frames.flatMap((f) => fieldValues(f.layers, 'mip6.ba.seqnr'))).toEqual(buSeq);
    expect(frames.flatMap((f) => fieldValues(f.layers, 'mip6.natd.refresh_t'))).toEqual([
      '4294967295',
      '110',
    ]);
  });

  it('decode names a malformed packet instead of failing', async () => {
    const file = join(dir, 'bad.pcap');
    const junk = Uint8Array.of(0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2);
    writeFileSync(file, emitPcap([{ timestampMicros: 0, data: junk }]));
    const r = await cli('decode', file);
    expect(r.code).toBe(0);
    expect(r.out).toContain('MALFORMED: ipv4: checksum at offset 10');
    expect(r.out).toContain('1 packets, 1 malformed');
  });

  it('decode explains a missing file and a non-pcap file', async () => {
    const missing = await cli('decode', join(dir, 'nope.pcap'));
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('cannot read');
    const text = join(dir, 'text.pcap');
    writeFileSync(text, 'this is not a capture file at all');
    const notPcap = await cli('decode', text);
    expect(notPcap.code).toBe(1);
    expect(notPcap.err).toContain('magic');
    const usage = await cli('decode');
    expect(usage.code).toBe(2);
    expect(usage.err).toContain('usage: dsmip6 decode');
  });
});

describe('dsmip6 demo (the main job)', () => {
  it('walks the mobile node over the in-memory network and prints one settled row per move', async () => {
    const r = await cli('demo', '--memory', '--moves', 'home,ipv4,nat,ipv4');
    expect(r.err).toBe('');
    expect(r.out).toContain('finds its home agent by DNS');
    const rows = r.out.split('\n').filter((l) => /^(home|ipv6|ipv4|nat)\s/.test(l));
    expect(rows).toHaveLength(4);
    expect(rows[1]).toMatch(/^ipv4\s+\d+ ms\s+203\.0\.113\.10\s+ip4\s+no\s+198\.51\.100\.129/);
    expect(rows[2]).toMatch(/^nat\s+\d+ ms\s+10\.0\.0\.10\s+udp\s+yes \(203\.0\.113\.130:\d+\)/);
    expect(r.out).toContain('every move settled.');
    expect(r.code).toBe(0);
  });

  it('names an unknown location', async () => {
    const r = await cli('demo', '--memory', '--moves', 'home,mars');
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown location mars');
  });
});
