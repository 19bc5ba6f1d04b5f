/**
 * meshcc on the benchmark's namespaces: one daemon per host, each with its own `MESHCC_HOME`,
 * joined into one organisation the way a team would (`meshcc join` on the client makes the
 * organisation, `meshcc org invite`, `meshcc join --invite` on the builders), listening on the
 * host's own address, mDNS off. The client compiles with `MESHCC_MODE=remote` (every
 * distributable compile goes to a builder) and `MESHCC_RECACHE=1` (every compile really runs:
 * distcc and icecream have no cache, so neither may meshcc here).
 *
 * Builders start without any toolchain: the client packages its compiler on first use and
 * the builders pull it from the members that hold it.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { run } from '../lib/proc.ts'
import { cleanEnv } from '../lib/tools/types.ts'
import { type FarmTool, processCpu, waitUntil } from './farm-tool.ts'
import type { Farm, Host } from './netns.ts'

interface Member {
  host: Host
  dir: string
  home: string
  env: NodeJS.ProcessEnv
  peerId: string
}

export interface MeshccFarm extends FarmTool {
  bin: string
  client: Member
  builders(): readonly Member[]
  /** Builders leave (daemons stopped, homes deleted); fresh ones join with empty stores. */
  replaceBuilders(opts?: { signal?: AbortSignal }): Promise<void>
  /** Toolchains each builder holds, by builder name. */
  builderToolchains(): Promise<Map<string, number>>
  stats(): Promise<Record<string, unknown>>
  /** Bytes (uncompressed files) of the toolchains the client holds. */
  clientToolchainBytes(): Promise<number>
}

async function daemonPid(home: string): Promise<number | undefined> {
  const n = Number.parseInt(
    await readFile(join(home, 'run', 'daemon.pid'), 'utf8').catch(() => ''),
    10,
  )
  return Number.isSafeInteger(n) && n > 0 ? n : undefined
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

export async function startMeshccFarm(
  farm: Farm,
  root: string,
  { signal, log }: { signal?: AbortSignal; log(s: string): void },
): Promise<MeshccFarm> {
  const sig = signal ? { signal } : {}
  const bin = join(root, 'bin', 'meshcc')
  const members: Member[] = []
  let builders: Member[] = []

  const cli = (
    m: { host: Host; env: NodeJS.ProcessEnv; dir: string },
    args: string[],
    allowFailure = false,
  ) =>
    run(m.host.exec[0]!, [...m.host.exec.slice(1), bin, ...args], {
      cwd: m.dir,
      env: m.env,
      allowFailure,
      ...sig,
    })

  async function join1(host: Host, invite?: string): Promise<Member> {
    // Short paths under /tmp: unix socket paths are limited to 107 bytes.
    const dir = await mkdtemp(`/tmp/mdist-${farm.tag}-${host.name}-`)
    const home = join(dir, 'home')
    const env = { ...cleanEnv(), ...daemonEnvOverrides(), MESHCC_HOME: home }
    const m = { host, dir, home, env, peerId: '' }
    members.push(m)
    const args = ['join', '--listen', `/ip4/${host.ip}/tcp/0`, '--no-mdns', '--json']
    if (invite) args.push('--invite', invite)
    const r = await cli(m, args)
    m.peerId = (JSON.parse(r.stdout) as { peerId: string }).peerId
    return m
  }

  async function stopMember(m: Member): Promise<void> {
    const pid = await daemonPid(m.home)
    await cli(m, ['daemon', 'stop'], true).catch(() => {})
    if (pid !== undefined) {
      for (let i = 0; i < 50 && alive(pid); i++) await sleep(100)
      const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')
      // Only the daemon of this member's own home.
      if (alive(pid) && cmd.includes('node')) process.kill(pid, 'SIGKILL')
    }
    await rm(m.dir, { recursive: true, force: true })
    members.splice(members.indexOf(m), 1)
  }

  async function seesAll(m: Member, others: readonly Member[]): Promise<boolean> {
    const r = await cli(m, ['peers', '--json'], true)
    if (r.code !== 0) return false
    const s = JSON.parse(r.stdout) as {
      peers: { peerId: string; connected: boolean; cores: number | null }[]
    }
    return others.every((o) =>
      s.peers.some((p) => p.peerId === o.peerId && p.connected && p.cores !== null),
    )
  }

  async function addBuilders(client: Member): Promise<void> {
    const invite = (
      await cli(client, ['org', 'invite', '--uses', String(farm.builders.length)])
    ).stdout.trim()
    builders = []
    for (const h of farm.builders) builders.push(await join1(h, invite))
    const all = [client, ...builders]
    for (const m of all) {
      await waitUntil(
        `${m.host.name} to see every member`,
        () =>
          seesAll(
            m,
            all.filter((o) => o !== m),
          ),
        {
          timeoutMs: 60_000,
          ...sig,
        },
      )
    }
  }

  let client: Member
  try {
    client = await join1(farm.client)
    await addBuilders(client)
  } catch (err) {
    for (const m of [...members]) await stopMember(m)
    throw err
  }
  log(`meshcc: 3 members joined (${members.map((m) => m.host.name).join(', ')})`)
  const env = { ...client.env, MESHCC_MODE: 'remote', MESHCC_RECACHE: '1' }
  const stats = async () =>
    JSON.parse((await cli(client, ['stats', '--json'])).stdout) as Record<string, unknown>
  const head = await run('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, allowFailure: true })
  return {
    name: 'meshcc',
    bin,
    client,
    builders: () => builders,
    prefix: [bin],
    env,
    slots: 2 * farm.builders.length,
    async clientDaemonCpu() {
      const pid = await daemonPid(client.home)
      return pid === undefined ? 0 : processCpu(pid)
    },
    async remoteJobs() {
      const s = await stats()
      return typeof s['remote_compiles'] === 'number' ? s['remote_compiles'] : 0
    },
    stats,
    counters: stats,
    describe: () =>
      `bin/meshcc (native client) + daemons at ${head.stdout.trim() || 'unknown revision'} (working tree); 3 members joined by invitation, mDNS off; client MESHCC_MODE=remote MESHCC_RECACHE=1; builders' slots = their cores`,
    async replaceBuilders(opts = {}) {
      for (const b of [...builders]) await stopMember(b)
      void opts
      await addBuilders(client)
    },
    async builderToolchains() {
      const out = new Map<string, number>()
      for (const b of builders) {
        const r = await run(bin, ['toolchain', 'list', '--json'], {
          env: b.env,
          allowFailure: true,
        })
        out.set(b.host.name, r.code === 0 ? (JSON.parse(r.stdout) as unknown[]).length : -1)
      }
      return out
    },
    async clientToolchainBytes() {
      const r = await run(bin, ['toolchain', 'list', '--json'], {
        env: client.env,
        allowFailure: true,
      })
      if (r.code !== 0) return Number.NaN
      return (JSON.parse(r.stdout) as { bytes?: number }[]).reduce((a, t) => a + (t.bytes ?? 0), 0)
    },
    async stop() {
      for (const m of [...members]) await stopMember(m)
    },
  }
}

/**
 * `MESHCC_BENCH_DAEMON_ENV="K=V,K2=V2"`: variables every meshcc member of the farm gets (the
 * tools' own variables are otherwise dropped), to compare a setting side by side, e.g.
 * `MESHCC_EARLY_START=0`.
 */
function daemonEnvOverrides(): Record<string, string> {
  const out: Record<string, string> = {}
  for (const pair of (process.env['MESHCC_BENCH_DAEMON_ENV'] ?? '').split(',')) {
    const at = pair.indexOf('=')
    if (at > 0) out[pair.slice(0, at).trim()] = pair.slice(at + 1)
  }
  return out
}
