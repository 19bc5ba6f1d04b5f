/**
 * In-memory least-recently-used index of cache entries: id → size and last use, plus totals.
 *
 * A JavaScript Map iterates in insertion order, so "touch" is delete + set and the first entries
 * are always the least recently used: O(1) per hit, O(evicted) per eviction, no sorting on the
 * hot path. The start-up scan merges what it found on disk (ordered by mtime, the persisted last
 * use) in front of whatever the running daemon has already touched or written.
 *
 * @example
 * ```ts
 * const lru = new LruIndex()
 * lru.set('r' + key, 1234, Date.now())
 * for (const [id, e] of lru.oldest()) { … }
 * ```
 */

export interface LruEntry {
  size: number
  /** Milliseconds since the epoch. */
  lastUse: number
}

export interface ScannedEntry extends LruEntry {
  id: string
}

export class LruIndex {
  #map = new Map<string, LruEntry>()
  #bytes = 0
  #counts = new Map<string, number>()

  get bytes(): number {
    return this.#bytes
  }

  get size(): number {
    return this.#map.size
  }

  /** Entries whose id starts with `prefix` (the store prefixes ids with their kind). */
  count(prefix: string): number {
    return this.#counts.get(prefix) ?? 0
  }

  has(id: string): boolean {
    return this.#map.has(id)
  }

  get(id: string): LruEntry | undefined {
    return this.#map.get(id)
  }

  /** Adds or replaces an entry and makes it the most recently used. */
  set(id: string, size: number, lastUse: number): void {
    this.delete(id)
    this.#map.set(id, { size, lastUse })
    this.#bytes += size
    this.#bump(id, 1)
  }

  /** Marks a use; adds the entry when the index did not know it yet (scan still running). */
  touch(id: string, size: number, now: number): void {
    const e = this.#map.get(id)
    if (e === undefined || e.size !== size) {
      this.set(id, size, now)
      return
    }
    this.#map.delete(id)
    e.lastUse = now
    this.#map.set(id, e)
  }

  delete(id: string): LruEntry | undefined {
    const e = this.#map.get(id)
    if (e === undefined) return undefined
    this.#map.delete(id)
    this.#bytes -= e.size
    this.#bump(id, -1)
    return e
  }

  clear(): void {
    this.#map.clear()
    this.#counts.clear()
    this.#bytes = 0
  }

  /** Least recently used first. Safe to delete the yielded id while iterating. */
  oldest(): IterableIterator<[string, LruEntry]> {
    return this.#map.entries()
  }

  /**
   * Puts entries found on disk before every entry already known (those were used or written
   * since start, so they are newer). `scanned` need not be sorted; known ids are skipped.
   */
  mergeScanned(scanned: ScannedEntry[], skip: ReadonlySet<string> = new Set()): void {
    const fresh = scanned.filter((s) => !this.#map.has(s.id) && !skip.has(s.id))
    fresh.sort((a, b) => a.lastUse - b.lastUse)
    const live = this.#map
    this.#map = new Map()
    for (const s of fresh) {
      this.#map.set(s.id, { size: s.size, lastUse: s.lastUse })
      this.#bytes += s.size
      this.#bump(s.id, 1)
    }
    for (const [id, e] of live) this.#map.set(id, e)
  }

  #bump(id: string, by: number): void {
    const p = id.slice(0, 1)
    this.#counts.set(p, (this.#counts.get(p) ?? 0) + by)
  }
}
