/**
 * sccache with its local disk cache (the binary built by sccache-install.ts), a fresh cache and
 * configuration per session, no distributed compilation. sccache serves every compile from its
 * long-running local server; the session starts that server itself in the foreground (its own
 * process group, a unix socket of its own) so that `outsideCpu()` can read the CPU it and the
 * preprocessors it ran spend, and `close()` stops exactly it.
 *
 * By default sccache preprocesses on every call and hashes the output; `direct: true` turns on
 * its "preprocessor cache mode" (`SCCACHE_DIRECT=true`), the counterpart of ccache's direct mode.
 */
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { startDaemon } from '../../distributed/daemon-process.ts'
import { processCpu } from '../../distributed/farm-tool.ts'
import { run } from '../proc.ts'
import { cleanEnv, type Counters, type ToolSession } from './types.ts'

export interface SccacheOptions {
  /** The `sccache` binary. */
  bin: string
  /** Directory to create the session's state in (deleted on close). */
  dir: string
  /** Preprocessor cache mode (SCCACHE_DIRECT=true). */
  direct?: boolean
  label?: string
}

/** Sum of a per-language `{ counts: { "C/C++": n } }` entry of sccache's JSON stats. */
function perLanguage(v: unknown): number {
  const counts = (v as { counts?: Record<string, unknown> } | undefined)?.counts ?? {}
  return Object.values(counts).reduce<number>((s, x) => s + (typeof x === 'number' ? x : 0), 0)
}

export async function openSccache(opts: SccacheOptions): Promise<ToolSession> {
  await rm(opts.dir, { recursive: true, force: true })
  await mkdir(join(opts.dir, 'cache'), { recursive: true })
  const conf = join(opts.dir, 'config.toml')
  await writeFile(conf, '')
  // Unix socket paths are limited to 107 bytes.
  const sockDir = await mkdtemp('/tmp/meshcc-bench-sccache-')
  const env: NodeJS.ProcessEnv = {
    ...cleanEnv(),
    // SCCACHE_CONF replaces ~/.config/sccache/config.
    SCCACHE_CONF: conf,
    SCCACHE_DIR: join(opts.dir, 'cache'),
    SCCACHE_SERVER_UDS: join(sockDir, 'server.sock'),
    SCCACHE_IDLE_TIMEOUT: '0',
    SCCACHE_DIRECT: opts.direct ? 'true' : 'false',
  }
  const server = startDaemon('sccache', [opts.bin], {
    log: join(opts.dir, 'server.log'),
    env: { ...env, SCCACHE_START_SERVER: '1', SCCACHE_NO_DAEMON: '1' },
  })
  const close = async () => {
    await server.stop()
    await rm(sockDir, { recursive: true, force: true })
    await rm(opts.dir, { recursive: true, force: true })
  }
  // A client that finds no server starts a detached one of its own: wait for the socket.
  for (let t = 0; !existsSync(env['SCCACHE_SERVER_UDS']!); t += 50) {
    if (!server.alive() || t > 15_000) {
      await close()
      throw new Error(`sccache server did not start; see ${server.log}`)
    }
    await sleep(50)
  }
  return {
    tool: 'sccache',
    label: opts.label ?? (opts.direct ? 'sccache (SCCACHE_DIRECT)' : 'sccache'),
    env,
    prefix: [opts.bin],
    outsideCpu: () => processCpu(server.pid),
    async counters(): Promise<Counters> {
      const r = await run(opts.bin, ['--show-stats', '--stats-format', 'json'], { env })
      const raw = (JSON.parse(r.stdout) as { stats: Record<string, unknown> }).stats
      const n = (k: string) => (typeof raw[k] === 'number' ? raw[k] : 0)
      return {
        hits: perLanguage(raw['cache_hits']),
        misses: perLanguage(raw['cache_misses']),
        uncacheable: n('requests_not_cacheable') + n('requests_unsupported_compiler'),
        // Compiles it gave up on (errors) would be run by the client itself.
        fallbacks: perLanguage(raw['cache_errors']),
        raw,
      }
    },
    close,
  }
}
