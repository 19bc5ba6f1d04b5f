/**
 * Certificate renewal on the admin node: a member presents its current, still valid certificate
 * and gets a fresh one with the same name, roles and groups.
 *
 * Node certificates are short-lived (14 days by default) so that expiry does most of the
 * revocation work; members should ask for renewal once `needsRenewal(cert)` is true (two thirds
 * of the lifetime). A revoked or expired certificate cannot be renewed: that member needs a new
 * invitation.
 *
 * @example
 * ```ts
 * const r = renewCertificate(org, presentedBytes, connection.remotePeer, { crl })
 * reply(r.ok ? { certificate: r.certificate } : { error: r.reason })
 * ```
 */
import { issueCertificate } from './certificate.ts'
import type { RevocationList } from './crl.ts'
import type { PeerRef } from './peer.ts'
import type { Org } from './types.ts'
import { type CertificateFailure, verifyCertificate } from './verify-certificate.ts'

export type RenewResult =
  | { ok: true; certificate: Uint8Array }
  | { ok: false; reason: CertificateFailure | 'too-early' }

export interface RenewOptions {
  crl?: RevocationList | undefined
  /** Current time, ms since the epoch (default now). */
  now?: number
  ttlSeconds?: number
  /**
   * Share of the current certificate's lifetime that must have passed (default 0: any time).
   * The mesh's key holders ask for 1/2 while members ask at 2/3, so a member cannot make them
   * sign over and over.
   */
  minElapsed?: number
}

/** Reissues `current` for `peerId` (the Noise-authenticated requester) if it is still valid. */
export function renewCertificate(
  org: Org,
  current: Uint8Array,
  peerId: PeerRef,
  options: RenewOptions = {},
): RenewResult {
  const now = options.now ?? Date.now()
  const r = verifyCertificate(current, {
    trustedOrgKeys: [org],
    expectedPeerId: peerId,
    crl: options.crl,
    now,
  })
  if (!r.ok) return r
  const { nbf, exp } = r.cert
  if (now / 1000 < nbf + (exp - nbf) * (options.minElapsed ?? 0)) {
    return { ok: false, reason: 'too-early' }
  }
  const certificate = issueCertificate(org, {
    peerId,
    name: r.cert.name,
    roles: r.cert.roles,
    groups: r.cert.groups,
    now,
    ...(options.ttlSeconds === undefined ? {} : { ttlSeconds: options.ttlSeconds }),
  })
  return { ok: true, certificate }
}
