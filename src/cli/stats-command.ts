/**
 * `meshcc stats [--json] [--zero]`: the daemon's counters, or, when no daemon runs, the
 * persisted `$MESHCC_HOME/stats.json` (this process then owns the file for the moment) plus the
 * native client's fallback log (compiles that ran without a daemon), with the cache's size from
 * a scan of the cache directory.
 */
import { existsSync } from 'node:fs'
import { createDiskCacheStore } from '../cache/disk-store.ts'
import { loadConfig } from '../config/config.ts'
import type { NodePaths } from '../config/paths.ts'
import { formatStats } from '../stats/format.ts'
import { StatsRecorder } from '../stats/recorder.ts'
import type { StatsSnapshot } from '../stats/types.ts'
import { parseCommand } from './args.ts'
import { controlRequest, isDaemonAbsent, withDaemonHint } from './control-client.ts'
import { commandHelp } from './help.ts'
import { type Output, printJson } from './output.ts'

export async function statsCommand(args: string[], o: Output, paths: NodePaths): Promise<number> {
  const { values } = parseCommand('stats', args, { zero: { type: 'boolean' } }, 0)
  if (values.help) {
    o.out(commandHelp['stats']!)
    return 0
  }
  const zero = values.zero === true
  let snapshot: StatsSnapshot
  try {
    const reply = await controlRequest(paths, zero ? 'stats-zero' : 'stats')
    snapshot = reply['stats'] as StatsSnapshot
  } catch (err) {
    if (!isDaemonAbsent(err)) throw withDaemonHint(err, paths)
    snapshot = await offlineStats(paths, zero)
  }
  if (o.json) printJson(o, snapshot)
  else if (zero) o.out('meshcc: statistics zeroed')
  else o.out(formatStats(snapshot))
  return 0
}

async function offlineStats(paths: NodePaths, zero: boolean): Promise<StatsSnapshot> {
  const stats = new StatsRecorder({ file: paths.statsFile })
  await stats.load()
  // The daemon would have counted the client's fallback lines; with none running, we own them.
  // (ingest persists what it counted before it deletes the taken-over log.)
  await stats.ingestFallbackLog(paths.fallbackLog, { graceMs: 200 })
  if (zero) stats.zero()
  await stats.flush()
  const config = loadConfig(process.env, paths)
  if (!existsSync(paths.cacheDir)) {
    return { ...stats.snapshot(), cache_max_bytes: config.cacheMaxBytes }
  }
  const store = createDiskCacheStore({ dir: paths.cacheDir, maxBytes: config.cacheMaxBytes })
  try {
    await store.start()
    await store.indexed()
    return stats.snapshot(store.stats())
  } finally {
    await store.stop()
  }
}
