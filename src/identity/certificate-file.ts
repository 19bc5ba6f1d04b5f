/**
 * Certificate files as `meshcc org issue` writes them and `meshcc join --cert` reads them:
 * either the raw signed envelope (`--out FILE`) or its base64url text on one line (what
 * `meshcc org issue` prints, easy to paste into a terminal or a provisioning script).
 *
 * @example
 * ```ts
 * const bytes = parseCertificateFile(await readFile(file)) // undefined: neither form
 * ```
 */

import { MAX_CERT_BYTES } from './certificate.ts'
import { fromBase64Url, toBase64Url } from './encoding.ts'
import { ENVELOPE_VERSION, KIND_CERT } from './envelope.ts'

/** The certificate's base64url text (one line, no padding). */
export function formatCertificateText(certificate: Uint8Array): string {
  return toBase64Url(certificate)
}

/**
 * The encoded certificate in a file's contents: the raw envelope as is, or base64url text
 * (surrounding whitespace ignored) decoded. Undefined when it is neither; the result still has
 * to be verified (`verifyCertificate`).
 */
export function parseCertificateFile(contents: Uint8Array): Uint8Array | undefined {
  if (contents.length > MAX_CERT_BYTES * 2) return undefined
  if (contents[0] === ENVELOPE_VERSION && contents[1] === KIND_CERT) return contents
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(contents).trim()
  } catch {
    return undefined
  }
  const bytes = /^[A-Za-z0-9_-]+$/.test(text) ? fromBase64Url(text) : undefined
  return bytes !== undefined && bytes[0] === ENVELOPE_VERSION && bytes[1] === KIND_CERT
    ? bytes
    : undefined
}
