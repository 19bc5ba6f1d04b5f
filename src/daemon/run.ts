/**
 * Runs the node daemon in this process until it stops: composes the config, the disk cache
 * store, the stats recorder and the compile pipeline, serves the local socket, and hosts the
 * mesh when the node has joined (`mesh.toml`, written by `meshcc join`). Used by the daemon's
 * entry (`main.ts`) and by `meshcc join --foreground`, which also copies the log to stderr.
 *
 * A second daemon for the same `MESHCC_HOME` returns 0 quietly: many clients may race to start
 * one, and the loser has nothing to report. SIGTERM/SIGINT stop gracefully (running compiles
 * finish, the cache writes of answered compiles finish, bounded, the mesh is left, stats are
 * persisted, socket and pid file removed).
 *
 * @example
 * ```ts
 * process.exit(await runDaemon({ stderr: true }))
 * ```
 */
import { appendFileSync } from 'node:fs'
import { chmod, mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { createDiskCacheStore } from '../cache/disk-store.ts'
import { createLocalCompileHandler } from '../compile/pipeline.ts'
import { remoteMissCompiler } from '../compile/remote-miss.ts'
import { loadConfig, type MeshccConfig } from '../config/config.ts'
import { nodePaths } from '../config/paths.ts'
import { DaemonAlreadyRunningError } from '../errors.ts'
import { StatsRecorder } from '../stats/recorder.ts'
import { startDaemon } from './daemon.ts'
import { createLogger } from './logger.ts'
import { MeshHost } from './mesh-host.ts'
import { NodeSpeed } from './node-speed.ts'
import { RemoteHost } from './remote-host.ts'
import { readMeshSettings } from './mesh-settings.ts'

/** How long a control command waits for answered compiles' cache writes (they take ms). */
const SETTLE_MS = 2_000

export interface RunDaemonOptions {
  /** Also write every log line to stderr (`meshcc join --foreground`). */
  stderr?: boolean
}

export async function runDaemon({ stderr = false }: RunDaemonOptions = {}): Promise<number> {
  const paths = nodePaths()
  for (const dir of [paths.home, dirname(paths.socket), paths.logDir, paths.cacheDir]) {
    await mkdir(dir, { recursive: true, mode: 0o700 })
  }
  await chmod(paths.home, 0o700)
  const logFile = join(paths.logDir, 'daemon.log')
  // A closed terminal or pipe (EPIPE) ends the copy on stderr, never the daemon: reporting that
  // error would write to stderr again.
  let stderrOpen = stderr
  if (stderr) process.stderr.on('error', () => (stderrOpen = false))
  const write = stderr
    ? (line: string) => {
        appendToLog(logFile, line)
        if (stderrOpen) process.stderr.write(line)
      }
    : undefined
  let config: MeshccConfig
  try {
    config = loadConfig(process.env, paths)
  } catch (err) {
    // Clients fall back to local compiles; the log says why the daemon is missing.
    createLogger({ file: logFile, ...(write ? { write } : {}) }).error(
      'bad configuration; daemon not started',
      { err },
    )
    return 1
  }
  const log = createLogger({ level: config.logLevel, file: logFile, ...(write ? { write } : {}) })
  for (const warning of config.warnings) log.warn(warning)
  let joined = false
  try {
    joined = readMeshSettings(paths).joined
  } catch (err) {
    log.error('bad mesh settings; the mesh is not started', { err })
  }

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

  let daemon: Awaited<ReturnType<typeof startDaemon>> | undefined
  // The advert's speed figure, learned from the compiles this node runs.
  const speed = new NodeSpeed({
    log: log.child({ component: 'speed' }),
    onChange: () => meshHost.changed(),
    signal: stopSignal.signal,
  })
  const remote = new RemoteHost({ paths, log, stats, onBuilderJob: (e) => speed.builderJob(e) })
  const meshHost = new MeshHost({
    paths,
    log: log.child({ component: 'mesh' }),
    running: () => daemon?.status().activeRequests ?? 0,
    remote,
    speed: () => speed.advertised(),
  })
  const handler = createLocalCompileHandler({
    store,
    stats,
    log,
    config,
    tempDir: join(paths.home, 'tmp'),
    compileMiss: speed.observeMisses(
      remoteMissCompiler({ client: () => remote.client(), stats, log }),
    ),
  })
  try {
    await store.start()
    await stats.start()
    daemon = await startDaemon(
      {
        paths,
        handler,
        log,
        idleTimeoutMs: config.idleTimeoutMs,
        keepAlive: () => meshHost.joined(),
        control: {
          mesh: meshHost,
          transfers: () => remote.transfers(),
          stats: () => stats.snapshot(store.stats()),
          zeroStats: async () => {
            stats.zero()
            await stats.flush()
            return stats.snapshot(store.stats())
          },
          settle: () =>
            handler
              .flushStores({ signal: AbortSignal.timeout(SETTLE_MS) })
              .catch(() => log.debug('cache writes still running; answering anyway')),
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
  // Compiles are served already; the mesh comes up beside them.
  if (joined) {
    meshHost.start().catch((err) => log.error('the mesh did not start', { err }))
  }
  await daemon.closed
  await meshHost.stop()
  await stats.stop().catch((err) => log.warn('persisting stats failed', { err }))
  await store.stop().catch((err) => log.warn('stopping the cache store failed', { err }))
  return process.exitCode === 1 ? 1 : 0
}

function appendToLog(file: string, line: string): void {
  try {
    appendFileSync(file, line)
  } catch {
    // Logging must never take the daemon down.
  }
}
