/**
 * Memo of certificates that verified, so the Ed25519 signature of one certificate is checked
 * once per revocation list rather than on every admission, every re-check (each minute, for
 * every member) and every relayed advert. In a mesh of N members each node meets the same N
 * certificates over and over; without the memo a 100-member mesh spent a sixth of its CPU in
 * certificate signatures (bench/mesh/RESULTS.md).
 *
 * A remembered verdict is used only for the same certificate bytes, the same expected peer, the
 * same trusted organisation keys and the same revocation list (issuer and version), and only
 * while `now` lies inside the certificate's validity window (with the same clock skew the full
 * check allows); so it is exactly the verdict the full check would give. Only successes are
 * remembered (outsiders cannot fill the memo), and at most `maxEntries` of them.
 */

/** What the verdict depends on besides the certificate bytes and the time. */
export interface VerifyContext {
  peerId: string
  /** Trusted organisation keys, in a stable textual form. */
  trust: string
  /** The revocation list in force (issuer and version), or '' when none. */
  crl: string
}

interface Entry<T> {
  value: T
  /** Validity window, Unix ms, inclusive. */
  from: number
  until: number
}

export class VerifiedCerts<T> {
  readonly #entries = new Map<string, Entry<T>>()
  readonly #max: number
  #context = ''
  hits = 0
  misses = 0

  constructor({ maxEntries = 4_096 }: { maxEntries?: number } = {}) {
    this.#max = maxEntries
  }

  /**
   * The remembered value for `bytes` in `ctx` at `now`, else `verify()`'s: a success is
   * remembered for its window `from…until` (Unix ms), a failure forgets the bytes.
   */
  get(
    bytes: Uint8Array,
    ctx: VerifyContext,
    now: number,
    verify: () => { ok: true; value: T; from: number; until: number } | { ok: false },
  ): T | undefined {
    const context = `${ctx.trust}\n${ctx.crl}`
    if (context !== this.#context) {
      // New trust anchors or a new revocation list: every verdict is checked again.
      this.#entries.clear()
      this.#context = context
    }
    const key = `${ctx.peerId}:${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}`
    const held = this.#entries.get(key)
    if (held !== undefined && now >= held.from && now <= held.until) {
      this.hits++
      return held.value
    }
    this.misses++
    const r = verify()
    if (!r.ok) {
      this.#entries.delete(key)
      return undefined
    }
    if (this.#entries.size >= this.#max) this.#entries.clear()
    this.#entries.set(key, { value: r.value, from: r.from, until: r.until })
    return r.value
  }

  clear(): void {
    this.#entries.clear()
  }

  get size(): number {
    return this.#entries.size
  }
}
