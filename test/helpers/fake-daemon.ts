/**
 * A daemon process with a stand-in compile handler, for testing the socket server and the native
 * client without the real pipeline: `node test/helpers/fake-daemon.ts <mode>` with MESHCC_HOME
 * set. Modes: `exec-local` (every request told to run locally), `noop` (answers exit 0 at
 * once: the client's round trip, for measurements), `passthrough` (runs the
 * compiler and relays its output and exit code), `slow` (passthrough after `SLOW_MS`, sending
 * keepalives meanwhile like any long compile), `hang` (never answers until aborted; keepalives
 * still flow, as from a daemon that is busy rather than hung).
 *
 * The native client starts it instead of `dist/daemon/main.js` when tests point MESHCC_NODE at
 * a shim; tests mostly start it directly with `startFakeDaemon()`.
 */
import { spawn } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import type { CompileHandler, CompileReply } from '../../src/compile/types.ts'
import { nodePaths } from '../../src/config/paths.ts'
import { startDaemon } from '../../src/daemon/daemon.ts'
import { createLogger } from '../../src/daemon/logger.ts'
import { DaemonAlreadyRunningError } from '../../src/errors.ts'
import type { StatsSnapshot } from '../../src/stats/types.ts'

/** How long the `slow` mode takes before it compiles. */
export const SLOW_MS = 1500

export function fakeHandler(mode: string): CompileHandler {
  if (mode === 'slow') {
    const pass = fakeHandler('passthrough')
    return {
      handle: async (req, options) => {
        await sleep(SLOW_MS, undefined, { signal: options.signal })
        return pass.handle(req, options)
      },
    }
  }
  return {
    handle: (req, { signal }) =>
      new Promise<CompileReply>((resolve, reject) => {
        if (mode === 'exec-local') return resolve({ kind: 'exec-local', reason: 'fake-exec-local' })
        if (mode === 'noop') {
          return resolve({
            kind: 'done',
            exitCode: 0,
            stdout: new Uint8Array(),
            stderr: new Uint8Array(),
          })
        }
        if (mode === 'hang') {
          signal.addEventListener('abort', () => reject(signal.reason), { once: true })
          return
        }
        const child = spawn(req.compiler, req.args, {
          cwd: req.cwd,
          env: req.env,
          signal,
          stdio: ['ignore', 'pipe', 'pipe'],
        })
        const out: Buffer[] = []
        const err: Buffer[] = []
        child.stdout.on('data', (b: Buffer) => out.push(b))
        child.stderr.on('data', (b: Buffer) => err.push(b))
        child.on('error', reject)
        child.on('close', (code) =>
          resolve({
            kind: 'done',
            exitCode: code ?? 1,
            stdout: Buffer.concat(out),
            stderr: Buffer.concat(err),
          }),
        )
      }),
  }
}

const zeroStats = (): StatsSnapshot => ({
  cache_hits: 0,
  cache_hits_direct: 0,
  cache_hits_preprocessed: 0,
  cache_misses: 0,
  uncacheable: 0,
  uncacheable_reasons: {},
  local_compiles: 0,
  remote_compiles: 0,
  local_fallbacks: 0,
  local_fallback_reasons: {},
  compile_failures: 0,
  corrupt_entries: 0,
  cache_bytes: 0,
  cache_entries: 0,
  cache_max_bytes: 0,
  time_saved_ms: 0,
  zeroed_at: new Date(0).toISOString(),
})

if (import.meta.main) {
  const mode = process.argv[2] ?? 'passthrough'
  const stop = new AbortController()
  process.on('SIGTERM', () => stop.abort())
  process.on('SIGINT', () => stop.abort())
  try {
    const daemon = await startDaemon(
      {
        paths: nodePaths(),
        handler: fakeHandler(mode),
        log: createLogger({ level: 'warn', write: (l) => process.stderr.write(l) }),
        control: { stats: zeroStats, zeroStats, clearCache: () => ({ entries: 0, bytes: 0 }) },
        drainMs: 2000,
      },
      { signal: stop.signal },
    )
    await daemon.closed
  } catch (err) {
    if (!(err instanceof DaemonAlreadyRunningError)) throw err
  }
  process.exit(0)
}
