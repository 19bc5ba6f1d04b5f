/**
 * sccache-dist (built from crates.io by bench/lib/tools/sccache-install.ts) on the benchmark's
 * namespaces: the scheduler on the first builder, `sccache-dist server` on every builder (the
 * "overlay" builder: each job in a bubblewrap sandbox over the client's packaged toolchain), and
 * the client's local sccache server in the client namespace. Every daemon listens on its own
 * namespace address only (the client's local server on a unix socket).
 *
 * Authentication as sccache-dist asks for it: a random client token shared by client and
 * scheduler; servers authenticate to the scheduler with JWT HS256 tokens made by
 * `sccache-dist auth generate-jwt-hs256-server-token` for their address (the documented
 * preferred method); jobs carry the per-server job tokens the scheduler hands out.
 *
 * The client packages its gcc toolchain itself on the first remote job and uploads it to each
 * server the first time that server gets a job. It runs with `SCCACHE_RECACHE=1`, so each job
 * skips the cache lookup and really compiles (remotely), and stores the result as a miss would
 * (as meshcc does with MESHCC_RECACHE=1); the local cache directory is fresh per run.
 *
 * Remote jobs = the smaller of the scheduler's completed jobs ("Job N updated state to
 * Complete") and the client's "successful distributed compiles": a server reports a job complete
 * even when its build failed, and sccache then compiles on the client (its `dist_errors`).
 */
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { run } from '../lib/proc.ts'
import type { SccacheBinaries } from '../lib/tools/sccache-install.ts'
import { cleanEnv } from '../lib/tools/types.ts'
import { type DaemonProcess, startDaemon } from './daemon-process.ts'
import { countLines, type FarmTool, processCpu, waitUntil } from './farm-tool.ts'
import type { Farm, Host } from './netns.ts'

const schedulerPort = 10600
const serverPort = 10501

export interface SccacheDistTool extends FarmTool {
  /** Stops the servers, empties their toolchain caches and build dirs, starts them again. */
  restartBuildersFresh(opts?: { signal?: AbortSignal }): Promise<void>
  /** Toolchain files each server holds on disk, by builder name. */
  builderToolchains(): Promise<Map<string, number>>
  /** Bytes of the toolchain archives each server holds (as the client sent them). */
  builderToolchainBytes(): Promise<Map<string, number>>
  /** Bytes of the toolchain archives the client has packaged. */
  clientToolchainBytes(): Promise<number>
}

/** The counters of `sccache --show-stats --stats-format json` (its `stats` object). */
export async function sccacheStats(
  bin: string,
  env: NodeJS.ProcessEnv,
  exec: readonly string[] = [],
): Promise<Record<string, unknown>> {
  const argv = [...exec, bin, '--show-stats', '--stats-format', 'json']
  const r = await run(argv[0]!, argv.slice(1), { env })
  return (JSON.parse(r.stdout) as { stats: Record<string, unknown> }).stats
}

/** Sum of a `{ counts: { lang: n } }` or `{ server: n }` map in sccache's stats. */
export function statSum(v: unknown): number {
  if (typeof v === 'number') return v
  if (!v || typeof v !== 'object') return 0
  const o = v as Record<string, unknown>
  const counts = (o['counts'] ?? o) as Record<string, unknown>
  return Object.values(counts).reduce<number>((s, x) => s + (typeof x === 'number' ? x : 0), 0)
}

async function filesUnder(dir: string): Promise<{ n: number; bytes: number }> {
  let n = 0
  let bytes = 0
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = join(d, e.name)
      if (e.isDirectory()) await walk(p)
      else if (e.isFile()) {
        n++
        bytes += (await stat(p)).size
      }
    }
  }
  await walk(dir)
  return { n, bytes }
}

export async function startSccacheDist(
  farm: Farm,
  dir: string,
  bins: SccacheBinaries,
  { slotsPerBuilder, signal }: { slotsPerBuilder: number; signal?: AbortSignal },
): Promise<SccacheDistTool> {
  const sig = signal ? { signal } : {}
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  const sched = farm.builders[0]!
  const schedulerUrl = `http://${sched.ip}:${schedulerPort}`
  const clientToken = randomBytes(32).toString('hex')
  const serverKey = (await run(bins.dist, ['auth', 'generate-jwt-hs256-key'], sig)).stdout.trim()
  const daemonEnv = { ...cleanEnv(), SCCACHE_NO_DAEMON: '1', SCCACHE_LOG: 'info' }
  let scheduler: DaemonProcess | undefined
  const servers = new Map<string, DaemonProcess>()
  const serverLogs: string[] = []
  let clientDaemon: DaemonProcess | undefined
  // Unix socket paths are limited to 107 bytes: a short directory of its own.
  const sockDir = await mkdtemp(`/tmp/mdist-${farm.tag}-sccache-`)

  const stopAll = async () => {
    await clientDaemon?.stop()
    for (const d of servers.values()) await d.stop()
    servers.clear()
    await scheduler?.stop()
    await rm(sockDir, { recursive: true, force: true })
  }

  const schedConf = join(dir, 'scheduler.toml')
  await writeFile(
    schedConf,
    [
      `public_addr = "${sched.ip}:${schedulerPort}"`,
      '[client_auth]',
      'type = "token"',
      `token = "${clientToken}"`,
      '[server_auth]',
      'type = "jwt_hs256"',
      `secret_key = "${serverKey}"`,
      '',
    ].join('\n'),
  )
  const serverDir = (b: Host) => join(dir, `server-${b.name}`)
  async function startServer(b: Host, generation: number): Promise<DaemonProcess> {
    const base = serverDir(b)
    await rm(base, { recursive: true, force: true })
    await mkdir(join(base, 'toolchains'), { recursive: true })
    const token = (
      await run(
        bins.dist,
        [
          'auth',
          'generate-jwt-hs256-server-token',
          // One argument: a key that starts with '-' (base64url) would read as an option.
          `--secret-key=${serverKey}`,
          '--server',
          `${b.ip}:${serverPort}`,
        ],
        sig,
      )
    ).stdout.trim()
    const conf = join(base, 'server.toml')
    await writeFile(
      conf,
      [
        `cache_dir = "${join(base, 'toolchains')}"`,
        `public_addr = "${b.ip}:${serverPort}"`,
        `bind_address = "${b.ip}:${serverPort}"`,
        `scheduler_url = "${schedulerUrl}"`,
        '[builder]',
        'type = "overlay"',
        // The builder creates (and first deletes) this directory itself.
        `build_dir = "${join(base, 'build')}"`,
        'bwrap_path = "/usr/bin/bwrap"',
        '[scheduler_auth]',
        'type = "jwt_token"',
        `token = "${token}"`,
        '',
      ].join('\n'),
    )
    const log = join(dir, `server-${b.name}-${generation}.log`)
    serverLogs.push(log)
    return startDaemon(
      `sccache-dist-server@${b.name}`,
      [...b.exec, bins.dist, 'server', '--config', conf],
      {
        log,
        env: daemonEnv,
      },
    )
  }
  async function startServers(generation: number, s: { signal?: AbortSignal }): Promise<void> {
    for (const b of farm.builders) servers.set(b.name, await startServer(b, generation))
    for (const b of farm.builders) {
      const d = servers.get(b.name)!
      await waitUntil(
        `${d.name} to register with the scheduler`,
        async () => {
          if (!d.alive()) throw new Error(`${d.name} exited; see ${d.log}`)
          return (await countLines(d.log, /Server connected to scheduler/)) > 0
        },
        { timeoutMs: 30_000, ...s },
      )
    }
  }

  const clientDir = join(dir, 'client')
  const clientConf = join(clientDir, 'config.toml')
  const env: NodeJS.ProcessEnv = {
    ...cleanEnv(),
    SCCACHE_CONF: clientConf,
    SCCACHE_DIR: join(clientDir, 'cache'),
    SCCACHE_SERVER_UDS: join(sockDir, 'server.sock'),
    SCCACHE_IDLE_TIMEOUT: '0',
    SCCACHE_RECACHE: '1',
  }
  const schedulerLog = join(dir, 'scheduler.log')
  const completed = () => countLines(schedulerLog, /updated state to Complete/)
  const stats = () => sccacheStats(bins.sccache, env, farm.client.exec)
  const distOk = async () => statSum((await stats())['dist_compiles'])
  let generation = 0
  try {
    scheduler = startDaemon(
      'sccache-dist-scheduler',
      [...sched.exec, bins.dist, 'scheduler', '--config', schedConf],
      { log: schedulerLog, env: daemonEnv },
    )
    await waitUntil(
      'the sccache-dist scheduler to listen',
      async () => {
        if (!scheduler!.alive()) throw new Error(`the scheduler exited; see ${schedulerLog}`)
        return (await countLines(schedulerLog, /Scheduler listening for clients/)) > 0
      },
      { timeoutMs: 15_000, ...sig },
    )
    await startServers(generation, sig)

    await mkdir(join(clientDir, 'cache'), { recursive: true })
    await writeFile(
      clientConf,
      [
        '[dist]',
        `scheduler_url = "${schedulerUrl}"`,
        `cache_dir = "${join(clientDir, 'toolchains')}"`,
        'toolchains = []',
        '[dist.auth]',
        'type = "token"',
        `token = "${clientToken}"`,
        '',
      ].join('\n'),
    )
    // The client's local server, in the foreground so that it is ours to stop and to measure
    // (the client command would otherwise start a detached one on first use).
    clientDaemon = startDaemon('sccache@client', [...farm.client.exec, bins.sccache], {
      log: join(dir, 'client-server.log'),
      env: { ...env, SCCACHE_START_SERVER: '1', SCCACHE_NO_DAEMON: '1' },
    })
    // Wait for its socket: a client command that finds no server starts a detached one.
    await waitUntil(
      "the client's sccache server",
      async () => {
        if (!clientDaemon!.alive()) throw new Error(`the client's sccache server exited`)
        return existsSync(env['SCCACHE_SERVER_UDS']!)
      },
      { timeoutMs: 15_000, ...sig },
    )
    // Ready when compiles from the client ran on a server. They also package the toolchains,
    // out of the way of the measurements: sccache packs one per compiler driver, so gcc and g++
    // each get theirs (icecc-create-env packs both at once, before icecream's measurements).
    await writeFile(join(dir, 'probe.c'), 'int probe(int x) { return x + 1; }\n')
    await writeFile(join(dir, 'probe.cpp'), 'int probe(int x) { return x + 2; }\n')
    for (const [cc, src] of [
      ['gcc', 'probe.c'],
      ['g++', 'probe.cpp'],
    ] as const) {
      const probe = [...farm.client.exec, bins.sccache, cc, '-c', src, '-o', `${src}.o`]
      await run(probe[0]!, probe.slice(1), { cwd: dir, env, ...sig })
    }
    const n = Math.min(await completed(), await distOk())
    if (n < 2) {
      const s = await stats()
      throw new Error(
        `sccache-dist: the probe compiles did not run on a server (scheduler completed ${await completed()}, client dist_compiles ${JSON.stringify(s['dist_compiles'])}, dist_errors ${String(s['dist_errors'])})`,
      )
    }
  } catch (err) {
    await stopAll()
    throw err
  }
  return {
    name: 'sccache-dist',
    prefix: [bins.sccache],
    env,
    slots: slotsPerBuilder * farm.builders.length,
    clientDaemonCpu: async () => (clientDaemon ? processCpu(clientDaemon.pid) : 0),
    async remoteJobs() {
      return Math.min(await completed(), await distOk())
    },
    counters: stats,
    describe: () =>
      `sccache ${bins.version} (cargo install --locked --no-default-features --features dist-client,dist-server); scheduler on ${sched.name} (client token auth, servers JWT HS256), sccache-dist server (overlay builder, bubblewrap) on each builder (it advertises its cores and the scheduler assigns up to 2 jobs per core: no per-server job limit setting), client's sccache server with SCCACHE_RECACHE=1 and a fresh local cache; toolchain packaged by the client on first use`,
    async restartBuildersFresh(opts = {}) {
      for (const d of servers.values()) await d.stop()
      servers.clear()
      generation++
      await startServers(generation, opts.signal ? { signal: opts.signal } : sig).catch(
        async (err) => {
          await stopAll()
          throw err
        },
      )
    },
    async builderToolchains() {
      const out = new Map<string, number>()
      for (const b of farm.builders)
        out.set(b.name, (await filesUnder(join(serverDir(b), 'toolchains'))).n)
      return out
    },
    async builderToolchainBytes() {
      const out = new Map<string, number>()
      for (const b of farm.builders)
        out.set(b.name, (await filesUnder(join(serverDir(b), 'toolchains'))).bytes)
      return out
    },
    async clientToolchainBytes() {
      // Packaged archives live in the client's toolchain cache, under client/tc/.
      return (await filesUnder(join(clientDir, 'toolchains', 'client', 'tc'))).bytes
    },
    stop: stopAll,
  }
}
