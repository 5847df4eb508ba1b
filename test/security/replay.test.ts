/** RFC 4303 §3.3.3 sender counter and §3.4.3 receiver anti-replay window. */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_REPLAY_WINDOW,
  MAX_SEQUENCE,
  OutboundSequence,
  ReplayWindow,
  SequenceExhaustedError,
} from '../../src/security/replay.js';

/** check then, if ok, accept: what `open` does for an authentic packet. */
const receive = (w: ReplayWindow, seq: number): string => {
  const r = w.check(seq);
  if (r === 'ok') w.accept(seq);
  return r;
};

describe('ReplayWindow', () => {
  it('defaults to 64', () => {
    expect(DEFAULT_REPLAY_WINDOW).toBe(64);
    expect(new ReplayWindow().size).toBe(64);
  });

  it('refuses sequence number 0 and accepts the first packet', () => {
    const w = new ReplayWindow();
    expect(w.check(0)).toBe('zero');
    expect(receive(w, 1)).toBe('ok');
    expect(w.highest).toBe(1);
    expect(receive(w, 1)).toBe('duplicate');
  });

  it('accepts a packet out of order within the window exactly once', () => {
    const w = new ReplayWindow();
    for (const s of [1, 2, 5, 100]) expect(receive(w, s)).toBe('ok');
    expect(receive(w, 50)).toBe('ok');
    expect(receive(w, 50)).toBe('duplicate');
    expect(receive(w, 5)).toBe('too-old');
    expect(receive(w, 99)).toBe('ok');
    expect(receive(w, 100)).toBe('duplicate');
  });

  it('has its edge at highest - 63 for a window of 64', () => {
    const w = new ReplayWindow(64);
    w.accept(100);
    expect(w.check(37)).toBe('ok'); // age 63: the oldest slot
    expect(w.check(36)).toBe('too-old'); // age 64
    expect(receive(w, 37)).toBe('ok');
    expect(receive(w, 37)).toBe('duplicate');
  });

  it('rejects anything older than 64 behind the highest after a jump', () => {
    const w = new ReplayWindow();
    w.accept(1);
    w.accept(1000);
    expect(w.check(1)).toBe('too-old');
    expect(w.check(936)).toBe('too-old');
    expect(w.check(937)).toBe('ok');
    expect(w.check(999)).toBe('ok');
    expect(w.check(1000)).toBe('duplicate');
  });

  it('remembers received numbers as the window slides', () => {
    const w = new ReplayWindow(32);
    for (let s = 1; s <= 40; s += 2) w.accept(s); // odd numbers
    w.accept(41);
    expect(w.check(39)).toBe('duplicate');
    expect(w.check(40)).toBe('ok');
    // Highest 41, window 32: ages 0-31 are 41 down to 10.
    expect(w.check(11)).toBe('duplicate');
    expect(w.check(10)).toBe('ok');
    expect(w.check(9)).toBe('too-old');
  });

  it('check alone changes nothing', () => {
    const w = new ReplayWindow();
    expect(w.check(5)).toBe('ok');
    expect(w.check(5)).toBe('ok');
    expect(w.highest).toBe(0);
  });

  it('with size 0 (anti-replay off) accepts repeats but still never 0', () => {
    const w = new ReplayWindow(0);
    expect(receive(w, 7)).toBe('ok');
    expect(receive(w, 7)).toBe('ok');
    expect(receive(w, 1)).toBe('ok');
    expect(w.check(0)).toBe('zero');
  });

  it('handles the top of the sequence space', () => {
    const w = new ReplayWindow();
    expect(receive(w, MAX_SEQUENCE)).toBe('ok');
    expect(receive(w, MAX_SEQUENCE)).toBe('duplicate');
    expect(receive(w, MAX_SEQUENCE - 63)).toBe('ok');
    expect(receive(w, MAX_SEQUENCE - 64)).toBe('too-old');
  });

  it('refuses window sizes below 32 (RFC 4303 §3.4.3 minimum) or not integers', () => {
    for (const bad of [1, 16, 31, 4097, 64.5, -1]) {
      expect(() => new ReplayWindow(bad)).toThrow(/replay window must be 0 \(off\) or an integer 32-4096/);
    }
  });

  it('agrees with a naive reference model (every seen number, window by arithmetic)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(32, 64, 100, 128),
        fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 300 }),
        (size, seqs) => {
          const w = new ReplayWindow(size);
          const seen = new Set<number>();
          let highest = 0;
          for (const s of seqs) {
            const want =
              s === 0
                ? 'zero'
                : s > highest
                  ? 'ok'
                  : highest - s >= size
                    ? 'too-old'
                    : seen.has(s)
                      ? 'duplicate'
                      : 'ok';
            expect(receive(w, s)).toBe(want);
            if (want === 'ok') {
              seen.add(s);
              highest = Math.max(highest, s);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('OutboundSequence', () => {
  it('starts at 1 and counts up', () => {
    const s = new OutboundSequence(0x1001);
    expect(s.last).toBe(0);
    expect([s.next(), s.next(), s.next()]).toEqual([1, 2, 3]);
  });

  it('sends 2^32-1 and then refuses to wrap, naming the SA', () => {
    const s = new OutboundSequence(0x1001, MAX_SEQUENCE - 1);
    expect(s.next()).toBe(MAX_SEQUENCE);
    expect(() => s.next()).toThrow(SequenceExhaustedError);
    expect(() => s.next()).toThrow(
      'esp: SA spi 0x00001001 has sent sequence number 4294967295; refusing to wrap to 0 (RFC 4303 §3.3.3): establish a new SA',
    );
    expect(s.last).toBe(MAX_SEQUENCE);
  });

  it('refuses an impossible restored state', () => {
    expect(() => new OutboundSequence(0x1001, 2 ** 32)).toThrow(/0-4294967295/);
  });
});
