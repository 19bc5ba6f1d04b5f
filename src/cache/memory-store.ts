/**
 * An in-memory `CacheStore` with the same observable behaviour as the disk store (LRU eviction
 * to 90 % of `maxBytes`, key validation, copies in and out), for the pipeline's unit tests and
 * as the reference the compliance suite is checked against. Nothing survives the process.
 *
 * @example
 * ```ts
 * const store = createMemoryCacheStore({ maxBytes: 1 << 20 })
 * await store.putResult(key, result)
 * ```
 */
import { assertCacheKey } from './cache-key.ts'
import { KeyedLock } from './keyed-lock.ts'
import { LruIndex } from './lru-index.ts'
import type {
  CachedResult,
  CacheStore,
  CacheStoreStats,
  ManifestUpdate,
  StoreCallOptions,
} from './types.ts'

export interface MemoryCacheStoreInit {
  maxBytes: number
  evictTo?: number
}

export function createMemoryCacheStore(init: MemoryCacheStoreInit): CacheStore {
  const index = new LruIndex()
  const data = new Map<string, CachedResult | Uint8Array>()
  const evictTo = init.evictTo ?? 0.9
  let evictions = 0
  const locks = new KeyedLock()

  const copy = (b: Uint8Array) => new Uint8Array(b)
  const cloneResult = (r: CachedResult): CachedResult => ({
    files: r.files.map((f) => ({ role: f.role, data: copy(f.data) })),
    stdout: copy(r.stdout),
    stderr: copy(r.stderr),
    exitCode: r.exitCode,
    compileMs: r.compileMs,
    meta: structuredClone(r.meta),
  })
  const sizeOf = (r: CachedResult) =>
    r.files.reduce((n, f) => n + f.data.byteLength, 0) +
    r.stdout.byteLength +
    r.stderr.byteLength +
    JSON.stringify(r.meta).length

  const put = (id: string, value: CachedResult | Uint8Array, size: number) => {
    if (size > init.maxBytes * evictTo) return
    data.set(id, value)
    index.set(id, size, Date.now())
    if (index.bytes <= init.maxBytes) return
    for (const [old] of index.oldest()) {
      if (index.bytes <= init.maxBytes * evictTo) break
      index.delete(old)
      data.delete(old)
      evictions++
    }
  }
  const get = (id: string) => {
    const v = data.get(id)
    const e = index.get(id)
    if (v !== undefined && e !== undefined) index.touch(id, e.size, Date.now())
    return v
  }

  return {
    async start() {},
    async stop() {},
    getResult(key) {
      assertCacheKey(key)
      const v = get(`r${key}`)
      return v === undefined || v instanceof Uint8Array ? undefined : cloneResult(v)
    },
    async putResult(key, result, options: StoreCallOptions = {}) {
      assertCacheKey(key)
      options.signal?.throwIfAborted()
      put(`r${key}`, cloneResult(result), sizeOf(result))
    },
    getManifest(key) {
      assertCacheKey(key)
      const v = get(`m${key}`)
      return v instanceof Uint8Array ? copy(v) : undefined
    },
    async putManifest(key, bytes, options: StoreCallOptions = {}) {
      assertCacheKey(key)
      options.signal?.throwIfAborted()
      put(`m${key}`, copy(bytes), bytes.byteLength)
    },
    async updateManifest(key, update: ManifestUpdate, options: StoreCallOptions = {}) {
      assertCacheKey(key)
      return locks.run(key, async () => {
        const next = update(this.getManifest(key))
        if (next !== undefined) await this.putManifest(key, next, options)
      })
    },
    stats(): CacheStoreStats {
      return {
        bytes: index.bytes,
        entries: index.count('r'),
        manifests: index.count('m'),
        maxBytes: init.maxBytes,
        corruptEntries: 0,
        evictions,
        indexed: true,
      }
    },
    async clear() {
      index.clear()
      data.clear()
    },
  }
}
