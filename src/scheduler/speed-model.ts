/**
 * Learned speed of each builder for each toolchain, relative to this machine (2 = a job takes
 * half as long there, network included). Kept as an exponentially weighted moving average of
 * log(expected local time ÷ observed remote time), so one pathological job moves it by a bounded
 * factor and fast and slow outliers weigh alike.
 *
 * Confidence in a learned figure decays with a half-life: a builder that was slow once drifts back
 * to its advertised speed, gets sampled again, and is re-measured (icecream's ratings never
 * recover, because its recovery branch is dead code). When nothing has been learned the prior
 * (advertised speed ÷ own speed) is used as is.
 */
import { decayFactor } from './decay.ts'
import type { Clock } from './types.ts'

export interface SpeedModelInit {
  clock: Clock
  /** Weight of a new observation once a few are known. Default 0.2. */
  alpha?: number
  /** Half-life of the confidence in a learned figure. Default 10 minutes. */
  halfLifeMs?: number
  /** Observations needed before the learned figure fully replaces the prior. Default 3. */
  minSamples?: number
}

interface Entry {
  /** EWMA of the log of the speed ratio. */
  mean: number
  /** Effective number of observations (decays like the confidence). */
  n: number
  at: number
}

export class SpeedModel {
  readonly #clock: Clock
  readonly #alpha: number
  readonly #halfLifeMs: number
  readonly #minSamples: number
  readonly #remote = new Map<string, Entry>()
  readonly #local = new Map<string, Entry>()

  constructor(init: SpeedModelInit) {
    this.#clock = init.clock
    this.#alpha = init.alpha ?? 0.2
    this.#halfLifeMs = init.halfLifeMs ?? 600_000
    this.#minSamples = init.minSamples ?? 3
  }

  /** A job ran here: keeps the local baseline used when jobs carry no estimate. */
  observeLocal(toolchain: string, elapsedMs: number): void {
    if (!(elapsedMs > 0)) return
    this.#fold(this.#local, toolchain, Math.log(elapsedMs))
  }

  /**
   * A job ran on `peer` and took `elapsedMs` as seen by this client. `estimateMs` is the job's
   * predicted local run time; without it the local average for the toolchain stands in.
   */
  observeRemote(peer: string, toolchain: string, elapsedMs: number, estimateMs?: number): void {
    if (!(elapsedMs > 0)) return
    let expected = estimateMs
    if (expected === undefined) {
      expected = this.localMs(toolchain)
      if (expected === undefined) return
    }
    if (!(expected > 0)) return
    this.#fold(this.#remote, key(peer, toolchain), Math.log(expected / elapsedMs))
  }

  /** Typical local run time for `toolchain` (geometric mean of recent jobs), if any ran. */
  localMs(toolchain: string): number | undefined {
    const base = this.#local.get(toolchain)
    return base === undefined ? undefined : Math.exp(base.mean)
  }

  /** Speed of `peer` for `toolchain` relative to this machine, blending in `prior` (> 0). */
  relative(peer: string, toolchain: string, prior: number): number {
    const logPrior = Math.log(prior > 0 ? prior : 1)
    const e = this.#remote.get(key(peer, toolchain))
    if (e === undefined) return Math.exp(logPrior)
    const c = this.confidence(peer, toolchain)
    return Math.exp(c * e.mean + (1 - c) * logPrior)
  }

  /** 0 (nothing known, or all forgotten) … 1 (enough recent observations). */
  confidence(peer: string, toolchain: string): number {
    const e = this.#remote.get(key(peer, toolchain))
    if (e === undefined) return 0
    const n = e.n * decayFactor(this.#clock.now() - e.at, this.#halfLifeMs)
    return Math.min(1, n / this.#minSamples)
  }

  #fold(map: Map<string, Entry>, k: string, x: number): void {
    const now = this.#clock.now()
    const e = map.get(k)
    if (e === undefined) {
      map.set(k, { mean: x, n: 1, at: now })
      return
    }
    // Old evidence counts for less: after a long silence the first new sample nearly replaces it.
    const n = e.n * decayFactor(now - e.at, this.#halfLifeMs) + 1
    const a = Math.max(this.#alpha, 1 / n)
    e.mean += a * (x - e.mean)
    e.n = n
    e.at = now
  }
}

function key(peer: string, toolchain: string): string {
  return `${peer}\u0000${toolchain}`
}
