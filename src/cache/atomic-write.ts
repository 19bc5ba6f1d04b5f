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
}

export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const { signal, mode = 0o644, mkdirs = true } = options
  signal?.throwIfAborted()
  const tmp = tempPathFor(path)
  try {
    try {
      await writeFile(tmp, data, { flag: 'wx', mode })
    } catch (err) {
      if (!mkdirs || (err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      await mkdir(dirname(path), { recursive: true })
      await writeFile(tmp, data, { flag: 'wx', mode })
    }
    signal?.throwIfAborted()
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {})
    throw err
  }
}
