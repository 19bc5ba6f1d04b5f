/**
 * `meshcc cache clear [--json]`: removes every entry of the local cache. With a daemon running
 * it asks the daemon (the owner of the store's index, which must forget the entries too); with
 * none it clears the directory itself through the same store code, so the layout rules (rename
 * aside first, then delete) hold either way. The statistics are kept: `meshcc stats --zero`
 * resets those.
 */
import { existsSync } from 'node:fs'
import { createDiskCacheStore } from '../cache/disk-store.ts'
import { loadConfig } from '../config/config.ts'
import type { NodePaths } from '../config/paths.ts'
import { formatBytes } from '../config/units.ts'
import type { CacheCleared } from '../daemon/control.ts'
import { UsageError } from '../errors.ts'
import { parseCommand } from './args.ts'
import { controlRequest, isDaemonAbsent, withDaemonHint } from './control-client.ts'
import { commandHelp } from './help.ts'
import { type Output, printJson } from './output.ts'

/** Deleting a large cache takes a while; the daemon answers when it is done. */
const CLEAR_TIMEOUT_MS = 120_000

export async function cacheCommand(args: string[], o: Output, paths: NodePaths): Promise<number> {
  const { values, positionals } = parseCommand('cache', args, {}, 1)
  const sub = positionals[0]
  if (values.help) {
    o.out(commandHelp['cache']!)
    return 0
  }
  if (sub === undefined) throw new UsageError('meshcc cache: which action? clear')
  if (sub !== 'clear') throw new UsageError(`meshcc cache: unknown action '${sub}' (clear)`)
  let removed: CacheCleared
  let via: 'daemon' | 'directory'
  try {
    // A quick question first: a hung daemon is reported in seconds, not after CLEAR_TIMEOUT_MS.
    await controlRequest(paths, 'status', { timeoutMs: 3000 })
    const reply = await controlRequest(paths, 'cache-clear', { timeoutMs: CLEAR_TIMEOUT_MS })
    removed = reply['removed'] as CacheCleared
    via = 'daemon'
  } catch (err) {
    if (!isDaemonAbsent(err)) throw withDaemonHint(err, paths)
    removed = await clearDirectory(paths)
    via = 'directory'
  }
  if (o.json) printJson(o, { cleared: true, via, removed, cacheDir: paths.cacheDir })
  else {
    o.out(
      `meshcc: cache cleared (${removed.entries} entries, ${formatBytes(removed.bytes)}) in ${paths.cacheDir}`,
    )
  }
  return 0
}

async function clearDirectory(paths: NodePaths): Promise<CacheCleared> {
  if (!existsSync(paths.cacheDir)) return { entries: 0, bytes: 0 }
  const config = loadConfig(process.env, paths)
  const store = createDiskCacheStore({ dir: paths.cacheDir, maxBytes: config.cacheMaxBytes })
  await store.start()
  try {
    // Counted first, for the report; the scan is what a starting daemon does anyway.
    await store.indexed()
    const { entries, bytes } = store.stats()
    await store.clear()
    return { entries, bytes }
  } finally {
    await store.stop()
  }
}
