/**
 * The daemon's local cache: content-addressed entries under one directory, bounded in size with
 * least-recently-used eviction.
 *
 * Layout: `<dir>/results/<k0k1>/<key>` and `<dir>/manifests/<k0k1>/<key>` (key = 64 lowercase hex
 * digits, validated, so a key can never name a path outside the store), each file in the format
 * of entry-format.ts (checksummed, zstd-compressed sections).
 *
 * - Reads are synchronous: on the daemon's hot path one `readFileSync` of a small file beats a
 *   round trip through the libuv pool. A corrupt entry is deleted, reported through `onCorrupt`,
 *   and read as a miss.
 * - Writes are atomic (temp file in the same directory + rename), so any number of writers in
 *   this or other processes can race on the same key; the loser's rename simply lands first.
 * - The LRU index lives in memory and is rebuilt from the directory by a background scan on
 *   start; hits are recorded in memory and written back as mtimes in batches, so the LRU order
 *   survives a restart without a write per hit.
 * - Eviction starts when the total passes `maxBytes` and brings it down to 90 %, oldest first,
 *   skipping any key this store is writing at that moment.
 *
 * @example
 * ```ts
 * const store = createDiskCacheStore({ dir: paths.cacheDir, maxBytes: 5 * 2 ** 30, log })
 * await store.start()
 * const hit = store.getResult(key)
 * if (hit === undefined) await store.putResult(key, result)
 * ```
 */
import { randomBytes } from 'node:crypto'
import { readFileSync, rmSync } from 'node:fs'
import { mkdir, rename, rm, utimes } from 'node:fs/promises'
import { join } from 'node:path'
import { setImmediate as yieldLoop } from 'node:timers/promises'
import type { Logger } from '../daemon/logger.ts'
import { writeFileAtomic } from './atomic-write.ts'
import { assertCacheKey } from './cache-key.ts'
import { entryPath, KIND_DIRS, type Kind, writeCacheDirTag } from './disk-layout.ts'
import { removeTrash, scanKind, TRASH_PREFIX } from './disk-scan.ts'
import { type DecodedEntry, decodeEntry, encodeManifest, encodeResult } from './entry-format.ts'
import { KeyedLock } from './keyed-lock.ts'
import { LruIndex } from './lru-index.ts'
import type {
  CachedResult,
  CacheStore,
  CacheStoreStats,
  ManifestUpdate,
  StoreCallOptions,
} from './types.ts'

export interface DiskCacheStoreInit {
  dir: string
  maxBytes: number
  log?: Logger
  /** Called once per corrupt entry dropped (the daemon counts it in `meshcc stats`). */
  onCorrupt?: (key: string, why: string) => void
  /** Eviction brings the total down to this fraction of `maxBytes`. Default 0.9. */
  evictTo?: number
  /** How often recorded hits are written back as mtimes. Default 5 s. */
  touchFlushMs?: number
  /** Temp files older than this are a dead writer's and removed by the scan. Default 60 s. */
  staleTempMs?: number
  /** zstd level for new entries. Default 3. */
  compressionLevel?: number
  /** Compress entries (default true; false trades ~6× disk for faster hits on big objects). */
  compress?: boolean
  /** Clock, for tests. */
  now?: () => number
}

export interface DiskCacheStore extends CacheStore {
  /** Resolves once the start-up scan has been merged into the index (sizes are complete). */
  indexed(): Promise<void>
  /** Writes recorded uses back to the entries' mtimes now. */
  flushUses(): Promise<void>
  /** Evicts now if the total is above `maxBytes` (normally scheduled after each write). */
  evict(): Promise<void>
}

export function createDiskCacheStore(init: DiskCacheStoreInit): DiskCacheStore {
  return new DiskStore(init)
}

class DiskStore implements DiskCacheStore {
  readonly [Symbol.toStringTag] = 'meshcc:disk-cache-store'
  readonly #dir: string
  readonly #maxBytes: number
  readonly #evictTo: number
  readonly #touchFlushMs: number
  readonly #staleTempMs: number
  readonly #encode: { level: number; compress: boolean }
  readonly #now: () => number
  readonly #log: Logger | undefined
  readonly #onCorrupt: ((key: string, why: string) => void) | undefined

  readonly #index = new LruIndex()
  /** Ids with a write in flight (count, as several puts of one key may overlap). */
  readonly #writing = new Map<string, number>()
  /** Ids used since the last flush of mtimes. */
  readonly #touched = new Set<string>()
  /** Ids removed while the scan runs, so the scan's stale view does not bring them back. */
  readonly #removedDuringScan = new Set<string>()
  readonly #inflight = new Set<Promise<void>>()
  readonly #manifestLocks = new KeyedLock()
  #scanned = false
  #scan: Promise<void> = Promise.resolve()
  #scanAbort = new AbortController()
  #epoch = 0
  #evicting: Promise<void> | undefined
  #clearing: Promise<void> | undefined
  #timer: NodeJS.Timeout | undefined
  #corrupt = 0
  #evictions = 0

  constructor(init: DiskCacheStoreInit) {
    if (!(init.maxBytes > 0)) throw new RangeError('maxBytes must be a positive number')
    this.#dir = init.dir
    this.#maxBytes = init.maxBytes
    this.#evictTo = init.evictTo ?? 0.9
    this.#touchFlushMs = init.touchFlushMs ?? 5000
    this.#staleTempMs = init.staleTempMs ?? 60_000
    this.#encode = { level: init.compressionLevel ?? 3, compress: init.compress ?? true }
    this.#now = init.now ?? Date.now
    this.#log = init.log
    this.#onCorrupt = init.onCorrupt
  }

  async start(_options: StoreCallOptions = {}): Promise<void> {
    await mkdir(join(this.#dir, KIND_DIRS.r), { recursive: true })
    await mkdir(join(this.#dir, KIND_DIRS.m), { recursive: true })
    writeCacheDirTag(this.#dir)
    this.#scanAbort = new AbortController()
    this.#scanned = false
    this.#scan = this.#runScan(this.#scanAbort.signal, this.#epoch)
    this.#timer = setInterval(() => {
      this.flushUses().catch((err) => this.#log?.warn('cache use flush failed', { err }))
    }, this.#touchFlushMs)
    this.#timer.unref()
  }

  async stop(_options: StoreCallOptions = {}): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
    this.#scanAbort.abort()
    await this.#scan
    await Promise.allSettled([...this.#inflight])
    await this.#evicting?.catch(() => {})
    await this.flushUses()
  }

  indexed(): Promise<void> {
    return this.#scan
  }

  getResult(key: string): CachedResult | undefined {
    const d = this.#read('r', key)
    return d?.ok && d.kind === 'result' ? d.result : undefined
  }

  getManifest(key: string): Uint8Array | undefined {
    const d = this.#read('m', key)
    return d?.ok && d.kind === 'manifest' ? d.data : undefined
  }

  // async: a bad key rejects the promise rather than throwing at the call site.
  async putResult(
    key: string,
    result: CachedResult,
    options: StoreCallOptions = {},
  ): Promise<void> {
    assertCacheKey(key)
    return this.#put('r', key, () => encodeResult(result, this.#encode), options)
  }

  async putManifest(key: string, data: Uint8Array, options: StoreCallOptions = {}): Promise<void> {
    assertCacheKey(key)
    return this.#put('m', key, () => encodeManifest(data, this.#encode), options)
  }

  async updateManifest(
    key: string,
    update: ManifestUpdate,
    options: StoreCallOptions = {},
  ): Promise<void> {
    assertCacheKey(key)
    return this.#manifestLocks.run(key, async () => {
      options.signal?.throwIfAborted()
      const next = update(this.getManifest(key))
      if (next !== undefined) await this.putManifest(key, next, options)
    })
  }

  stats(): CacheStoreStats {
    return {
      bytes: this.#index.bytes,
      entries: this.#index.count('r'),
      manifests: this.#index.count('m'),
      maxBytes: this.#maxBytes,
      corruptEntries: this.#corrupt,
      evictions: this.#evictions,
      indexed: this.#scanned,
    }
  }

  clear(_options: StoreCallOptions = {}): Promise<void> {
    const prev = this.#clearing
    const run = (async () => {
      await prev
      this.#epoch++
      this.#scanAbort.abort()
      await this.#scan
      await Promise.allSettled([...this.#inflight])
      await this.#evicting
      for (const kind of ['r', 'm'] as const) {
        const top = join(this.#dir, KIND_DIRS[kind])
        const trash = join(this.#dir, `${TRASH_PREFIX}${randomBytes(6).toString('hex')}`)
        try {
          // Rename first: the live directory is empty at once, the slow delete happens aside.
          await rename(top, trash)
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
        }
        await mkdir(top, { recursive: true })
        await rm(trash, { recursive: true, force: true })
      }
      this.#index.clear()
      this.#touched.clear()
      this.#removedDuringScan.clear()
      this.#scanned = true
      this.#scan = Promise.resolve()
    })()
    const guarded: Promise<void> = run.finally(() => {
      if (this.#clearing === guarded) this.#clearing = undefined
    })
    this.#clearing = guarded
    return guarded
  }

  async flushUses(): Promise<void> {
    const ids = [...this.#touched]
    this.#touched.clear()
    for (let i = 0; i < ids.length; i += 32) {
      await Promise.all(
        ids.slice(i, i + 32).map(async (id) => {
          const e = this.#index.get(id)
          if (e === undefined) return
          const t = e.lastUse / 1000
          await utimes(this.#path(id), t, t).catch(() => {})
        }),
      )
    }
  }

  evict(): Promise<void> {
    if (this.#evicting !== undefined) return this.#evicting
    // Before the scan is merged the index does not know the older entries: evicting now would
    // remove recent entries instead of old ones. The merge schedules an eviction.
    if (!this.#scanned || this.#index.bytes <= this.#maxBytes) return Promise.resolve()
    const run = this.#evictNow().finally(() => {
      this.#evicting = undefined
    })
    this.#evicting = run
    return run
  }

  async #evictNow(): Promise<void> {
    const target = Math.floor(this.#maxBytes * this.#evictTo)
    let removed = 0
    for (const [id] of this.#index.oldest()) {
      if (this.#index.bytes <= target) break
      // A key being written is never evicted: its rename may land just after our unlink.
      if (this.#writing.has(id)) continue
      this.#forget(id)
      try {
        // Synchronous on purpose: no write of this id can start its rename in between.
        rmSync(this.#path(id), { force: true })
      } catch (err) {
        this.#log?.warn('cache eviction could not remove an entry', { id, err })
      }
      this.#evictions++
      if (++removed % 64 === 0) await yieldLoop()
    }
    if (removed > 0) {
      this.#log?.debug('cache evicted', { removed, bytes: this.#index.bytes, target })
    }
  }

  #read(kind: Kind, key: string): DecodedEntry | undefined {
    assertCacheKey(key)
    const id = kind + key
    const path = this.#path(id)
    let buf: Buffer
    try {
      buf = readFileSync(path)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOENT' || code === 'ENOTDIR') this.#forget(id)
      else this.#log?.warn('cache entry unreadable', { path, err })
      return undefined
    }
    const d = decodeEntry(buf)
    const expected = kind === 'r' ? 'result' : 'manifest'
    if (!d.ok || d.kind !== expected) {
      const why = d.ok ? `entry is a ${d.kind}, not a ${expected}` : d.why
      this.#dropCorrupt(id, key, path, why)
      return undefined
    }
    this.#index.touch(id, buf.byteLength, this.#now())
    this.#touched.add(id)
    return d
  }

  #dropCorrupt(id: string, key: string, path: string, why: string): void {
    this.#corrupt++
    this.#forget(id)
    try {
      rmSync(path, { force: true })
    } catch (err) {
      this.#log?.warn('could not remove a corrupt cache entry', { path, err })
    }
    this.#log?.warn('corrupt cache entry dropped', { key, kind: id[0], why })
    try {
      this.#onCorrupt?.(key, why)
    } catch (err) {
      this.#log?.warn('onCorrupt callback threw', { err })
    }
  }

  /** Removes an id from the index (and keeps the running scan from re-adding it). */
  #forget(id: string): void {
    this.#index.delete(id)
    this.#touched.delete(id)
    if (!this.#scanned) this.#removedDuringScan.add(id)
  }

  async #put(
    kind: Kind,
    key: string,
    encode: () => Promise<Buffer>,
    options: StoreCallOptions,
  ): Promise<void> {
    while (this.#clearing !== undefined) await this.#clearing
    // Registered synchronously after the check above, so clear() always sees it.
    const job = this.#write(kind + key, encode, options)
    this.#inflight.add(job)
    try {
      await job
    } finally {
      this.#inflight.delete(job)
    }
  }

  async #write(id: string, encode: () => Promise<Buffer>, o: StoreCallOptions): Promise<void> {
    o.signal?.throwIfAborted()
    this.#writing.set(id, (this.#writing.get(id) ?? 0) + 1)
    try {
      const bytes = await encode()
      if (bytes.byteLength > this.#maxBytes * this.#evictTo) {
        this.#log?.info('cache entry larger than the cache, not stored', { id, size: bytes.length })
        return
      }
      // An entry being replaced goes first (a reader meanwhile misses): see `unlinkFirst`.
      await writeFileAtomic(this.#path(id), bytes, {
        ...(o.signal ? { signal: o.signal } : {}),
        unlinkFirst: this.#index.has(id),
      })
      this.#index.set(id, bytes.byteLength, this.#now())
      this.#removedDuringScan.delete(id)
    } finally {
      const n = (this.#writing.get(id) ?? 1) - 1
      if (n > 0) this.#writing.set(id, n)
      else this.#writing.delete(id)
    }
    if (this.#index.bytes > this.#maxBytes) {
      this.evict().catch((err) => this.#log?.warn('cache eviction failed', { err }))
    }
  }

  async #runScan(signal: AbortSignal, epoch: number): Promise<void> {
    const started = this.#now()
    try {
      await removeTrash(this.#dir)
      const o = { signal, staleMs: this.#staleTempMs, now: started, ...this.#logOpt() }
      const results = await scanKind(join(this.#dir, KIND_DIRS.r), 'r', o)
      const manifests = await scanKind(join(this.#dir, KIND_DIRS.m), 'm', o)
      if (epoch !== this.#epoch || signal.aborted) return
      this.#index.mergeScanned([...results.entries, ...manifests.entries], this.#removedDuringScan)
      this.#removedDuringScan.clear()
      this.#scanned = true
      this.#log?.info('cache index rebuilt', {
        entries: this.#index.size,
        bytes: this.#index.bytes,
        removedTemps: results.removedTemps + manifests.removedTemps,
        ms: this.#now() - started,
      })
      await this.evict()
    } catch (err) {
      if (signal.aborted || epoch !== this.#epoch) return
      // The cache still works with a partial index; it just cannot evict what it never saw.
      this.#log?.error('cache scan failed', { err })
      this.#removedDuringScan.clear()
      this.#scanned = true
    }
  }

  #logOpt(): { log?: Logger } {
    return this.#log === undefined ? {} : { log: this.#log }
  }

  #path(id: string): string {
    return entryPath(this.#dir, id)
  }
}
