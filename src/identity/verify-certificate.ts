/**
 * Certificate verification: the one check the mesh runs on every peer it admits.
 *
 * Order of checks: structure → issuer is a trusted org key → signature over the raw TBS →
 * subject is the expected (Noise-authenticated) peer → validity window with ±5 min skew →
 * revocation list → required role. Every failure returns a reason; nothing throws.
 *
 * @example
 * ```ts
 * const r = verifyCertificate(bytes, {
 *   trustedOrgKeys, expectedPeerId: connection.remotePeer, crl, requiredRole: 'builder',
 * })
 * if (!r.ok) connection.abort(new AdmissionRefusedError(r.reason))
 * ```
 */
import { type Certificate, decodeCertificate } from './certificate.ts'
import { isRevoked, type RevocationList } from './crl.ts'
import { DOMAIN_CERT, verifyWithDomain } from './ed25519.ts'
import { bytesEqual } from './encoding.ts'
import { type PeerRef, peerMultihash } from './peer.ts'
import { findTrustedKey } from './trust.ts'
import { CLOCK_SKEW_SECONDS, type Role, type TrustedOrgKey } from './types.ts'

export type CertificateFailure =
  | 'bad-signature'
  | 'wrong-org'
  | 'expired'
  | 'not-yet-valid'
  | 'revoked'
  | 'subject-mismatch'
  | 'malformed'
  | 'missing-role'

export type CertificateResult =
  | { ok: true; cert: Certificate }
  | { ok: false; reason: CertificateFailure }

export interface VerifyCertificateOptions {
  /** Organisation keys this node trusts (its own org's key, plus rotations). */
  trustedOrgKeys: readonly TrustedOrgKey[]
  /** The peer the certificate must name: the peer Noise authenticated, never a claimed one. */
  expectedPeerId: PeerRef
  /** Current time, ms since the epoch (default `Date.now()`). */
  now?: number
  /** The latest verified revocation list; ignored if it belongs to another issuer. */
  crl?: RevocationList | undefined
  /** A role the certificate must carry. */
  requiredRole?: Role | undefined
}

/** Verifies encoded certificate bytes as received from a peer or read from disk. */
export function verifyCertificate(
  bytes: Uint8Array,
  options: VerifyCertificateOptions,
): CertificateResult {
  const cert = decodeCertificate(bytes)
  if (cert === undefined) return { ok: false, reason: 'malformed' }
  const key = findTrustedKey(options.trustedOrgKeys, cert.issuer)
  if (key === undefined || key.org !== cert.org) return { ok: false, reason: 'wrong-org' }
  if (!verifyWithDomain(key.publicKey, DOMAIN_CERT, cert.tbs, cert.sig)) {
    return { ok: false, reason: 'bad-signature' }
  }
  let expected: Uint8Array
  try {
    expected = peerMultihash(options.expectedPeerId)
  } catch {
    return { ok: false, reason: 'subject-mismatch' }
  }
  if (!bytesEqual(cert.subject, expected)) return { ok: false, reason: 'subject-mismatch' }
  const now = (options.now ?? Date.now()) / 1000
  if (now < cert.nbf - CLOCK_SKEW_SECONDS) return { ok: false, reason: 'not-yet-valid' }
  if (now > cert.exp + CLOCK_SKEW_SECONDS) return { ok: false, reason: 'expired' }
  const crl = options.crl
  if (crl !== undefined && bytesEqual(crl.issuer, cert.issuer) && isRevoked(crl, cert)) {
    return { ok: false, reason: 'revoked' }
  }
  if (options.requiredRole !== undefined && !cert.roles.includes(options.requiredRole)) {
    return { ok: false, reason: 'missing-role' }
  }
  return { ok: true, cert }
}

/** True once two thirds of the certificate's lifetime have passed: time to renew it. */
export function needsRenewal(cert: Certificate, now = Date.now()): boolean {
  return now / 1000 >= cert.nbf + ((cert.exp - cert.nbf) * 2) / 3
}
