/**
 * The enrollment protocol `/meshcc/enroll/1.0.0`: how a machine holding an invitation gets its
 * certificate from the admin node that made it. It is the only meshcc protocol an outsider may
 * use (it has no certificate yet), so both messages are single, bounded, length-prefixed JSON
 * frames and the admin answers at most one request per connection.
 *
 * Request (joiner → admin, ≤ 8 KiB): `{ v: 1, invitation, proof, name }` with the invitation's
 * signed envelope and the proof `HMAC(secret, … || joinerPeerId)` in base64url; the secret never
 * crosses the wire and a captured proof is useless to any other peer id.
 * Reply (admin → joiner, ≤ 24 KiB): `{ v: 1, ok: true, certificate }` or
 * `{ v: 1, ok: false, reason }` (`malformed`, `wrong-org`, `bad-proof`, `expired`, `revoked`,
 * `used-up`, `not-admin`).
 */
import { fromBase64Url, toBase64Url } from '../identity/encoding.ts'
import { encodeJsonFrame, parseJsonFrame as parse } from './frame.ts'

export const ENROLL_PROTOCOL = '/meshcc/enroll/1.0.0'
export const MAX_ENROLL_REQUEST_BYTES = 8 * 1024
export const MAX_ENROLL_REPLY_BYTES = 24 * 1024
/** How long either side waits for the other's frame. */
export const ENROLL_TIMEOUT_MS = 5_000

export interface EnrollRequest {
  invitation: Uint8Array
  proof: Uint8Array
  /** Host label for the certificate. */
  name: string
}

export type EnrollReply = { ok: true; certificate: Uint8Array } | { ok: false; reason: string }

export function encodeEnrollRequest(r: EnrollRequest): Uint8Array {
  return encodeJsonFrame({
    v: 1,
    invitation: toBase64Url(r.invitation),
    proof: toBase64Url(r.proof),
    name: r.name,
  })
}

export function decodeEnrollRequest(bytes: Uint8Array): EnrollRequest | undefined {
  const o = parse(bytes)
  if (o === undefined || o['v'] !== 1 || typeof o['name'] !== 'string') return undefined
  const invitation =
    typeof o['invitation'] === 'string' ? fromBase64Url(o['invitation']) : undefined
  const proof = typeof o['proof'] === 'string' ? fromBase64Url(o['proof']) : undefined
  if (invitation === undefined || proof === undefined) return undefined
  return { invitation, proof, name: o['name'] }
}

export function encodeEnrollReply(r: EnrollReply): Uint8Array {
  return encodeJsonFrame(
    r.ok
      ? { v: 1, ok: true, certificate: toBase64Url(r.certificate) }
      : { v: 1, ok: false, reason: r.reason },
  )
}

export function decodeEnrollReply(bytes: Uint8Array): EnrollReply | undefined {
  const o = parse(bytes)
  if (o === undefined || o['v'] !== 1) return undefined
  if (o['ok'] === true && typeof o['certificate'] === 'string') {
    const certificate = fromBase64Url(o['certificate'])
    return certificate === undefined ? undefined : { ok: true, certificate }
  }
  if (o['ok'] === false && typeof o['reason'] === 'string') {
    return { ok: false, reason: o['reason'].slice(0, 64) }
  }
  return undefined
}
