/**
 * Ed25519 signing with domain separation, for organisation keys.
 *
 * Every signed object of meshcc (certificate, revocation list, invitation) is signed over
 * `domain || tbs`, where the domain string names the object kind and version, so a signature
 * made for one kind can never be replayed as another. Verification uses the strict RFC 8032
 * rules (`zip215: false`): non-canonical encodings are refused, which keeps signatures
 * non-malleable.
 *
 * @example
 * ```ts
 * const sk = generateSecretKey()
 * const sig = signWithDomain(sk, DOMAIN_CERT, tbs)
 * verifyWithDomain(publicKeyOf(sk), DOMAIN_CERT, tbs, sig) // true
 * ```
 */
import { createHash, randomBytes } from 'node:crypto'
import * as ed from '@noble/ed25519'

// @noble/ed25519 v3 needs a synchronous SHA-512; node:crypto's is fast and always present.
ed.hashes.sha512 = (message: Uint8Array): Uint8Array<ArrayBuffer> =>
  new Uint8Array(createHash('sha512').update(message).digest())

export const DOMAIN_CERT = 'meshcc-cert-v1\0'
export const DOMAIN_CRL = 'meshcc-crl-v1\0'
export const DOMAIN_INVITE = 'meshcc-invite-v1\0'

export const SECRET_KEY_LENGTH = 32
export const PUBLIC_KEY_LENGTH = 32
export const SIGNATURE_LENGTH = 64

/** A fresh 32-byte Ed25519 secret key (seed) from the OS CSPRNG. */
export function generateSecretKey(): Uint8Array {
  return new Uint8Array(randomBytes(SECRET_KEY_LENGTH))
}

/** The 32-byte public key of a secret key. */
export function publicKeyOf(secretKey: Uint8Array): Uint8Array {
  return ed.getPublicKey(secretKey)
}

function withDomain(domain: string, tbs: Uint8Array): Uint8Array {
  const prefix = new TextEncoder().encode(domain)
  const message = new Uint8Array(prefix.length + tbs.length)
  message.set(prefix, 0)
  message.set(tbs, prefix.length)
  return message
}

/** Signs `domain || tbs`. */
export function signWithDomain(secretKey: Uint8Array, domain: string, tbs: Uint8Array): Uint8Array {
  return ed.sign(withDomain(domain, tbs), secretKey)
}

/** Checks a signature over `domain || tbs`; false (never throws) on any malformed input. */
export function verifyWithDomain(
  publicKey: Uint8Array,
  domain: string,
  tbs: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (publicKey.length !== PUBLIC_KEY_LENGTH || signature.length !== SIGNATURE_LENGTH) return false
  try {
    return ed.verify(signature, withDomain(domain, tbs), publicKey, { zip215: false })
  } catch {
    return false
  }
}

/** SHA-256, used for issuer fingerprints and certificate fingerprints. */
export function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest())
}
