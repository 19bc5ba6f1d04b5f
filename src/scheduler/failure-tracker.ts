/**
 * Per-builder failure penalties with exponential decay, acting as a circuit breaker.
 *
 * Each infrastructure failure adds to a builder's penalty (a sandbox refusal adds enough to open
 * the breaker at once: that builder cannot run jobs until something changes); the penalty halves
 * every `halfLifeMs`. The breaker opens when the penalty reaches `openAt` and stays open until it
 * has decayed to `closeAt`, so repeated failures keep a builder out for longer (the time to decay
 * grows with the logarithm of the penalty) rather than for a fixed 60 s as in distcc. Below the
 * threshold the penalty still lowers the chance of being sampled (`factor`). Successes halve it.
 */
import { DecayingValue } from './decay.ts'
import type { Clock, InfraFailure } from './types.ts'

export interface FailureTrackerInit {
  clock: Clock
  /** Default 30 s. */
  halfLifeMs?: number
  /** Penalty at which the breaker opens. Default 2.5: three failures in quick succession. */
  openAt?: number
  /** Penalty at which an open breaker closes again. Default 1. */
  closeAt?: number
}

/** How much each kind of failure weighs. */
export const FAILURE_WEIGHT: Readonly<Record<InfraFailure, number>> = {
  unreachable: 1,
  'cut-off': 1,
  deadline: 1,
  protocol: 1,
  'toolchain-missing': 1,
  // A broken sandbox does not fix itself between two jobs.
  'sandbox-refused': 3,
}

interface State {
  penalty: DecayingValue
  open: boolean
}

export class FailureTracker {
  readonly #clock: Clock
  readonly #halfLifeMs: number
  readonly #openAt: number
  readonly #closeAt: number
  readonly #peers = new Map<string, State>()

  constructor(init: FailureTrackerInit) {
    this.#clock = init.clock
    this.#halfLifeMs = init.halfLifeMs ?? 30_000
    this.#openAt = init.openAt ?? 2.5
    this.#closeAt = init.closeAt ?? 1
  }

  failure(peer: string, kind: InfraFailure): void {
    const s = this.#state(peer)
    const p = s.penalty.add(FAILURE_WEIGHT[kind], this.#clock.now(), this.#halfLifeMs)
    if (p >= this.#openAt) s.open = true
  }

  success(peer: string): void {
    const s = this.#peers.get(peer)
    if (s === undefined) return
    s.penalty.scale(0.5, this.#clock.now(), this.#halfLifeMs)
  }

  /** Current (decayed) penalty. */
  penalty(peer: string): number {
    return this.#peers.get(peer)?.penalty.get(this.#clock.now(), this.#halfLifeMs) ?? 0
  }

  /** True while the breaker is open: the builder is not a candidate. */
  isOpen(peer: string): boolean {
    const s = this.#peers.get(peer)
    if (s === undefined || !s.open) return false
    if (s.penalty.get(this.#clock.now(), this.#halfLifeMs) <= this.#closeAt) s.open = false
    return s.open
  }

  /** Multiplier for the sampling weight: 1 without penalty, halving per unit of penalty. */
  factor(peer: string): number {
    return 2 ** -this.penalty(peer)
  }

  #state(peer: string): State {
    let s = this.#peers.get(peer)
    if (s === undefined) {
      s = { penalty: new DecayingValue(), open: false }
      this.#peers.set(peer, s)
    }
    return s
  }
}
