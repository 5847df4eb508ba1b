/**
 * ESP sequence numbers (RFC 4303 §3.3.3, §3.4.3), 32-bit only (no ESN). The sender's counter
 * starts at 0, so the first packet carries 1, and never wraps. The receiver keeps a sliding
 * window: it checks a sequence number before the ICV is verified (cheap rejection of duplicates)
 * and records it only after the ICV passed, so forged packets cannot move the window.
 */

export const DEFAULT_REPLAY_WINDOW = 64;
/** RFC 4303 §3.4.3: a window of at least 32 MUST be supported; larger ones cost only memory. */
export const MIN_REPLAY_WINDOW = 32;
export const MAX_REPLAY_WINDOW = 4096;
export const MAX_SEQUENCE = 0xffffffff;

/** Why a sequence number is refused: 0 is never sent; too old for the window; seen already. */
export type ReplayCheck = 'ok' | 'zero' | 'too-old' | 'duplicate';

export class ReplayWindow {
  readonly size: number;
  #highest = 0;
  /** Bit i set: sequence number `highest - i` has been accepted. */
  #bitmap = 0n;
  readonly #mask: bigint;

  /** `size` 0 turns anti-replay off (RFC 4303 §3.4.3: the receiver then skips the check). */
  constructor(size: number = DEFAULT_REPLAY_WINDOW) {
    if (!Number.isInteger(size) || (size !== 0 && (size < MIN_REPLAY_WINDOW || size > MAX_REPLAY_WINDOW))) {
      throw new RangeError(
        `replay window must be 0 (off) or an integer ${MIN_REPLAY_WINDOW}-${MAX_REPLAY_WINDOW}, got ${size}`,
      );
    }
    this.size = size;
    this.#mask = (1n << BigInt(size)) - 1n;
  }

  /** The highest sequence number accepted so far (0 before the first packet). */
  get highest(): number {
    return this.#highest;
  }

  /** The check made before ICV verification; it changes nothing. */
  check(sequence: number): ReplayCheck {
    // The sender never uses 0 (its counter starts at 0 and is incremented before use).
    if (sequence === 0) return 'zero';
    if (this.size === 0 || sequence > this.#highest) return 'ok';
    const age = this.#highest - sequence;
    if (age >= this.size) return 'too-old';
    return (this.#bitmap >> BigInt(age)) & 1n ? 'duplicate' : 'ok';
  }

  /** Records `sequence` as received; call only after the ICV verified and `check` said 'ok'. */
  accept(sequence: number): void {
    if (sequence === 0) return;
    if (sequence > this.#highest) {
      const shift = sequence - this.#highest;
      this.#bitmap = shift >= this.size ? 1n : ((this.#bitmap << BigInt(shift)) | 1n) & this.#mask;
      this.#highest = sequence;
      return;
    }
    const age = this.#highest - sequence;
    if (age < this.size) this.#bitmap |= 1n << BigInt(age);
  }
}

/** Thrown when an outbound SA has used sequence number 2^32-1: it must be replaced, not wrapped. */
export class SequenceExhaustedError extends Error {
  constructor(spi: number) {
    super(
      `esp: SA spi 0x${spi.toString(16).padStart(8, '0')} has sent sequence number ${MAX_SEQUENCE}; ` +
        'refusing to wrap to 0 (RFC 4303 §3.3.3): establish a new SA',
    );
    this.name = 'SequenceExhaustedError';
  }
}

/** The sender's counter. */
export class OutboundSequence {
  readonly #spi: number;
  #last: number;

  /** `last` is the number most recently sent (0: none yet); restoring state or testing may set it. */
  constructor(spi: number, last = 0) {
    if (!Number.isInteger(last) || last < 0 || last > MAX_SEQUENCE) {
      throw new RangeError(`outbound sequence must be an integer 0-${MAX_SEQUENCE}, got ${last}`);
    }
    this.#spi = spi;
    this.#last = last;
  }

  get last(): number {
    return this.#last;
  }

  /** The next sequence number to send; throws SequenceExhaustedError rather than wrap. */
  next(): number {
    if (this.#last >= MAX_SEQUENCE) throw new SequenceExhaustedError(this.#spi);
    this.#last += 1;
    return this.#last;
  }
}
