/**
 * The binary envelope around every signed identity object: `{ v: 1, kind, tbs, sig }`.
 *
 * Layout: `v` (1 byte, = 1) · `kind` (1 byte) · `tbs length` (uint32 big-endian) · `tbs` ·
 * `sig` (64 bytes). The total length must match exactly, and decoders take a size limit so a
 * peer can never make us allocate or parse more than the limit. The kind byte is a second
 * guard (after the signature domain) against passing one object type off as another.
 */
import { SIGNATURE_LENGTH } from './ed25519.ts'

export const ENVELOPE_VERSION = 1
export const KIND_CERT = 1
export const KIND_CRL = 2
export const KIND_INVITE = 3

const HEADER_LENGTH = 6

export interface Envelope {
  kind: number
  tbs: Uint8Array
  sig: Uint8Array
}

export function encodeEnvelope({ kind, tbs, sig }: Envelope): Uint8Array {
  if (sig.length !== SIGNATURE_LENGTH) throw new RangeError('signature must be 64 bytes')
  const out = new Uint8Array(HEADER_LENGTH + tbs.length + SIGNATURE_LENGTH)
  const view = new DataView(out.buffer)
  out[0] = ENVELOPE_VERSION
  out[1] = kind
  view.setUint32(2, tbs.length)
  out.set(tbs, HEADER_LENGTH)
  out.set(sig, HEADER_LENGTH + tbs.length)
  return out
}

/**
 * Splits an envelope of the expected kind, or returns undefined when the bytes are oversize,
 * truncated, of another version or kind, or carry trailing data. The returned `tbs`/`sig` are
 * copies, so later changes to `bytes` cannot alter a verified object.
 */
export function decodeEnvelope(
  bytes: Uint8Array,
  kind: number,
  maxBytes: number,
): Envelope | undefined {
  if (bytes.length > maxBytes || bytes.length < HEADER_LENGTH + SIGNATURE_LENGTH) return undefined
  if (bytes[0] !== ENVELOPE_VERSION || bytes[1] !== kind) return undefined
  const tbsLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(2)
  if (HEADER_LENGTH + tbsLength + SIGNATURE_LENGTH !== bytes.length) return undefined
  return {
    kind,
    tbs: bytes.slice(HEADER_LENGTH, HEADER_LENGTH + tbsLength),
    sig: bytes.slice(HEADER_LENGTH + tbsLength),
  }
}
