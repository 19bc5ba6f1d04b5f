/**
 * Byte encodings shared by the identity objects: base64url, hex, constant-time comparison and
 * canonical JSON.
 *
 * The signed parts (TBS, "to be signed") of certificates, revocation lists and invitations are
 * canonical JSON: sorted keys, no whitespace, integers only. Decoders accept a TBS only if
 * re-encoding the parsed value gives back exactly the received bytes, so every object has one
 * encoding (no duplicate keys, no alternative spellings). Signatures are still checked over the
 * raw bytes as received, never over a re-encoding.
 */
import { timingSafeEqual } from 'node:crypto'

export type CanonicalValue =
  | string
  | number
  | boolean
  | readonly CanonicalValue[]
  | { readonly [key: string]: CanonicalValue | undefined }

function canonical(value: CanonicalValue): string {
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value)
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new RangeError('canonical JSON holds integers only')
    return String(value)
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonical(v as CanonicalValue)).join(',')}]`
  const object = value as { readonly [key: string]: CanonicalValue | undefined }
  const keys = Object.keys(object)
    .filter((k) => object[k] !== undefined)
    .sort()
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(object[k] as CanonicalValue)}`).join(',')}}`
}

/** Deterministic UTF-8 bytes of a value (keys sorted, undefined members left out). */
export function canonicalJson(value: CanonicalValue): Uint8Array {
  return new TextEncoder().encode(canonical(value))
}

/**
 * Parses canonical JSON bytes into a plain object, or returns undefined if the bytes are not
 * valid UTF-8, not a JSON object, or not in canonical form.
 */
export function parseCanonicalObject(bytes: Uint8Array): Record<string, unknown> | undefined {
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  let again: Uint8Array
  try {
    again = canonicalJson(value as CanonicalValue)
  } catch {
    return undefined
  }
  return bytesEqual(again, bytes) ? (value as Record<string, unknown>) : undefined
}

export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
}

/** Strict base64url (no padding, canonical): undefined for anything else. */
export function fromBase64Url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined
  const bytes = new Uint8Array(Buffer.from(text, 'base64url'))
  return toBase64Url(bytes) === text ? bytes : undefined
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/** Lowercase hex of exactly `length` bytes, or undefined. */
export function fromHex(text: string, length: number): Uint8Array | undefined {
  if (text.length !== length * 2 || !/^[0-9a-f]*$/.test(text)) return undefined
  return new Uint8Array(Buffer.from(text, 'hex'))
}

/** Constant-time equality of two byte strings (length leaks, content does not). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}
