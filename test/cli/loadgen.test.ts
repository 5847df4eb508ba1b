import { describe, expect, it } from 'vitest';
import { formatLoadgenReport } from '../../src/cli/loadgen.js';
import { LatencyRecorder } from '../../src/loadgen/latency.js';
import { bindAddresses, parseLoadgenArgs } from '../../src/loadgen/options.js';
import { espSequenceStart, privateCareOf } from '../../src/loadgen/population.js';

describe('dsmip6 loadgen options', () => {
  it('defaults: closed loop, 64 outstanding, 600 s lifetime, half behind a NAT, every phase', () => {
    expect(parseLoadgenArgs(['--config', 'ha.json'])).toMatchObject({
      config: 'ha.json',
      rate: 'max',
      window: 64,
      lifetimeSeconds: 600,
      durationSeconds: 10,
      natRatio: 0.5,
      ipv4HomeRatio: 0,
      moveRatio: 0.1,
      timeoutMs: 1000,
      phases: ['register', 'steady', 'deregister'],
      bindAddresses: ['127.0.0.1'],
      json: false,
      interactive: false,
    });
  });

  it.each([
    [[], '--config FILE is required'],
    [['--config', 'x', '--rate=-5'], '--rate "-5": expected a number 1-10000000'],
    [['--config', 'x', '--nat', '1.5'], '--nat "1.5": expected a number 0-1'],
    [['--config', 'x', '--lifetime', '30'], '--lifetime 30: expected a multiple of 4'],
    [['--config', 'x', '--mobile-nodes', '2.5'], '--mobile-nodes "2.5": expected an integer 1-1048576'],
    [['--config', 'x', '--phases', 'register,warmup'], '--phases: "warmup" is not a phase'],
    [
      ['--config', 'x', '--bind', '127.0.0.1/40'],
      '--bind "127.0.0.1/40": expected an IPv4 address or prefix',
    ],
    [['--config', 'x', '--colour'], "Unknown option '--colour'"],
  ])('%j → %s', (argv, message) => {
    expect(() => parseLoadgenArgs(argv)).toThrow(message);
  });

  it('spreads sockets over the addresses of a prefix, skipping the network address', () => {
    expect(bindAddresses('127.1.0.0/16', 3)).toEqual(['127.1.0.1', '127.1.0.2', '127.1.0.3']);
    expect(bindAddresses('127.1.0.0/30', 100)).toEqual(['127.1.0.1', '127.1.0.2']);
    expect(bindAddresses('203.0.113.7', 100)).toEqual(['203.0.113.7']);
  });
});

describe('load generator pieces', () => {
  it('percentiles are nearest-rank over every sample', () => {
    const r = new LatencyRecorder();
    for (let i = 1; i <= 2000; i++) r.add(i / 10);
    expect(r.summary()).toEqual({
      count: 2000,
      p50Ms: 100,
      p90Ms: 180,
      p99Ms: 198,
      maxMs: 200,
      meanMs: 100.05,
    });
    expect(new LatencyRecorder().summary().count).toBe(0);
  });

  it('ESP sequence numbers start later on each run, and well inside 32 bits', () => {
    const t = Date.UTC(2026, 10, 27, 16);
    expect(espSequenceStart(t + 1000)).toBe(espSequenceStart(t) + 64);
    expect(espSequenceStart(Date.UTC(2040, 0, 1))).toBeLessThan(0xffffffff - 0x0fff_ffff + 1);
    expect(espSequenceStart(Date.UTC(2020, 0, 1))).toBe(0);
  });

  it("a NAT'd node claims a private care-of address that changes when it moves", () => {
    const node = { index: 300, moves: 0 } as Parameters<typeof privateCareOf>[0];
    const before = privateCareOf(node);
    node.moves = 1;
    expect(before).toMatch(/^10\.\d+\.\d+\.\d+$/);
    expect(privateCareOf(node)).not.toBe(before);
  });

  it('prints a row per phase', () => {
    const latency = { count: 1, p50Ms: 1, p90Ms: 1, p99Ms: 2, maxMs: 3, meanMs: 1 };
    const phase = {
      phase: 'register' as const,
      rate: 'max' as const,
      offered: 10,
      answered: 9,
      lost: 1,
      seconds: 1,
      offeredPerSecond: 10,
      answeredPerSecond: 9,
      latency,
      status: { 0: 8, 135: 1 },
      ipv4Ack: {},
      natAsExpected: 9,
      natUnexpected: 0,
      stray: 0,
    };
    const text = formatLoadgenReport({ mobileNodes: 10, sockets: 10, phases: [phase] });
    expect(text).toContain('10 mobile nodes on 10 UDP sockets');
    expect(text).toMatch(/register\s+10\s+9\s+1\s+9\s+1\s+2\s+3\s+0:8 135:1\s+9\/9/);
  });
});
