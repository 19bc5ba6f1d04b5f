/**
 * The start-up scan of a disk cache: lists every entry with its size and mtime (the persisted
 * last use) so the LRU index can be rebuilt, and removes leftovers of writers that died: temp
 * files older than `staleMs` and trash directories of an interrupted `clear()`.
 *
 * It runs in the background on the libuv pool, one two-hex-digit shard at a time, so a large
 * cache never delays the daemon's start or a cache hit.
 */
import { readdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '../daemon/logger.ts'
import { TEMP_PREFIX } from './atomic-write.ts'
import { isCacheKey } from './cache-key.ts'
import type { ScannedEntry } from './lru-index.ts'

export const TRASH_PREFIX = '.trash-'
const SHARD_RE = /^[0-9a-f]{2}$/

export interface ScanOptions {
  signal: AbortSignal
  staleMs: number
  now: number
  log?: Logger
}

export interface ScanResult {
  entries: ScannedEntry[]
  removedTemps: number
}

/** Scans `top` (e.g. `<cache>/results`), prefixing each id with `idPrefix`. */
export async function scanKind(top: string, idPrefix: string, o: ScanOptions): Promise<ScanResult> {
  const out: ScanResult = { entries: [], removedTemps: 0 }
  const shards = await readdirOrEmpty(top)
  for (const shard of shards) {
    o.signal.throwIfAborted()
    if (!SHARD_RE.test(shard)) continue
    const dir = join(top, shard)
    const names = await readdirOrEmpty(dir)
    await Promise.all(
      names.map(async (name) => {
        const path = join(dir, name)
        try {
          if (name.startsWith(TEMP_PREFIX)) {
            const st = await stat(path)
            if (o.now - st.mtimeMs > o.staleMs) {
              await rm(path, { force: true })
              out.removedTemps++
            }
            return
          }
          if (!isCacheKey(name) || !name.startsWith(shard)) return
          const st = await stat(path)
          if (st.isFile())
            out.entries.push({ id: idPrefix + name, size: st.size, lastUse: st.mtimeMs })
        } catch (err) {
          // Removed under our feet (eviction, clear, another process): simply not there.
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
            o.log?.warn('cache scan could not stat a file', { path, err })
          }
        }
      }),
    )
  }
  return out
}

/** Removes `.trash-*` directories left by a `clear()` that was interrupted. */
export async function removeTrash(dir: string): Promise<void> {
  for (const name of await readdirOrEmpty(dir)) {
    if (name.startsWith(TRASH_PREFIX)) await rm(join(dir, name), { recursive: true, force: true })
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return []
    throw err
  }
}
