/**
 * The toolchain transfers this daemon runs, as `meshcc toolchain list` shows them (`transfers`
 * control command): the latest progress of each (`TransferProgressEvent`, sent only for
 * transfers that last more than a moment), logged at most once a second per transfer. Jobs
 * that wait on the same toolchain share one transfer; it stays on the board until the last of
 * them is done with it.
 *
 * @example
 * ```ts
 * const board = new TransferBoard(log)
 * await board.track(id, (onProgress) => transfer.ensureToolchain(id, { signal, onProgress }))
 * board.list()   // [] once it ended
 * ```
 */
import type { TransferProgressEvent } from '../toolchain-transfer/transfer-progress.ts'
import type { Logger } from './logger.ts'

/** A transfer's progress is logged at most this often. */
const LOG_EVERY_MS = 1_000

export class TransferBoard {
  readonly #log: Logger
  readonly #now: () => number
  readonly #latest = new Map<string, TransferProgressEvent>()
  readonly #loggedAt = new Map<string, number>()
  readonly #waiting = new Map<string, number>()

  constructor(log: Logger, now: () => number = () => performance.now()) {
    this.#log = log
    this.#now = now
  }

  /** Transfers under way that reported progress, oldest first. */
  list(): TransferProgressEvent[] {
    return [...this.#latest.values()]
  }

  /** Runs `fetch` for toolchain `id`, recording the progress it reports. */
  async track<T>(
    id: string,
    fetch: (onProgress: (p: TransferProgressEvent) => void) => Promise<T>,
  ): Promise<T> {
    this.#waiting.set(id, (this.#waiting.get(id) ?? 0) + 1)
    try {
      return await fetch((p) => this.#progress(p))
    } finally {
      const left = (this.#waiting.get(id) ?? 1) - 1
      if (left > 0) this.#waiting.set(id, left)
      else {
        this.#waiting.delete(id)
        this.#latest.delete(id)
        this.#loggedAt.delete(id)
      }
    }
  }

  /** Forgets everything (the mesh stopped). */
  clear(): void {
    this.#latest.clear()
    this.#loggedAt.clear()
  }

  #progress(p: TransferProgressEvent): void {
    // A late event (after its transfer ended) must not bring it back.
    if (!this.#waiting.has(p.id)) return
    this.#latest.set(p.id, p)
    const now = this.#now()
    if (now - (this.#loggedAt.get(p.id) ?? Number.NEGATIVE_INFINITY) < LOG_EVERY_MS) return
    this.#loggedAt.set(p.id, now)
    this.#log.info('toolchain transfer progress', {
      id: p.id,
      phase: p.phase,
      done: p.done,
      total: p.total,
      bytesPerSecond: Math.round(p.bytesPerSecond),
      peers: p.peers,
      elapsedMs: Math.round(p.elapsedMs),
    })
  }
}
