/**
 * The builder's table of reserved compile slots (the reservation that opens a job stream,
 * `job-protocol.ts`). A client that means to send a job asks first; a grant is a random token,
 * bound to the peer that asked and kept by the stream's handler, that holds one slot for a short
 * time (`ttlMs`, 3 s by default: long enough to cover the
 * client's preprocessing, which overlaps the reservation, and short enough that a token nobody
 * uses does not idle a slot for long). The job that arrives on the same stream takes the token's
 * slot; once the token expired it is worth nothing (the job is then admitted only if an
 * unreserved slot is free). A stream that closes first gives its slot back at once (`cancel`).
 *
 * Free slots = slots − running − live reservations; the table holds at most `slots` tokens, and
 * at most `perPeer` of one member when that is set (unlimited by default: a member holding every
 * slot keeps them only for the TTL, then asks again like any member).
 *
 * @example
 * ```ts
 * const table = new SlotReservations({ ttlMs: 3000 })
 * const token = table.grant(peer, { free: slots - running })   // undefined: busy
 * // later, when the job arrives with that token:
 * if (table.take(token, peer)) running++
 * ```
 */
import { randomBytes } from 'node:crypto'

export interface SlotReservationsOptions {
  /** How long a grant holds its slot without a job. Default 3000 ms. */
  ttlMs?: number
  /** Most live grants one member may hold. Default: unbounded (only the free slots bound it). */
  perPeer?: number
  /** Time source (ms), injected by tests. Default `performance.now`. */
  now?: () => number
  /** Called when grants expire unused (the builder publishes its fresh free slots). */
  onExpire?: () => void
}

interface Grant {
  peer: string
  expiresAt: number
}

export const RESERVATION_TTL_MS = 3_000

export class SlotReservations {
  readonly ttlMs: number
  readonly #perPeer: number
  readonly #now: () => number
  readonly #onExpire: (() => void) | undefined
  readonly #grants = new Map<string, Grant>()
  #timer: NodeJS.Timeout | undefined
  counters = { granted: 0, taken: 0, expired: 0, refused: 0, cancelled: 0 }

  constructor(options: SlotReservationsOptions = {}) {
    this.ttlMs = options.ttlMs ?? RESERVATION_TTL_MS
    if (!(this.ttlMs > 0)) throw new RangeError(`reservation ttl must be positive: ${this.ttlMs}`)
    this.#perPeer = options.perPeer ?? Number.POSITIVE_INFINITY
    this.#now = options.now ?? (() => performance.now())
    this.#onExpire = options.onExpire
  }

  /** Live reservations (expired ones dropped first). */
  get size(): number {
    this.#sweep()
    return this.#grants.size
  }

  /** Live reservations held by `peer`. */
  heldBy(peer: string): number {
    this.#sweep()
    let n = 0
    for (const g of this.#grants.values()) if (g.peer === peer) n++
    return n
  }

  /**
   * A token holding one slot for `peer`, or undefined when none is free: `free` is the number of
   * slots not running a job (the live reservations are deducted here).
   */
  grant(peer: string, { free }: { free: number }): string | undefined {
    this.#sweep()
    if (free - this.#grants.size <= 0 || this.heldBy(peer) >= this.#perPeer) {
      this.counters.refused++
      return undefined
    }
    const token = randomBytes(16).toString('base64url')
    this.#grants.set(token, { peer, expiresAt: this.#now() + this.ttlMs })
    this.counters.granted++
    this.#arm()
    return token
  }

  /** Uses `token` for a job of `peer`: true (and the grant is gone) if it is live and theirs. */
  take(token: string, peer: string): boolean {
    this.#sweep()
    const g = this.#grants.get(token)
    if (g === undefined || g.peer !== peer) return false
    this.#grants.delete(token)
    this.counters.taken++
    return true
  }

  /**
   * Gives `token`'s slot back unused (its stream closed before a job came): true if it was live.
   * Not counted as taken nor as expired.
   */
  cancel(token: string): boolean {
    if (!this.#grants.delete(token)) return false
    this.counters.cancelled++
    return true
  }

  /** Drops every grant (the builder stops). */
  clear(): void {
    this.#grants.clear()
    clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #sweep(): boolean {
    const now = this.#now()
    let dropped = false
    for (const [token, g] of this.#grants) {
      if (g.expiresAt > now) continue
      this.#grants.delete(token)
      this.counters.expired++
      dropped = true
    }
    return dropped
  }

  /** One timer for the earliest expiry, so that adverts show an unused slot free again. */
  #arm(): void {
    if (this.#timer !== undefined || this.#onExpire === undefined) return
    let first = Number.POSITIVE_INFINITY
    for (const g of this.#grants.values()) first = Math.min(first, g.expiresAt)
    if (first === Number.POSITIVE_INFINITY) return
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined
        if (this.#sweep()) this.#onExpire?.()
        this.#arm()
      },
      Math.max(1, first - this.#now() + 1),
    )
    this.#timer.unref?.()
  }
}
