/**
 * Trust anchor lookup: certificates and lists name their issuer by the sha256 of its public key.
 */
import { sha256 } from './ed25519.ts'
import { bytesEqual } from './encoding.ts'
import type { TrustedOrgKey } from './types.ts'

/** The trusted key whose fingerprint is `issuer`, if any. */
export function findTrustedKey(
  trustedOrgKeys: readonly TrustedOrgKey[],
  issuer: Uint8Array,
): TrustedOrgKey | undefined {
  return trustedOrgKeys.find((key) => bytesEqual(sha256(key.publicKey), issuer))
}
