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
 */
import type { Certificate } from '../identity/certificate.ts'
import type { RevocationList } from '../identity/crl.ts'
import type { TrustedOrgKey } from '../identity/types.ts'
import { verifyCertificate } from '../identity/verify-certificate.ts'
import type { Credentials, MemberCertificate } from './types.ts'

export interface IdentityCredentialsInit {
  /** This node's identity; a function so a renewed certificate is picked up without restart. */
  identity: () => { certificate: Uint8Array; cert: Certificate }
  trustedOrgKeys: () => readonly TrustedOrgKey[]
  crl?: () => RevocationList | undefined
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
  return {
    certificate: () => init.identity().certificate,
    self: () => memberCertificate(init.identity().cert),
    verify: (bytes, peerId, now) => {
      const r = verifyCertificate(bytes, {
        trustedOrgKeys: init.trustedOrgKeys(),
        expectedPeerId: peerId,
        now,
        crl: init.crl?.(),
      })
      return r.ok ? { ok: true, cert: memberCertificate(r.cert) } : { ok: false, reason: r.reason }
    },
  }
}
