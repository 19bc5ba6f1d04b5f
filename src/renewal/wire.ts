/**
 * The renewal protocol `/meshcc/renew/1.0.0`: how a member whose certificate is two thirds
 * through its lifetime gets a fresh one from a member holding the organisation key, over the
 * mesh, before the old one lapses. Served only to admitted members (`requireMember`), one
 * bounded request per stream, in the framing of `/meshcc/enroll/1.0.0` (`src/enroll/frame.ts`).
 *
 * Request (member → key holder, ≤ 24 KiB): `{ v: 1, certificate }`: the member's current
 * certificate (base64url). The key holder renews it only for the peer Noise authenticated on
 * the connection, which must be the certificate's subject.
 * Reply (≤ 24 KiB): `{ v: 1, ok: true, certificate }` or `{ v: 1, ok: false, reason }`, the
 * reason one short lowercase word such as `expired`, `revoked`, `subject-mismatch`, `too-early`.
 */

import { encodeJsonFrame, parseJsonFrame } from '../enroll/frame.ts'
import { MAX_CERT_BYTES } from '../identity/certificate.ts'
import { fromBase64Url, toBase64Url } from '../identity/encoding.ts'
import type { CertificateFailure } from '../identity/verify-certificate.ts'

export const RENEW_PROTOCOL = '/meshcc/renew/1.0.0'
/** A certificate (≤ 16 KiB) in base64url with the JSON around it. */
export const MAX_RENEW_REQUEST_BYTES = 24 * 1024
export const MAX_RENEW_REPLY_BYTES = 24 * 1024
/** How long either side waits for the other's frame. */
export const RENEW_TIMEOUT_MS = 5_000

/** Why a key holder refused a renewal. */
export type RenewRefusal = CertificateFailure | 'too-early' | 'not-admin' | 'internal'

export interface RenewRequest {
  certificate: Uint8Array
}

/** A reason as received: known ones typed, anything else kept as a short label. */
export type RenewReply =
  | { ok: true; certificate: Uint8Array }
  | { ok: false; reason: RenewRefusal | (string & {}) }

const REASON_RE = /^[a-z][a-z-]{0,31}$/

function certificateField(value: unknown): Uint8Array | undefined {
  if (typeof value !== 'string') return undefined
  const bytes = fromBase64Url(value)
  return bytes !== undefined && bytes.length > 0 && bytes.length <= MAX_CERT_BYTES
    ? bytes
    : undefined
}

function onlyKeys(o: Record<string, unknown>, keys: readonly string[]): boolean {
  const have = Object.keys(o)
  return have.length === keys.length && have.every((k) => keys.includes(k))
}

export function encodeRenewRequest(r: RenewRequest): Uint8Array {
  return encodeJsonFrame({ v: 1, certificate: toBase64Url(r.certificate) })
}

/** The request in `bytes`, or undefined when it is not exactly `{ v: 1, certificate }`. */
export function decodeRenewRequest(bytes: Uint8Array): RenewRequest | undefined {
  if (bytes.length > MAX_RENEW_REQUEST_BYTES) return undefined
  const o = parseJsonFrame(bytes)
  if (o === undefined || o['v'] !== 1 || !onlyKeys(o, ['v', 'certificate'])) return undefined
  const certificate = certificateField(o['certificate'])
  return certificate === undefined ? undefined : { certificate }
}

export function encodeRenewReply(r: RenewReply): Uint8Array {
  return encodeJsonFrame(
    r.ok
      ? { v: 1, ok: true, certificate: toBase64Url(r.certificate) }
      : { v: 1, ok: false, reason: r.reason },
  )
}

/** The reply in `bytes`, or undefined when it is malformed. */
export function decodeRenewReply(bytes: Uint8Array): RenewReply | undefined {
  if (bytes.length > MAX_RENEW_REPLY_BYTES) return undefined
  const o = parseJsonFrame(bytes)
  if (o === undefined || o['v'] !== 1) return undefined
  if (o['ok'] === true && onlyKeys(o, ['v', 'ok', 'certificate'])) {
    const certificate = certificateField(o['certificate'])
    return certificate === undefined ? undefined : { ok: true, certificate }
  }
  if (o['ok'] === false && onlyKeys(o, ['v', 'ok', 'reason'])) {
    const reason = o['reason']
    return typeof reason === 'string' && REASON_RE.test(reason) ? { ok: false, reason } : undefined
  }
  return undefined
}
