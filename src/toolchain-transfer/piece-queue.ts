/**
 * Which chunk each holder's stream asks for next, during one multi-peer transfer.
 *
 * All streams of all holders pull from one queue, so a fast holder simply takes more pieces than
 * a slow one (work stealing without per-peer queues to steal from). When the queue is empty, an
 * idle stream duplicates a piece still in flight on another holder (end game, at most
 * `maxCopies` requests per piece, oldest first), so one slow holder cannot hold back the last
 * chunks. The first copy to arrive is claimed and written; later copies are discarded. A failed
 * piece goes back to the queue; a holder that answered `not-found` for a piece is not asked for
 * it again.
 */
import type { ChunkRef } from '../toolchain/store.ts'

export interface Assignment {
  key: string
  ref: ChunkRef
  /** True when the piece is already in flight elsewhere (an end-game copy). */
  duplicate: boolean
}

interface PieceState {
  ref: ChunkRef
  /** Peers with a request for it in flight, with the time each started. */
  inflight: Map<string, number>
  claimed: boolean
  done: boolean
  lacking: Set<string>
}

export function pieceKey(ref: Pick<ChunkRef, 'fileSha256' | 'index'>): string {
  return `${ref.fileSha256}/${ref.index}`
}

export class PieceQueue {
  readonly #pieces = new Map<string, PieceState>()
  /** Keys not done and not in flight, in order. */
  #pending: string[] = []
  #remaining: number
  readonly #maxCopies: number
  readonly #now: () => number
  #waiters: (() => void)[] = []

  constructor(refs: readonly ChunkRef[], { maxCopies = 2, now = Date.now } = {}) {
    for (const ref of refs) {
      const key = pieceKey(ref)
      if (this.#pieces.has(key)) continue
      this.#pieces.set(key, {
        ref,
        inflight: new Map(),
        claimed: false,
        done: false,
        lacking: new Set(),
      })
      this.#pending.push(key)
    }
    this.#remaining = this.#pieces.size
    this.#maxCopies = maxCopies
    this.#now = now
  }

  get finished(): boolean {
    return this.#remaining === 0
  }

  get remaining(): number {
    return this.#remaining
  }

  /** The next piece for `peer`, or undefined when there is nothing it could usefully fetch now. */
  next(peer: string): Assignment | undefined {
    for (let i = 0; i < this.#pending.length; i++) {
      const key = this.#pending[i]!
      const p = this.#pieces.get(key)!
      if (p.done || p.claimed) {
        this.#pending.splice(i--, 1)
        continue
      }
      if (p.lacking.has(peer)) continue
      this.#pending.splice(i, 1)
      p.inflight.set(peer, this.#now())
      return { key, ref: p.ref, duplicate: false }
    }
    // End game: copy the piece that has waited longest on another holder.
    let best: PieceState | undefined
    let bestStart = Number.POSITIVE_INFINITY
    for (const p of this.#pieces.values()) {
      if (p.done || p.claimed || p.inflight.size === 0 || p.inflight.size >= this.#maxCopies)
        continue
      if (p.inflight.has(peer) || p.lacking.has(peer)) continue
      const start = Math.min(...p.inflight.values())
      if (start < bestStart) {
        best = p
        bestStart = start
      }
    }
    if (best === undefined) return undefined
    best.inflight.set(peer, this.#now())
    return { key: pieceKey(best.ref), ref: best.ref, duplicate: true }
  }

  /** A copy arrived from `peer`: true if it is the first (write it), false to discard it. */
  claim(key: string, peer: string): boolean {
    const p = this.#get(key)
    p.inflight.delete(peer)
    if (p.done || p.claimed) {
      this.wake()
      return false
    }
    p.claimed = true
    return true
  }

  /** The claimed copy was written. */
  done(key: string): void {
    const p = this.#get(key)
    if (p.done) return
    p.done = true
    p.claimed = false
    this.#remaining--
    this.wake()
  }

  /**
   * The request (or the claimed copy's write) failed; `lacking` when the peer said it does not
   * hold the piece. The piece goes back to the queue unless another copy is still coming.
   */
  failed(key: string, peer: string, { lacking = false, claimed = false } = {}): void {
    const p = this.#get(key)
    p.inflight.delete(peer)
    if (claimed) p.claimed = false
    if (lacking) p.lacking.add(peer)
    if (!p.done && !p.claimed && p.inflight.size === 0 && !this.#pending.includes(key))
      this.#pending.unshift(key)
    this.wake()
  }

  /** A holder left the transfer: its in-flight pieces are requeued. */
  dropPeer(peer: string): void {
    for (const [key, p] of this.#pieces) if (p.inflight.has(peer)) this.failed(key, peer)
  }

  /** True when none of `peers` can fetch some unfinished piece (all lack it, or none remain). */
  stuck(peers: readonly string[]): boolean {
    for (const p of this.#pieces.values()) {
      if (p.done || p.claimed || p.inflight.size > 0) continue
      if (!peers.some((peer) => !p.lacking.has(peer))) return true
    }
    return false
  }

  /** Resolves at the next change (a piece done, failed or released). */
  changed(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve))
  }

  /** Wakes everyone waiting in {@link changed} (also used to interrupt them on abort). */
  wake(): void {
    const w = this.#waiters
    this.#waiters = []
    for (const resolve of w) resolve()
  }

  #get(key: string): PieceState {
    const p = this.#pieces.get(key)
    if (p === undefined) throw new RangeError(`unknown piece ${key}`)
    return p
  }
}
