/**
 * Certificates of advert authors we may not be connected to. A relayed advert carries its
 * author's organisation certificate; this cache checks it with {@link Credentials.verify} against
 * the gossip-authenticated author (`msg.from`, so the subject must be the signer), and remembers
 * the verdict per author and certificate bytes, so each certificate is verified once rather than
 * on every advert (adverts repeat every few seconds from every member).
 *
 * A cached verdict is used for at most `ttlMs` and never past the certificate's expiry; after
 * that (or after {@link AuthorCerts.stale}, when the revocation list changed) the same bytes are
 * verified again, so revocation and expiry still apply to members we only hear of by gossip.
 * The bytes themselves are kept until a check fails: adverts carry the certificate only now and
 * then (see `adverts.ts`), and the ones in between are checked against the bytes held.
 */
import type { PeerId } from '@libp2p/interface'
import type { CertificateCheck, Credentials, MemberCertificate } from './types.ts'

interface Entry {
  bytes: Uint8Array
  cert: MemberCertificate
  checkedAt: number
}

export interface AuthorCertsInit {
  verify: Credentials['verify']
  now?: () => number
  /** How long a verdict is reused before the bytes are verified again. Default 60 s. */
  ttlMs?: number
  /** Authors remembered at most (a full cache is emptied: outsiders cannot grow it, see below). */
  maxEntries?: number
}

export class AuthorCerts {
  readonly #init: AuthorCertsInit
  readonly #now: () => number
  readonly #ttlMs: number
  readonly #entries = new Map<string, Entry>()

  constructor(init: AuthorCertsInit) {
    this.#init = init
    this.#now = init.now ?? Date.now
    this.#ttlMs = init.ttlMs ?? 60_000
  }

  /**
   * The verdict on `author`'s certificate: `bytes` if given (as carried by its advert), else the
   * one held from an earlier advert. Undefined when there is nothing to check.
   */
  async check(author: PeerId, bytes?: Uint8Array): Promise<CertificateCheck | undefined> {
    const key = author.toString()
    const now = this.#now()
    const held = this.#entries.get(key)
    const candidate = bytes ?? held?.bytes
    if (candidate === undefined) return undefined
    if (
      held !== undefined &&
      now - held.checkedAt < this.#ttlMs &&
      now < held.cert.expiresAt &&
      sameBytes(held.bytes, candidate)
    ) {
      return { ok: true, cert: held.cert }
    }
    let check: CertificateCheck
    try {
      check = await this.#init.verify(candidate, author, now)
    } catch (err) {
      check = { ok: false, reason: `unreadable certificate: ${(err as Error).message}` }
    }
    if (!check.ok) {
      // Only valid certificates are remembered, so outsiders cannot fill the cache.
      if (candidate === held?.bytes) this.#entries.delete(key)
      return check
    }
    if (this.#entries.size >= (this.#init.maxEntries ?? 10_000) && held === undefined) {
      this.#entries.clear()
    }
    this.#entries.set(key, { bytes: candidate, cert: check.cert, checkedAt: now })
    return check
  }

  /**
   * Holds a certificate admission verified for a member we are connected to, so that its adverts
   * are still believed (without carrying the certificate) once that connection is pruned.
   */
  remember(author: PeerId | string, bytes: Uint8Array, cert: MemberCertificate): void {
    const key = author.toString()
    if (this.#entries.size >= (this.#init.maxEntries ?? 10_000) && !this.#entries.has(key)) {
      this.#entries.clear()
    }
    this.#entries.set(key, { bytes, cert, checkedAt: this.#now() })
  }

  forget(author: PeerId | string): void {
    this.#entries.delete(author.toString())
  }

  /** Forgets every certificate and verdict. */
  clear(): void {
    this.#entries.clear()
  }

  /**
   * Marks every verdict stale (the revocation list changed, or a periodic re-check): the next
   * check of each author verifies its held bytes again, and drops them if they fail.
   */
  stale(): void {
    for (const e of this.#entries.values()) e.checkedAt = Number.NEGATIVE_INFINITY
  }

  /** Whether a certificate of `author` is held (verified earlier). */
  has(author: PeerId | string): boolean {
    return this.#entries.has(author.toString())
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a === b || (a.length === b.length && Buffer.compare(a, b) === 0)
}
