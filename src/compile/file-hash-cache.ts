/**
 * Content hashes of files (sources, headers, compilers), cached by stat.
 *
 * A cached hash is reused only when the file's (dev, ino, size, mtime, ctime) are unchanged AND
 * the file was already older than `RACY_WINDOW_NS` when it was hashed. The second condition is
 * git's "racy clean" rule: with coarse timestamps, a write landing in the same timestamp tick
 * just after we hashed would leave the stat unchanged, and a stale hash would give a stale hit.
 * Files modified within the window are simply rehashed on every use until they settle.
 * ctime cannot be set by users (`touch -d`, `cp -p` only set mtime), so a rewritten file with a
 * forged old mtime is still caught.
 *
 * @example
 * ```ts
 * const cache = new FileHashCache()
 * const info = cache.hash('/usr/include/stdio.h') // { hash, timeMacros } or undefined if missing
 * ```
 */
import { readFileSync, statSync } from 'node:fs'
import { sha256Hex } from './key.ts'
import { scanTimeMacros } from './time-macros.ts'

/** A file is trusted by stat only if it was at least this old when hashed. */
export const RACY_WINDOW_NS = 2_000_000_000n

export interface FileHash {
  /** SHA-256 hex of the content. */
  hash: string
  /** Bit set of time macros found in the content (see time-macros.ts). */
  timeMacros: number
  size: number
}

interface Entry extends FileHash {
  dev: bigint
  ino: bigint
  sizeBig: bigint
  mtimeNs: bigint
  ctimeNs: bigint
  /** Whether the stat alone may vouch for this entry (the file was settled when hashed). */
  settled: boolean
}

export interface FileHashCacheInit {
  /** Entries kept (oldest dropped first). Default 200 000. */
  maxEntries?: number
  /** Wall clock in ns, injectable for tests. */
  nowNs?: () => bigint
}

export class FileHashCache {
  readonly #entries = new Map<string, Entry>()
  readonly #maxEntries: number
  readonly #nowNs: () => bigint
  /** Counters for tests and debug logs. */
  hashed = 0
  reused = 0

  constructor(init: FileHashCacheInit = {}) {
    this.#maxEntries = init.maxEntries ?? 200_000
    this.#nowNs = init.nowNs ?? (() => BigInt(Date.now()) * 1_000_000n)
  }

  /**
   * Hash of the file at `path` (absolute), or undefined if it is missing or not a regular file.
   * Synchronous: this is on the hit path. Errors other than absence propagate.
   */
  hash(path: string): FileHash | undefined {
    const st = statSync(path, { bigint: true, throwIfNoEntry: false })
    if (st === undefined || !st.isFile()) {
      this.#entries.delete(path)
      return undefined
    }
    const old = this.#entries.get(path)
    if (
      old !== undefined &&
      old.settled &&
      old.ino === st.ino &&
      old.dev === st.dev &&
      old.sizeBig === st.size &&
      old.mtimeNs === st.mtimeNs &&
      old.ctimeNs === st.ctimeNs
    ) {
      this.reused++
      return old
    }
    // Take the time before reading: anything written after this instant has mtime >= now.
    const now = this.#nowNs()
    const data = readFileSync(path)
    this.hashed++
    const newest = st.mtimeNs > st.ctimeNs ? st.mtimeNs : st.ctimeNs
    const entry: Entry = {
      hash: sha256Hex(data),
      timeMacros: scanTimeMacros(data),
      size: data.byteLength,
      dev: st.dev,
      ino: st.ino,
      // The content we read may be newer than the stat we took (a write in between): such an
      // entry is never settled because its size or times will not match the next stat, or if
      // they do, the file is within the racy window relative to `now`.
      sizeBig: BigInt(data.byteLength) === st.size ? st.size : -1n,
      mtimeNs: st.mtimeNs,
      ctimeNs: st.ctimeNs,
      settled: newest + RACY_WINDOW_NS < now,
    }
    this.#entries.delete(path)
    this.#entries.set(path, entry)
    if (this.#entries.size > this.#maxEntries) {
      const first = this.#entries.keys().next()
      if (first.done !== true) this.#entries.delete(first.value)
    }
    return entry
  }

  /** Forgets everything (tests). */
  clear(): void {
    this.#entries.clear()
  }
}
