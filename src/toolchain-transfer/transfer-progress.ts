/**
 * Progress of one toolchain transfer, for `meshcc toolchain` output and the daemon log: the
 * phase, bytes done of total, and the rate over the last second or so. Events go out at most
 * ten times a second, and only once the transfer has lasted `delayMs` (a transfer that ends
 * sooner is "a moment" and shows nothing); the last one is always sent if any was.
 */

export type TransferPhase = 'manifest' | 'chunks' | 'materialize'

export interface TransferProgressEvent {
  id: string
  phase: TransferPhase
  done: number
  total: number
  /** Bytes per second over the recent window (0 in phases without a byte count). */
  bytesPerSecond: number
  /** Holders currently sending. */
  peers: number
  elapsedMs: number
}

const INTERVAL_MS = 100
const WINDOW_MS = 1_000

export class TransferProgress {
  readonly #id: string
  readonly #emit: (p: TransferProgressEvent) => void
  readonly #delayMs: number
  readonly #start = performance.now()
  #phase: TransferPhase = 'manifest'
  #last = Number.NEGATIVE_INFINITY
  #shown = false
  #samples: [t: number, done: number][] = []
  #latest: TransferProgressEvent | undefined

  constructor(id: string, emit: (p: TransferProgressEvent) => void, delayMs: number) {
    this.#id = id
    this.#emit = emit
    this.#delayMs = delayMs
  }

  phase(phase: TransferPhase, done: number, total: number): void {
    this.#phase = phase
    this.#samples = []
    this.update(done, total, 0, true)
  }

  update(done: number, total: number, peers: number, force = false): void {
    const now = performance.now()
    this.#samples.push([now, done])
    while (this.#samples.length > 2 && now - this.#samples[0]![0] > WINDOW_MS) this.#samples.shift()
    const [t0, d0] = this.#samples[0]!
    const bytesPerSecond = now > t0 ? ((done - d0) * 1000) / (now - t0) : 0
    this.#latest = {
      id: this.#id,
      phase: this.#phase,
      done,
      total,
      bytesPerSecond,
      peers,
      elapsedMs: now - this.#start,
    }
    if (now - this.#start < this.#delayMs) return
    if (!force && now - this.#last < INTERVAL_MS && done !== total) return
    this.#last = now
    this.#shown = true
    this.#emit(this.#latest)
  }

  /** Sends the final state if anything was shown. */
  finish(): void {
    if (this.#shown && this.#latest)
      this.#emit({ ...this.#latest, elapsedMs: performance.now() - this.#start })
  }
}
