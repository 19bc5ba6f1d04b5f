/**
 * The libp2p datastore of a daemon: `datastore-fs` under `$MESHCC_HOME/libp2p`, with the records
 * kept in memory and written behind.
 *
 * Why: libp2p's peer store reads, decodes and rewrites a peer's record on every stream it opens
 * or accepts (`peerStore.merge(remotePeer, { protocols })`, which also stamps `updated`), so every
 * remote job cost each daemon a few file reads, temp-file writes and renames, all for a record
 * that only its timestamp changed in. Here a read is answered from memory once the record was
 * read or written, and writes are coalesced per key and flushed every `flushMs` (2 s) and on
 * `close()`. Queries (listing the remembered members, the DHT's records) flush first and then
 * read the files, so they see every write. A crash loses at most the last `flushMs` of updates
 * to what is a cache of peers' addresses and tags anyway.
 */
import type { AbortOptions } from '@libp2p/interface'
import { FsDatastore } from 'datastore-fs'
import type { Key, KeyQuery, Pair, Query } from 'interface-datastore'

export interface CachedFsDatastoreInit {
  /** Delay between a write and its flush to disk. Default 2 s. */
  flushMs?: number
  /** Records kept in memory besides the unwritten ones; the cache is emptied past it. */
  maxCached?: number
}

export class CachedFsDatastore extends FsDatastore {
  readonly #flushMs: number
  readonly #maxCached: number
  /** Records as on disk (read or written). */
  readonly #clean = new Map<string, Uint8Array>()
  /** Records written here and not yet on disk, with their keys. */
  readonly #dirty = new Map<string, { key: Key; value: Uint8Array }>()
  #timer: NodeJS.Timeout | undefined
  /** The flush under way (flushes run one at a time, in order). */
  #flushing: Promise<void> = Promise.resolve()

  constructor(location: string, init: CachedFsDatastoreInit = {}) {
    super(location)
    this.#flushMs = init.flushMs ?? 2_000
    this.#maxCached = init.maxCached ?? 1_000
  }

  /** Records not yet on disk. */
  get pending(): number {
    return this.#dirty.size
  }

  override async put(key: Key, val: Uint8Array, _options?: AbortOptions): Promise<Key> {
    const k = key.toString()
    this.#clean.delete(k)
    this.#dirty.set(k, { key, value: val })
    this.#flushSoon()
    return key
  }

  override async get(key: Key, options?: AbortOptions): Promise<Uint8Array> {
    const k = key.toString()
    const cached = this.#dirty.get(k)?.value ?? this.#clean.get(k)
    if (cached !== undefined) return cached
    const value = await super.get(key, options)
    // A write that raced the read wins.
    if (!this.#dirty.has(k)) this.#remember(k, value)
    return value
  }

  override async has(key: Key, options?: AbortOptions): Promise<boolean> {
    const k = key.toString()
    if (this.#dirty.has(k) || this.#clean.has(k)) return true
    return super.has(key, options)
  }

  override async delete(key: Key, options?: AbortOptions): Promise<void> {
    const k = key.toString()
    this.#dirty.delete(k)
    this.#clean.delete(k)
    // A flush writing this key right now must land before the delete, not after it.
    await this.#flushing
    await super.delete(key, options)
  }

  override async *_all(q: Query, options?: AbortOptions): AsyncGenerator<Pair> {
    await this.flush()
    yield* super._all(q, options)
  }

  override async *_allKeys(q: KeyQuery, options?: AbortOptions): AsyncGenerator<Key> {
    await this.flush()
    yield* super._allKeys(q, options)
  }

  /** Writes every pending record now. */
  flush(): Promise<void> {
    clearTimeout(this.#timer)
    this.#timer = undefined
    const run = this.#flushing.then(() => this.#write())
    this.#flushing = run.catch(() => {})
    return run
  }

  override async close(): Promise<void> {
    await this.flush()
    await super.close()
  }

  async #write(): Promise<void> {
    let failed: unknown
    for (const [k, entry] of [...this.#dirty]) {
      try {
        await super.put(entry.key, entry.value)
      } catch (err) {
        failed ??= err
        continue
      }
      // Rewritten meanwhile: the newer value stays pending for the next flush.
      if (this.#dirty.get(k) !== entry) continue
      this.#dirty.delete(k)
      this.#remember(k, entry.value)
    }
    if (failed !== undefined) {
      this.#flushSoon()
      throw failed
    }
  }

  #remember(k: string, value: Uint8Array): void {
    if (this.#clean.size >= this.#maxCached) this.#clean.clear()
    this.#clean.set(k, value)
  }

  #flushSoon(): void {
    if (this.#timer !== undefined) return
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.flush().catch(() => {})
    }, this.#flushMs)
    this.#timer.unref()
  }
}
