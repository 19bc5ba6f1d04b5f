/**
 * Cache key validation. A key becomes a file name under the cache directory, so anything but
 * exactly 64 lowercase hex digits is refused: no `..`, no `/`, no NUL, no case aliasing.
 *
 * @example
 * ```ts
 * assertCacheKey(key) // throws InvalidCacheKeyError on anything that is not a SHA-256 hex digest
 * ```
 */
import { InvalidCacheKeyError } from '../errors.ts'

const KEY_RE = /^[0-9a-f]{64}$/

export function isCacheKey(key: unknown): key is string {
  return typeof key === 'string' && KEY_RE.test(key)
}

export function assertCacheKey(key: unknown): asserts key is string {
  if (!isCacheKey(key)) {
    const shown = typeof key === 'string' ? JSON.stringify(key.slice(0, 80)) : typeof key
    throw new InvalidCacheKeyError(`invalid cache key ${shown}`)
  }
}
