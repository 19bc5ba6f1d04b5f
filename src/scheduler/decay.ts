/**
 * Exponential decay: a quantity recorded at time `t0` is worth `2^(-(t - t0) / halfLife)` of
 * itself at time `t`. Used for failure penalties and for the confidence in learned speeds, so
 * that old evidence fades smoothly instead of vanishing at a fixed deadline.
 */

/** The factor by which something `ageMs` old has decayed. Future times (clock skew) count as 0. */
export function decayFactor(ageMs: number, halfLifeMs: number): number {
  if (ageMs <= 0) return 1
  if (!(halfLifeMs > 0)) return 0
  return 2 ** (-ageMs / halfLifeMs)
}

/** A value that decays towards zero; `add` folds new evidence into the decayed old value. */
export class DecayingValue {
  #value = 0
  #at = 0

  /** Current value at `now`. */
  get(now: number, halfLifeMs: number): number {
    return this.#value * decayFactor(now - this.#at, halfLifeMs)
  }

  add(amount: number, now: number, halfLifeMs: number): number {
    this.#value = this.get(now, halfLifeMs) + amount
    this.#at = now
    return this.#value
  }

  scale(factor: number, now: number, halfLifeMs: number): number {
    this.#value = this.get(now, halfLifeMs) * factor
    this.#at = now
    return this.#value
  }
}
