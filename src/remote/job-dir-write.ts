/**
 * Writes into a fresh job directory before its job runs (nothing else can touch it yet). Small
 * writes and directories are made synchronously: each is a few microseconds of the main thread,
 * where the promise API costs a thread-pool round trip per call (~0.3 ms of wall each on a busy
 * builder, and a tiny job makes a dozen of them). Large files still go through the thread pool,
 * so a big preprocessed source never stalls the event loop.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'

/** Up to this size a file is written synchronously. */
export const SYNC_WRITE_MAX = 256 * 1024

/** Makes `dir` and its missing parents. */
export function makeJobDir(dir: string): void {
  mkdirSync(dir, { recursive: true })
}

/** Writes `data` to `path` (made with `mode`), making its directory first if `mkdirs`. */
export async function writeJobFile(
  path: string,
  data: Uint8Array,
  { mode = 0o644, mkdirs = false }: { mode?: number; mkdirs?: boolean } = {},
): Promise<void> {
  if (mkdirs) makeJobDir(dirname(path))
  if (data.length <= SYNC_WRITE_MAX) writeFileSync(path, data, { mode })
  else await writeFile(path, data, { mode })
}
