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

/** A file is trusted by stat only if it was at least this old (ms) when hashed. */
export const RACY_WINDOW_MS = 2000

export interface FileHash {
  /** SHA-256 hex of the content. */
  hash: string
  /** Bit set of time macros found in the content (see time-macros.ts). */
  timeMacros: number
  /**
   * The content mentions `.incbin`: an assembler directive (in inline asm) that reads a file no
   * depfile lists, so the compile cannot be keyed (ccache's "unsupported code directive").
   */
  incbin: boolean
  size: number
  /** The later of mtime and ctime (ms since the epoch) when hashed. */
  newestMs: number
}

interface Entry extends FileHash {
  dev: number
  ino: number
  /** -1 when the content read did not match the stat (never reused). */
  statSize: number
  /** Times as the float milliseconds of stat (sub-microsecond precision). */
  mtimeMs: number
  ctimeMs: number
  /** Whether the stat alone may vouch for this entry (the file was settled when hashed). */
  settled: boolean
}

export interface FileHashCacheInit {
  /** Entries kept (oldest dropped first). Default 200 000. */
  maxEntries?: number
  /** Wall clock in ms, injectable for tests. */
  nowMs?: () => number
}

export class FileHashCache {
  readonly #entries = new Map<string, Entry>()
  readonly #maxEntries: number
  readonly #nowMs: () => number
  /** Counters for tests and debug logs. */
  hashed = 0
  reused = 0

  constructor(init: FileHashCacheInit = {}) {
    this.#maxEntries = init.maxEntries ?? 200_000
    this.#nowMs = init.nowMs ?? Date.now
  }

  /**
   * Hash of the file at `path` (absolute), or undefined if it is missing or not a regular file.
   * Synchronous: this is on the hit path. Errors other than absence propagate.
   */
  hash(path: string): FileHash | undefined {
    // Number stats: a third cheaper than bigint ones; float ms keep sub-µs precision, and the
    // racy rule covers what that precision cannot tell apart.
    const st = statSync(path, { throwIfNoEntry: false })
    if (st === undefined || !st.isFile()) {
      this.#entries.delete(path)
      return undefined
    }
    const old = this.#entries.get(path)
    if (
      old?.settled === true &&
      old.ino === st.ino &&
      old.dev === st.dev &&
      old.statSize === st.size &&
      old.mtimeMs === st.mtimeMs &&
      old.ctimeMs === st.ctimeMs
    ) {
      this.reused++
      return old
    }
    // Take the time before reading: anything written after this instant has mtime >= now.
    const now = this.#nowMs()
    const data = readFileSync(path)
    this.hashed++
    const newest = Math.max(st.mtimeMs, st.ctimeMs)
    const entry: Entry = {
      hash: sha256Hex(data),
      timeMacros: scanTimeMacros(data),
      incbin: data.indexOf('.incbin') !== -1,
      size: data.byteLength,
      newestMs: newest,
      dev: st.dev,
      ino: st.ino,
      // The content we read may be newer than the stat we took (a write in between): such an
      // entry is never settled because its size or times will not match the next stat, or if
      // they do, the file is within the racy window relative to `now`.
      statSize: data.byteLength === st.size ? st.size : -1,
      mtimeMs: st.mtimeMs,
      ctimeMs: st.ctimeMs,
      settled: newest + RACY_WINDOW_MS < now,
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
