/**
 * The node's compile speed, learned from the compiles it runs, for the advert's `speed` field
 * (placement prefers faster builders). Work is measured icecream-style, as preprocessed bytes
 * compiled per CPU millisecond, and normalised by a reference rate so an ordinary machine of
 * today reads about 1.
 *
 * The figure is an exponentially weighted moving average in the log domain (a geometric mean:
 * a machine twice as fast and one half as fast are the same distance from 1), with a decay
 * given as a half-life in samples. Each sample's step is clamped to a factor of
 * `maxStep` from the current estimate, so one odd compile (a huge generated file, a compile
 * that stalled on I/O) moves it a little, not a lot; compiles too short to time are ignored.
 *
 * A fresh node has no samples: `seed()` takes a calibration (one small fixed compile run at
 * start) so it advertises something meaningful at once; once compiles were observed a later
 * seed counts as one ordinary sample.
 *
 * The published figure (`advertised()`) is rounded and only moves when the estimate has moved
 * by more than `churn` (10 %), so a learning node does not republish its advert every compile.
 *
 * @example
 * ```ts
 * const speed = new SpeedEstimator()
 * speed.seed({ bytes: CALIBRATION_BYTES, cpuMs: 230 })
 * if (speed.observe({ bytes: 1_000_000, cpuMs: 480 })) mesh.changed()
 * advert.speed = speed.advertised()
 * ```
 */

export interface SpeedSample {
  /** Preprocessed bytes compiled (or their equivalent, for the calibration unit). */
  bytes: number
  /** CPU milliseconds the compile took. */
  cpuMs: number
}

export interface SpeedEstimatorOptions {
  /** Bytes per CPU-ms that reads as speed 1 (default 2000: gcc -O2 on a 2020s x86 core). */
  referenceBytesPerMs?: number
  /** Samples after which an old sample weighs half (default 20). */
  halfLife?: number
  /** Largest factor one sample moves the estimate by (default 2). */
  maxStep?: number
  /** Shorter compiles are not timed well enough to count (default 20 ms). */
  minCpuMs?: number
  /** Relative move of the estimate that republishes the figure (default 0.1). */
  churn?: number
}

/** Figure advertised before anything was measured. */
const UNKNOWN_SPEED = 1

export class SpeedEstimator {
  readonly #ref: number
  readonly #alpha: number
  readonly #maxLogStep: number
  readonly #minCpuMs: number
  readonly #churn: number
  /** ln(speed), undefined until a seed or a sample. */
  #log: number | undefined
  #samples = 0
  #published = UNKNOWN_SPEED
  #measured = false

  constructor(options: SpeedEstimatorOptions = {}) {
    this.#ref = options.referenceBytesPerMs ?? 2000
    this.#alpha = 1 - 2 ** (-1 / Math.max(1, options.halfLife ?? 20))
    this.#maxLogStep = Math.log(Math.max(1.01, options.maxStep ?? 2))
    this.#minCpuMs = options.minCpuMs ?? 20
    this.#churn = options.churn ?? 0.1
  }

  /** The current estimate (unrounded), undefined before any measurement. */
  value(): number | undefined {
    return this.#log === undefined ? undefined : Math.exp(this.#log)
  }

  /** Samples observed (the seed not counted). */
  samples(): number {
    return this.#samples
  }

  /** The figure to advertise: rounded, and stable within `churn` of the estimate. */
  advertised(): number {
    return this.#published
  }

  /**
   * Seeds the estimate from a calibration; true if the advertised figure moved. Before any
   * sample it sets the estimate outright; after, it is one sample among the others.
   */
  seed(sample: SpeedSample): boolean {
    const s = this.#rate(sample, 1)
    if (s === undefined) return false
    if (this.#samples > 0 && this.#log !== undefined) return this.#step(s)
    this.#log = s
    return this.#publish()
  }

  /** Adds a measured compile; true if the advertised figure moved (publish the advert). */
  observe(sample: SpeedSample): boolean {
    const s = this.#rate(sample, this.#minCpuMs)
    if (s === undefined) return false
    this.#samples++
    if (this.#log === undefined) {
      this.#log = s
      return this.#publish()
    }
    return this.#step(s)
  }

  #rate({ bytes, cpuMs }: SpeedSample, minMs: number): number | undefined {
    if (!Number.isFinite(bytes) || !Number.isFinite(cpuMs)) return undefined
    if (bytes <= 0 || cpuMs < minMs || cpuMs <= 0) return undefined
    return Math.log(bytes / cpuMs / this.#ref)
  }

  #step(s: number): boolean {
    const cur = this.#log ?? s
    const d = Math.max(-this.#maxLogStep, Math.min(this.#maxLogStep, s - cur))
    this.#log = cur + this.#alpha * d
    return this.#publish()
  }

  #publish(): boolean {
    const v = this.value()
    if (v === undefined) return false
    // The first measurement replaces the placeholder, however close to it.
    if (this.#measured && Math.abs(v - this.#published) <= this.#churn * this.#published) {
      return false
    }
    this.#measured = true
    const next = roundSpeed(v)
    if (next === this.#published) return false
    this.#published = next
    return true
  }
}

/** Two significant digits (0.012 … 99): precise enough to rank, coarse enough to stay put. */
export function roundSpeed(v: number): number {
  if (!(v > 0)) return 0.01
  const digits = Math.max(0, 1 - Math.floor(Math.log10(v)))
  const f = 10 ** digits
  return Math.max(0.01, Math.round(v * f) / f)
}
