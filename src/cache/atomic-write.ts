/**
 * Atomic file replacement: write a uniquely named temp file in the target's own directory, then
 * rename it over the target. Readers see the old file or the new one, never a half-written one,
 * even with many writers (threads, daemons, processes) racing on the same path. A writer killed
 * mid-way leaves only a `.tmp-*` file, which the cache's start-up scan removes once it is stale.
 *
 * No fsync: a cache entry lost to a power cut is a miss, and every entry is checksummed.
 *
 * @example
 * ```ts
 * await writeFileAtomic('/home/u/.meshcc/stats.json', JSON.stringify(counters))
 * ```
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

/** Every temp file starts with this, so scans can tell them from entries. */
export const TEMP_PREFIX = '.tmp-'

let counter = 0

export function tempPathFor(path: string): string {
  const unique = `${process.pid}-${(counter++).toString(36)}-${randomBytes(4).toString('hex')}`
  return join(dirname(path), `${TEMP_PREFIX}${unique}-${basename(path)}`)
}

export interface AtomicWriteOptions {
  signal?: AbortSignal
  /** File mode for a new file (before umask). */
  mode?: number
  /** Create the parent directory when it is missing (then retry once). Default true. */
  mkdirs?: boolean
  /**
   * Remove the old file just before the rename, for files a reader may briefly miss (a cache
   * entry: a miss). ext4 (`auto_da_alloc`) writes the new file's data out at once when a
   * rename replaces a file; into a free name it stays in the page cache like any write. That
   * flush was most of a small cache entry's store time (0.5–0.7 ms of each remote job's
   * daemon time, where every job replaces its entry and its manifest).
   */
  unlinkFirst?: boolean
}

/**
 * Up to this size a write is synchronous: a few page-cache syscalls cost less than the four
 * thread-pool round trips (open, write, close, rename) of the asynchronous path, which were most
 * of a small cache store's time on the compile's critical path.
 */
const SYNC_MAX_BYTES = 256 * 1024

export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const { signal, mode = 0o644, mkdirs = true, unlinkFirst = false } = options
  signal?.throwIfAborted()
  const tmp = tempPathFor(path)
  if (data.length <= SYNC_MAX_BYTES) {
    writeSmall(path, tmp, data, mode, mkdirs, unlinkFirst)
    return
  }
  try {
    try {
      await writeFile(tmp, data, { flag: 'wx', mode })
    } catch (err) {
      if (!mkdirs || (err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      await mkdir(dirname(path), { recursive: true })
      await writeFile(tmp, data, { flag: 'wx', mode })
    }
    signal?.throwIfAborted()
    if (unlinkFirst) await rm(path, { force: true })
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {})
    throw err
  }
}

function writeSmall(
  path: string,
  tmp: string,
  data: Uint8Array | string,
  mode: number,
  mkdirs: boolean,
  unlinkFirst: boolean,
): void {
  try {
    try {
      writeFileSync(tmp, data, { flag: 'wx', mode })
    } catch (err) {
      if (!mkdirs || (err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      mkdirSync(dirname(path), { recursive: true })
      writeFileSync(tmp, data, { flag: 'wx', mode })
    }
    if (unlinkFirst) rmSync(path, { force: true })
    renameSync(tmp, path)
  } catch (err) {
    rmSync(tmp, { force: true })
    throw err
  }
}
