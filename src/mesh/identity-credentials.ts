/**
 * Adapter from the identity module (`src/identity/`) to the mesh's {@link Credentials}: this
 * node's certificate as loaded from `$MESHCC_HOME/identity`, and verification of peers'
 * certificates against the trusted organisation keys and the current revocation list.
 *
 * @example
 * ```ts
 * const { identity } = await ensurePersonalOrg(identityPaths(home), peerId)
 * const credentials = identityCredentials({
 *   identity: () => identity,
 *   trustedOrgKeys: () => [identity.trustAnchor],
 *   crl: () => currentCrl,
 * })
 * ```
 *
 * Successful verdicts are remembered per certificate bytes, expected peer, trusted keys and
 * revocation list ({@link VerifiedCerts}), so each certificate's signature is checked once per
 * revocation list, not on every admission, re-check and relayed advert.
 */
import { createHash } from 'node:crypto'
import type { Certificate } from '../identity/certificate.ts'
import type { RevocationList } from '../identity/crl.ts'
import { CLOCK_SKEW_SECONDS } from '../identity/types.ts'
import type { TrustedOrgKey } from '../identity/types.ts'
import { verifyCertificate } from '../identity/verify-certificate.ts'
import type { Credentials, MemberCertificate } from './types.ts'
import { VerifiedCerts } from './verified-certs.ts'

export interface IdentityCredentialsInit {
  /** This node's identity; a function so a renewed certificate is picked up without restart. */
  identity: () => { certificate: Uint8Array; cert: Certificate }
  trustedOrgKeys: () => readonly TrustedOrgKey[]
  crl?: () => RevocationList | undefined
  /** Remembered verdicts (default: a fresh memo per credentials object). */
  verified?: VerifiedCerts<MemberCertificate>
}

export function memberCertificate(cert: Certificate): MemberCertificate {
  return {
    org: cert.org,
    roles: cert.roles,
    groups: cert.groups,
    name: cert.name,
    expiresAt: cert.exp * 1000,
    serial: cert.serial,
  }
}

export function identityCredentials(init: IdentityCredentialsInit): Credentials {
  const verified = init.verified ?? new VerifiedCerts<MemberCertificate>()
  return {
    certificate: () => init.identity().certificate,
    self: () => memberCertificate(init.identity().cert),
    verify: (bytes, peerId, now) => {
      const trustedOrgKeys = init.trustedOrgKeys()
      const crl = init.crl?.()
      let reason = 'invalid certificate'
      const ctx = { peerId: peerId.toString(), trust: trustText(trustedOrgKeys), crl: crlText(crl) }
      const cert = verified.get(bytes, ctx, now, () => {
        const r = verifyCertificate(bytes, { trustedOrgKeys, expectedPeerId: peerId, now, crl })
        if (!r.ok) {
          reason = r.reason
          return { ok: false }
        }
        // The full check passes for any time in this window (same bytes, keys and list).
        const from = (r.cert.nbf - CLOCK_SKEW_SECONDS) * 1000
        const until = (r.cert.exp + CLOCK_SKEW_SECONDS) * 1000
        return { ok: true, value: memberCertificate(r.cert), from, until }
      })
      return cert === undefined ? { ok: false, reason } : { ok: true, cert }
    },
  }
}

function trustText(keys: readonly TrustedOrgKey[]): string {
  return keys.map((k) => `${k.org}:${Buffer.from(k.publicKey).toString('hex')}`).join(',')
}

/** Digest of each revocation list object, computed once (lists can be up to 256 KiB). */
const crlDigests = new WeakMap<RevocationList, string>()

function crlText(crl: RevocationList | undefined): string {
  if (crl === undefined) return ''
  let digest = crlDigests.get(crl)
  if (digest === undefined) {
    digest = createHash('sha256').update(crl.bytes).digest('hex')
    crlDigests.set(crl, digest)
  }
  return digest
}
