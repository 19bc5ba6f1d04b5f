/**
 * Cache key hashing: a SHA-256 over typed, length-prefixed fields.
 *
 * Every field is written as `name`, length and value, so two different field sequences can never
 * produce the same byte stream (`-I` + `a b` vs `-Ia` + `b`). Keys are 64 lowercase hex digits,
 * the form the cache store accepts.
 *
 * @example
 * ```ts
 * const h = new KeyHasher('direct')
 * h.field('compiler', identity)
 * h.field('arg', '-O2')
 * const key = h.digest()
 * ```
 */
import { createHash, type Hash } from 'node:crypto'

/** Bump when the meaning of any key changes: old entries then simply stop matching. */
export const KEY_VERSION = 'meshcc-key-v2'

export class KeyHasher {
  readonly #hash: Hash

  constructor(purpose: string) {
    this.#hash = createHash('sha256')
    this.field('version', KEY_VERSION)
    this.field('purpose', purpose)
  }

  /** Adds one named field (string or bytes). */
  field(name: string, value: string | Uint8Array): this {
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value
    this.#hash.update(`${name}\0${bytes.byteLength}\0`)
    this.#hash.update(bytes)
    return this
  }

  /** Adds a list as a counted sequence of fields. */
  list(name: string, values: readonly string[]): this {
    this.field(name, String(values.length))
    for (const value of values) this.field(`${name}[]`, value)
    return this
  }

  digest(): string {
    return this.#hash.digest('hex')
  }
}

/** SHA-256 hex of bytes. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex')
}

/** A key derived from another key plus named parts (e.g. a checkout-specific result key). */
export function deriveKey(purpose: string, base: string, ...parts: string[]): string {
  const h = new KeyHasher(purpose).field('base', base)
  for (const part of parts) h.field('part', part)
  return h.digest()
}
