/**
 * The node daemon's process entry (`dist/daemon/main.js`), started detached by the native client
 * or by `meshcc daemon start`: composes the config, the disk cache store, the stats recorder and
 * the compile pipeline, then serves the local socket until stopped.
 *
 * A second daemon for the same `MESHCC_HOME` exits quietly with status 0: many clients may race
 * to start one, and the loser has nothing to report. SIGTERM/SIGINT stop gracefully (running
 * compiles finish, stats are persisted, socket and pid file removed).
 *
 * @example
 * ```sh
 * MESHCC_HOME=/tmp/node1 node dist/daemon/main.js
 * ```
 */
import { chmod, mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { createDiskCacheStore } from '../cache/disk-store.ts'
import { createLocalCompileHandler } from '../compile/pipeline.ts'
import { loadConfig, type MeshccConfig } from '../config/config.ts'
import { nodePaths } from '../config/paths.ts'
import { DaemonAlreadyRunningError } from '../errors.ts'
import { StatsRecorder } from '../stats/recorder.ts'
import { startDaemon } from './daemon.ts'
import { createLogger } from './logger.ts'

async function main(): Promise<number> {
  const paths = nodePaths()
  for (const dir of [paths.home, dirname(paths.socket), paths.logDir, paths.cacheDir]) {
    await mkdir(dir, { recursive: true, mode: 0o700 })
  }
  await chmod(paths.home, 0o700)
  const logFile = join(paths.logDir, 'daemon.log')
  let config: MeshccConfig
  try {
    config = loadConfig(process.env, paths)
  } catch (err) {
    // Clients fall back to local compiles; the log says why the daemon is missing.
    createLogger({ file: logFile }).error('bad configuration; daemon not started', { err })
    return 1
  }
  const log = createLogger({ level: config.logLevel, file: logFile })
  for (const warning of config.warnings) log.warn(warning)

  const stats = new StatsRecorder({
    file: paths.statsFile,
    fallbackLog: paths.fallbackLog,
    log: log.child({ component: 'stats' }),
  })
  const store = createDiskCacheStore({
    dir: paths.cacheDir,
    maxBytes: config.cacheMaxBytes,
    log: log.child({ component: 'cache' }),
    onCorrupt: () => stats.corrupt(),
  })
  const stopSignal = new AbortController()
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.on(sig, () => stopSignal.abort(new Error(sig)))
  }

  let daemon: Awaited<ReturnType<typeof startDaemon>>
  try {
    await store.start()
    await stats.start()
    const handler = createLocalCompileHandler({
      store,
      stats,
      log,
      config,
      tempDir: join(paths.home, 'tmp'),
    })
    daemon = await startDaemon(
      {
        paths,
        handler,
        log,
        idleTimeoutMs: config.idleTimeoutMs,
        control: {
          stats: () => stats.snapshot(store.stats()),
          zeroStats: async () => {
            stats.zero()
            await stats.flush()
            return stats.snapshot(store.stats())
          },
          clearCache: async () => {
            const { entries, bytes } = store.stats()
            await store.clear()
            log.info('cache cleared', { entries, bytes })
            return { entries, bytes }
          },
        },
      },
      { signal: stopSignal.signal },
    )
  } catch (err) {
    await stats.stop().catch(() => {})
    await store.stop().catch(() => {})
    if (err instanceof DaemonAlreadyRunningError) {
      log.debug('another daemon owns this home; exiting', { home: paths.home })
      return 0
    }
    log.error('daemon failed to start', { err })
    return 1
  }
  process.on('uncaughtException', (err) => {
    log.error('uncaught exception; stopping', { err })
    process.exitCode = 1
    stopSignal.abort(err)
  })
  await daemon.closed
  await stats.stop().catch((err) => log.warn('persisting stats failed', { err }))
  await store.stop().catch((err) => log.warn('stopping the cache store failed', { err }))
  return process.exitCode === 1 ? 1 : 0
}

process.exit(await main())
