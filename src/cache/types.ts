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
  bytes: number
  entries: number
  maxBytes: number
  corruptEntries: number
}

export interface CacheStore {
  /** Starts the store (creates dirs, rebuilds the size index in the background). */
  start(): Promise<void>
  stop(): Promise<void>
  /** A result entry, or undefined on miss (or after dropping a corrupt entry). Synchronous: hot path. */
  getResult(key: string): CachedResult | undefined
  putResult(key: string, result: CachedResult): Promise<void>
  /** Direct-mode manifests: small blobs updated by read-modify-write under the store's lock. */
  getManifest(key: string): Uint8Array | undefined
  putManifest(key: string, data: Uint8Array): Promise<void>
  stats(): CacheStoreStats
  /** Removes every entry (`meshcc stats --zero` does not; `meshcc cache clear` does). */
  clear(): Promise<void>
}
