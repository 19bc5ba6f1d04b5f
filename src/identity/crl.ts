/**
 * Signed, versioned revocation lists (CRLs).
 *
 * An admin adds a certificate serial or a peer id; the new list gets `seq + 1` and is signed
 * over `"meshcc-crl-v1\0" || tbs` with the organisation key. Members accept a list only if the
 * signature checks against a trusted key and its `seq` is newer than the one they hold, so an
 * old list can never be replayed to un-revoke a peer. Lists are cumulative: each one carries
 * every revocation so far.
 *
 * @example
 * ```ts
 * const next = revoke(org, current, { peerId: '12D3KooW…' })
 * const r = verifyCrl(next.bytes, [org], current?.seq ?? 0) // { ok: true, crl }
 * ```
 */
import { DOMAIN_CRL, signWithDomain, verifyWithDomain } from './ed25519.ts'
import {
  bytesEqual,
  canonicalJson,
  fromBase64Url,
  fromHex,
  parseCanonicalObject,
  toBase64Url,
} from './encoding.ts'
import { decodeEnvelope, encodeEnvelope, KIND_CRL } from './envelope.ts'
import { type PeerRef, peerMultihash, SUBJECT_LENGTH } from './peer.ts'
import { findTrustedKey } from './trust.ts'
import { isStrictlySorted, ORG_NAME_RE, type Org, type TrustedOrgKey } from './types.ts'

/** Largest encoded revocation list accepted (about 3000 entries). */
export const MAX_CRL_BYTES = 256 * 1024
const TBS_VERSION = 1
const TBS_KEYS = ['issuedAt', 'issuer', 'org', 'revokedSerials', 'revokedSubjects', 'seq', 'v']

/** A decoded revocation list. */
export interface RevocationList {
  readonly org: string
  /** sha256 of the signing organisation key. */
  readonly issuer: Uint8Array
  /** Monotonic version: 1 for the first list. */
  readonly seq: number
  /** Unix seconds. */
  readonly issuedAt: number
  /** Revoked certificate serials (lowercase hex). */
  readonly revokedSerials: ReadonlySet<string>
  /** Revoked peer ids, as base64url of their multihash bytes. */
  readonly revokedSubjects: ReadonlySet<string>
  /** The signed envelope as received (what to gossip and persist). */
  readonly bytes: Uint8Array
}

export type CrlResult =
  | { ok: true; crl: RevocationList }
  | { ok: false; reason: 'malformed' | 'wrong-org' | 'bad-signature' | 'stale' }

/** What to revoke: a certificate serial (32 hex digits) or every certificate of a peer. */
export type RevokeTarget = { serial: string } | { peerId: PeerRef }

/** True if the list revokes this certificate serial or subject (peer multihash bytes). */
export function isRevoked(
  crl: RevocationList | undefined,
  entry: { serial?: string; subject?: Uint8Array },
): boolean {
  if (crl === undefined) return false
  if (entry.serial !== undefined && crl.revokedSerials.has(entry.serial)) return true
  return entry.subject !== undefined && crl.revokedSubjects.has(toBase64Url(entry.subject))
}

/** Decodes a list's structure without checking its signature. */
export function decodeCrl(
  bytes: Uint8Array,
): (RevocationList & { tbs: Uint8Array; sig: Uint8Array }) | undefined {
  const envelope = decodeEnvelope(bytes, KIND_CRL, MAX_CRL_BYTES)
  if (envelope === undefined) return undefined
  const t = parseCanonicalObject(envelope.tbs)
  if (t === undefined) return undefined
  const keys = Object.keys(t).sort()
  if (keys.length !== TBS_KEYS.length || keys.some((k, i) => k !== TBS_KEYS[i])) return undefined
  const { v, org, issuer, seq, issuedAt, revokedSerials, revokedSubjects } = t
  if (v !== TBS_VERSION || typeof org !== 'string' || !ORG_NAME_RE.test(org)) return undefined
  const issuerBytes = typeof issuer === 'string' ? fromBase64Url(issuer) : undefined
  if (issuerBytes?.length !== 32) return undefined
  if (!Number.isSafeInteger(seq) || (seq as number) < 1) return undefined
  if (!Number.isSafeInteger(issuedAt) || (issuedAt as number) < 0) return undefined
  if (!Array.isArray(revokedSerials) || !Array.isArray(revokedSubjects)) return undefined
  if (!revokedSerials.every((s) => typeof s === 'string' && fromHex(s, 16) !== undefined))
    return undefined
  if (
    !revokedSubjects.every(
      (s) => typeof s === 'string' && fromBase64Url(s)?.length === SUBJECT_LENGTH,
    )
  ) {
    return undefined
  }
  if (!isStrictlySorted(revokedSerials) || !isStrictlySorted(revokedSubjects)) return undefined
  return {
    org,
    issuer: issuerBytes,
    seq: seq as number,
    issuedAt: issuedAt as number,
    revokedSerials: new Set(revokedSerials as string[]),
    revokedSubjects: new Set(revokedSubjects as string[]),
    bytes: bytes.slice(),
    tbs: envelope.tbs,
    sig: envelope.sig,
  }
}

/**
 * Verifies a revocation list received from disk or the mesh: well-formed, signed by a trusted
 * organisation key, and newer than `currentSeq` (0 when none is held yet).
 */
export function verifyCrl(
  bytes: Uint8Array,
  trustedOrgKeys: readonly TrustedOrgKey[],
  currentSeq = 0,
): CrlResult {
  const decoded = decodeCrl(bytes)
  if (decoded === undefined) return { ok: false, reason: 'malformed' }
  const key = findTrustedKey(trustedOrgKeys, decoded.issuer)
  if (key === undefined || key.org !== decoded.org) return { ok: false, reason: 'wrong-org' }
  if (!verifyWithDomain(key.publicKey, DOMAIN_CRL, decoded.tbs, decoded.sig)) {
    return { ok: false, reason: 'bad-signature' }
  }
  if (decoded.seq <= currentSeq) return { ok: false, reason: 'stale' }
  const { tbs: _tbs, sig: _sig, ...crl } = decoded
  return { ok: true, crl }
}

/** Signs a list with the given contents. */
export function signCrl(
  org: Org,
  contents: { seq: number; serials: Iterable<string>; subjects: Iterable<string>; now?: number },
): RevocationList {
  const tbs = canonicalJson({
    v: TBS_VERSION,
    org: org.org,
    issuer: toBase64Url(org.issuer),
    seq: contents.seq,
    issuedAt: Math.floor((contents.now ?? Date.now()) / 1000),
    revokedSerials: [...new Set(contents.serials)].sort(),
    revokedSubjects: [...new Set(contents.subjects)].sort(),
  })
  const bytes = encodeEnvelope({
    kind: KIND_CRL,
    tbs,
    sig: signWithDomain(org.secretKey, DOMAIN_CRL, tbs),
  })
  const result = verifyCrl(bytes, [org], contents.seq - 1)
  if (!result.ok) throw new RangeError(`cannot build revocation list: ${result.reason}`)
  return result.crl
}

/**
 * The next revocation list: `current` (verified, of this org, or undefined for the first) plus
 * one more serial or peer, with `seq + 1`.
 */
export function revoke(
  org: Org,
  current: RevocationList | undefined,
  target: RevokeTarget,
  { now }: { now?: number } = {},
): RevocationList {
  if (
    current !== undefined &&
    (!bytesEqual(current.issuer, org.issuer) || current.org !== org.org)
  ) {
    throw new RangeError('the current revocation list belongs to another organisation')
  }
  const serials = new Set(current?.revokedSerials ?? [])
  const subjects = new Set(current?.revokedSubjects ?? [])
  if ('serial' in target) {
    const serial = target.serial.toLowerCase()
    if (fromHex(serial, 16) === undefined) throw new RangeError('a serial is 32 hex digits')
    serials.add(serial)
  } else {
    const subject = peerMultihash(target.peerId)
    if (subject.length !== SUBJECT_LENGTH)
      throw new RangeError('only Ed25519 peer ids can be revoked')
    subjects.add(toBase64Url(subject))
  }
  return signCrl(org, {
    seq: (current?.seq ?? 0) + 1,
    serials,
    subjects,
    ...(now === undefined ? {} : { now }),
  })
}
