/**
 * Watches on the directories a local toolchain was packaged from (inotify, through `fs.watch`),
 * so that the daemon can keep answering a compiler's toolchain id from memory until something
 * there changes, instead of re-checking the stat data of its few hundred files every couple of
 * seconds: that sweep (with the state file's read) cost the first job after each pause ~3 ms of
 * the client daemon's time. Any event in any watched directory counts as a change (a package
 * install touching `/usr/bin` just costs one sweep); so does a watch that fails. Watches never
 * keep the process alive.
 */
import { type FSWatcher, watch } from 'node:fs'
import { dirname } from 'node:path'

export class DirWatches {
  /** By directory; null: it could not be watched. */
  readonly #watchers = new Map<string, FSWatcher | null>()
  /** When the latest event (or watch failure) came, on `performance.now()`'s clock. */
  #lastChange = Number.NEGATIVE_INFINITY
  #closed = false

  /**
   * Watches the directory of every path (once each). True when all of them are watched: from
   * now on, a change to any of those files shows in {@link quietSince}.
   */
  cover(paths: Iterable<string>): boolean {
    if (this.#closed) return false
    let all = true
    for (const dir of new Set([...paths].map((p) => dirname(p)))) {
      let w = this.#watchers.get(dir)
      if (w === undefined) w = this.#watch(dir)
      if (w === null) all = false
    }
    return all
  }

  /** Whether nothing changed in a watched directory since `t` (`performance.now()`). */
  quietSince(t: number): boolean {
    return !this.#closed && this.#lastChange < t
  }

  close(): void {
    this.#closed = true
    for (const w of this.#watchers.values()) w?.close()
    this.#watchers.clear()
  }

  #watch(dir: string): FSWatcher | null {
    let w: FSWatcher | null
    try {
      w = watch(dir, { persistent: false }, () => {
        this.#lastChange = performance.now()
      })
      w.on('error', () => {
        this.#lastChange = performance.now()
        this.#watchers.set(dir, null)
        w?.close()
      })
    } catch {
      w = null
    }
    this.#watchers.set(dir, w)
    return w
  }
}
