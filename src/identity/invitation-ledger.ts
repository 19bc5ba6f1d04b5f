/**
 * Invitation redemption on the admin node: the use ledger and `redeemInvitation`.
 *
 * The ledger counts uses per invitation id in `$MESHCC_HOME/org/invitations.json`, written
 * atomically before any certificate is handed out, so a crash can lose a use but never grant an
 * extra one. Redemptions are serialised inside the process; only the daemon redeems.
 *
 * @example
 * ```ts
 * const ledger = await InvitationLedger.open(paths.invitations)
 * const r = await redeemInvitation(ledger, req.invitation, req.proof, connection.remotePeer, {
 *   org, name: req.name, crl,
 * })
 * reply(r.ok ? { certificate: r.certificate } : { error: r.reason })
 * ```
 */
import { IdentityFileError } from '../errors.ts'
import { type Certificate, decodeCertificate, issueCertificate } from './certificate.ts'
import { isRevoked, type RevocationList } from './crl.ts'
import { bytesEqual, toHex } from './encoding.ts'
import { readIfExists, writeFileAtomic } from './files.ts'
import { decodeSignedInvitation, invitationProof, invitationSecret } from './invitation.ts'
import { type PeerRef, peerMultihash } from './peer.ts'
import { isValidHostLabel, type Org } from './types.ts'

/** Entries are kept this long after their invitation expired, then pruned. */
const PRUNE_AFTER_SECONDS = 24 * 3600

interface LedgerEntry {
  uses: number
  exp: number
}

export class InvitationLedger {
  readonly file: string | undefined
  readonly #entries: Map<string, LedgerEntry>
  #queue: Promise<unknown> = Promise.resolve()

  private constructor(file: string | undefined, entries: Map<string, LedgerEntry>) {
    this.file = file
    this.#entries = entries
  }

  /** Opens the ledger stored in `file` (created on first use), or an in-memory one. */
  static async open(file?: string): Promise<InvitationLedger> {
    const entries = new Map<string, LedgerEntry>()
    const bytes = file === undefined ? undefined : await readIfExists(file)
    if (bytes !== undefined) {
      let data: { invitations?: Record<string, LedgerEntry> }
      try {
        data = JSON.parse(new TextDecoder().decode(bytes)) as typeof data
      } catch (err) {
        // Refuse rather than start from zero: that would hand out every invitation again.
        throw new IdentityFileError(`${file} is not a valid invitation ledger`, { cause: err })
      }
      for (const [id, entry] of Object.entries(data.invitations ?? {})) {
        if (Number.isSafeInteger(entry.uses) && Number.isSafeInteger(entry.exp)) {
          entries.set(id, { uses: entry.uses, exp: entry.exp })
        }
      }
    }
    return new InvitationLedger(file, entries)
  }

  /** How many times an invitation has been redeemed. */
  uses(id: string): number {
    return this.#entries.get(id)?.uses ?? 0
  }

  /**
   * Counts one use if fewer than `maxUses` were counted, persisting before returning true.
   * Calls are serialised, so concurrent redemptions cannot exceed the limit.
   */
  consume(id: string, exp: number, maxUses: number, now: number): Promise<boolean> {
    const run = this.#queue.then(async () => {
      const entry = this.#entries.get(id) ?? { uses: 0, exp }
      if (entry.uses >= maxUses) return false
      const next = new Map(this.#entries)
      next.set(id, { uses: entry.uses + 1, exp })
      for (const [key, e] of next) {
        if (e.exp + PRUNE_AFTER_SECONDS < now / 1000) next.delete(key)
      }
      await this.#persist(next)
      this.#entries.clear()
      for (const [key, e] of next) this.#entries.set(key, e)
      return true
    })
    this.#queue = run.catch(() => undefined)
    return run
  }

  async #persist(entries: Map<string, LedgerEntry>): Promise<void> {
    if (this.file === undefined) return
    const data = { v: 1, invitations: Object.fromEntries(entries) }
    await writeFileAtomic(this.file, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 })
  }
}

export type RedeemFailure =
  | 'malformed'
  | 'wrong-org'
  | 'bad-proof'
  | 'expired'
  | 'revoked'
  | 'used-up'

export type RedeemResult =
  | { ok: true; certificate: Uint8Array; cert: Certificate; usesLeft: number }
  | { ok: false; reason: RedeemFailure }

export interface RedeemOptions {
  /** The organisation this admin node holds; the invitation must be its own. */
  org: Org
  /** Host label the joiner asked for. */
  name: string
  /** ms since the epoch (default now). */
  now?: number
  certTtlSeconds?: number
  /** Current revocation list: a revoked peer cannot rejoin with a fresh invitation. */
  crl?: RevocationList | undefined
}

/**
 * Redeems an invitation for `peerId` (the Noise-authenticated joiner). Checks, in order:
 * structure and signature (`malformed`), that it is this org's (`wrong-org`), the joiner's proof
 * (`bad-proof`), expiry (`expired`, no skew: the admin's own clock made it), the revocation list
 * (`revoked`) and finally the use limit (`used-up`): bad requests never burn a use.
 */
export async function redeemInvitation(
  ledger: InvitationLedger,
  invitation: Uint8Array,
  proof: Uint8Array,
  peerId: PeerRef,
  options: RedeemOptions,
): Promise<RedeemResult> {
  const inv = decodeSignedInvitation(invitation)
  if (inv === undefined || !isValidHostLabel(options.name))
    return { ok: false, reason: 'malformed' }
  const { org } = options
  if (inv.orgKey.org !== org.org || !bytesEqual(inv.orgKey.publicKey, org.publicKey)) {
    return { ok: false, reason: 'wrong-org' }
  }
  let subject: Uint8Array
  try {
    subject = peerMultihash(peerId)
  } catch {
    return { ok: false, reason: 'malformed' }
  }
  const expected = invitationProof({ id: inv.id, secret: invitationSecret(org, inv.id) }, subject)
  if (!bytesEqual(proof, expected)) return { ok: false, reason: 'bad-proof' }
  const now = options.now ?? Date.now()
  if (now / 1000 > inv.exp) return { ok: false, reason: 'expired' }
  if (isRevoked(options.crl, { subject })) return { ok: false, reason: 'revoked' }
  if (!(await ledger.consume(inv.id, inv.exp, inv.maxUses, now))) {
    return { ok: false, reason: 'used-up' }
  }
  const certificate = issueCertificate(org, {
    peerId: subject,
    name: options.name,
    roles: inv.roles,
    groups: inv.groups,
    now,
    ...(options.certTtlSeconds === undefined ? {} : { ttlSeconds: options.certTtlSeconds }),
  })
  const cert = decodeCertificate(certificate)
  if (cert === undefined)
    throw new Error(`issued an undecodable certificate (${toHex(certificate)})`)
  return { ok: true, certificate, cert, usesLeft: inv.maxUses - ledger.uses(inv.id) }
}
