/**
 * Which precompiled-header names (`*.gch`, `*.pch`) each directory holds, cached by the
 * directory's stat: probing a source's PCH candidates then costs one stat per distinct directory
 * instead of one per candidate, and nothing more when no directory holds a PCH (the usual case).
 *
 * Creating, removing or renaming an entry changes the directory's mtime and ctime, so a listing
 * is reused only while the stat is unchanged, and (git's racy rule, as in file-hash-cache.ts)
 * only if the directory was already older than `RACY_WINDOW_MS` when it was listed: an entry
 * created within the same timestamp tick as the listing would leave the stat unchanged.
 *
 * @example
 * ```ts
 * const dirs = new PchDirCache()
 * dirs.names('/src/inc') // Set { 'foo.h.gch' } or undefined when the directory is missing
 * ```
 */
import { readdirSync, statSync } from 'node:fs'
import { RACY_WINDOW_MS } from './file-hash-cache.ts'

interface Listing {
  stamp: string
  names: ReadonlySet<string>
  settled: boolean
}

const EMPTY: ReadonlySet<string> = new Set()

export function isPchName(name: string): boolean {
  return name.endsWith('.gch') || name.endsWith('.pch')
}

export class PchDirCache {
  readonly #map = new Map<string, Listing>()
  readonly #max: number
  readonly #nowMs: () => number

  constructor(init: { maxEntries?: number; nowMs?: () => number } = {}) {
    this.#max = init.maxEntries ?? 20_000
    this.#nowMs = init.nowMs ?? Date.now
  }

  /** PCH-like entry names in the directory `abs`, or undefined when it is not a directory. */
  names(abs: string): ReadonlySet<string> | undefined {
    const st = statSync(abs, { throwIfNoEntry: false })
    if (st === undefined || !st.isDirectory()) {
      this.#map.delete(abs)
      return undefined
    }
    const stamp = `${st.dev}:${st.ino}:${st.mtimeMs}:${st.ctimeMs}`
    const old = this.#map.get(abs)
    if (old?.settled === true && old.stamp === stamp) return old.names
    const now = this.#nowMs()
    let names: ReadonlySet<string>
    try {
      const found = readdirSync(abs).filter(isPchName)
      names = found.length === 0 ? EMPTY : new Set(found)
    } catch {
      // Unreadable: the compiler cannot read it either.
      names = EMPTY
    }
    const settled = Math.max(st.mtimeMs, st.ctimeMs) + RACY_WINDOW_MS < now
    this.#map.delete(abs)
    this.#map.set(abs, { stamp, names, settled })
    if (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next()
      if (oldest.done !== true) this.#map.delete(oldest.value)
    }
    return names
  }
}
