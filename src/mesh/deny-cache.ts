/**
 * Short-lived memory of peers that failed admission. The connection gater consults it so that a
 * refused peer cannot immediately reconnect and cost another handshake, while an honest peer
 * that was refused for a transient reason (clock skew, certificate about to be renewed) gets
 * another chance after the entry expires.
 */
import type { PeerId } from '@libp2p/interface'

export interface DenyEntry {
  until: number
  reason: string
}

export class DenyCache {
  readonly #entries = new Map<string, DenyEntry>()
  readonly #now: () => number
  /** Entries kept at most; the oldest are dropped first, so a flood cannot grow memory. */
  readonly #max: number

  constructor({ now = Date.now, max = 10_000 }: { now?: () => number; max?: number } = {}) {
    this.#now = now
    this.#max = max
  }

  deny(peer: PeerId | string, ttlMs: number, reason: string): void {
    const key = peer.toString()
    this.#entries.delete(key)
    this.#entries.set(key, { until: this.#now() + ttlMs, reason })
    while (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value
      if (oldest === undefined) break
      this.#entries.delete(oldest)
    }
  }

  /** The live entry for `peer`, if any (expired entries are removed on the way). */
  get(peer: PeerId | string): DenyEntry | undefined {
    const key = peer.toString()
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (entry.until <= this.#now()) {
      this.#entries.delete(key)
      return undefined
    }
    return entry
  }

  has(peer: PeerId | string): boolean {
    return this.get(peer) !== undefined
  }

  clear(peer: PeerId | string): void {
    this.#entries.delete(peer.toString())
  }
}
