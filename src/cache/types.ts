/**
 * The local cache store contract. Keys are lowercase hex SHA-256 strings computed by the
 * compile pipeline (src/compile/). The store knows nothing about compilers.
 *
 * Guarantees the store gives:
 * - content-addressed entries written atomically (temp file + rename), so many concurrent
 *   writers and a daemon killed mid-write never leave a half entry visible;
 * - every entry carries a checksum verified on read: a corrupt entry is deleted, counted, and
 *   reported as a miss (`CacheCorruptError` is never thrown at the caller of `getResult`);
 * - total size bounded by `maxBytes` with least-recently-used eviction; survives restarts
 *   (the directory is the truth, the in-memory index is rebuilt on start).
 *
 * Implementations: `createDiskCacheStore` (src/cache/disk-store.ts) for the daemon,
 * `createMemoryCacheStore` (src/cache/memory-store.ts) for tests. Both pass the compliance
 * suite in test/unit/cache/store-compliance.ts.
 */

export interface CachedFile {
  /** 'object', 'depfile', 'split-dwarf', 'coverage-notes', … (the pipeline's names). */
  role: string
  data: Uint8Array
}

export interface CachedResult {
  files: CachedFile[]
  stdout: Uint8Array
  stderr: Uint8Array
  exitCode: number
  /** Wall time the real compile took, for `time_saved_ms`. */
  compileMs: number
  /** Free-form JSON metadata the pipeline needs on replay (e.g. the cwd it was compiled in). */
  meta: Record<string, unknown>
}

export interface CacheStoreStats {
  /** Bytes on disk of every entry (results and manifests) the index knows. */
  bytes: number
  /** Result entries. */
  entries: number
  maxBytes: number
  /** Corrupt entries dropped since this store started. */
  corruptEntries: number
  /** Manifest entries (direct mode). */
  manifests?: number
  /** Entries removed by LRU eviction since this store started. */
  evictions?: number
  /** False while the start-up scan of an existing cache is still counting (sizes are partial). */
  indexed?: boolean
}

export interface StoreCallOptions {
  signal?: AbortSignal
}

/**
 * Read-modify-write of one manifest: gets the current bytes (undefined when absent or corrupt)
 * and returns the new bytes, or undefined to leave the entry as it is.
 */
export type ManifestUpdate = (current: Uint8Array | undefined) => Uint8Array | undefined

export interface CacheStore {
  /** Starts the store (creates dirs, rebuilds the size index in the background). */
  start(options?: StoreCallOptions): Promise<void>
  /** Flushes recorded uses (for LRU across restarts) and waits for writes in flight. */
  stop(options?: StoreCallOptions): Promise<void>
  /** A result entry, or undefined on miss (or after dropping a corrupt entry). Synchronous: hot path. */
  getResult(key: string): CachedResult | undefined
  /** Stores (or, for recache, overwrites) a result. Throws InvalidCacheKeyError on a bad key. */
  putResult(key: string, result: CachedResult, options?: StoreCallOptions): Promise<void>
  /** Direct-mode manifests: small blobs. Synchronous like getResult, same corruption rules. */
  getManifest(key: string): Uint8Array | undefined
  putManifest(key: string, data: Uint8Array, options?: StoreCallOptions): Promise<void>
  /**
   * Read-modify-write of a manifest, serialized per key inside this store (two compiles of the
   * same source that read different headers both end up in the manifest). Across processes the
   * last writer wins, which is safe: a manifest is only a hint, every hit is verified.
   */
  updateManifest(key: string, update: ManifestUpdate, options?: StoreCallOptions): Promise<void>
  stats(): CacheStoreStats
  /** Removes every entry (`meshcc stats --zero` does not; `meshcc cache clear` does). */
  clear(options?: StoreCallOptions): Promise<void>
}
