/**
 * Removes a finished job's directory on the builder. A job leaves a handful of entries (its
 * sources, its outputs and the directories that hold them), which a synchronous walk removes in
 * tens of microseconds of the main thread. `fs.promises.rm` spent a thread-pool round trip on
 * every entry, after rimraf's failed try to remove each directory first: ~1 ms of the builder's
 * CPU per tiny job, a fifth of its daemon's time (profile of the micro benchmark).
 *
 * A tree larger than the budget (an unusual or hostile job: the sandbox bounds file sizes, not
 * their number) and any error are left to the asynchronous removal, so a job cannot stall the
 * event loop by leaving many files behind.
 */
import { readdirSync, rmdirSync, unlinkSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'

/** Entries removed synchronously at most; a tree with more is removed asynchronously. */
export const SYNC_REMOVE_MAX_ENTRIES = 256

class OverBudget extends Error {}

/**
 * Removes `dir` and everything in it; never throws. Whatever the walk could not finish (over the
 * budget, an error part-way, a directory already gone) is handed to `rm`, which ignores a
 * missing path.
 */
export function removeJobDir(dir: string, maxEntries = SYNC_REMOVE_MAX_ENTRIES): void {
  try {
    removeTreeSync(dir, { left: maxEntries })
  } catch {
    void rm(dir, { recursive: true, force: true }).catch(() => {})
  }
}

function removeTreeSync(dir: string, budget: { left: number }): void {
  const entries = readdirSync(dir, { withFileTypes: true })
  budget.left -= entries.length
  if (budget.left < 0) throw new OverBudget(dir)
  for (const e of entries) {
    const path = join(dir, e.name)
    // Dirent types come from lstat-like data: a symlink to a directory is unlinked, not followed.
    if (e.isDirectory()) removeTreeSync(path, budget)
    else unlinkSync(path)
  }
  rmdirSync(dir)
}
