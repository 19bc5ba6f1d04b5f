/**
 * icecream as Debian ships it: `icecc-scheduler` on the first builder (one scheduler, named with
 * `-s` so nobody has to win an election), `iceccd` on every host. The client's own iceccd runs
 * with `--no-remote -m 0`, so the scheduler places every job on a builder, as `MESHCC_MODE=remote`
 * does for meshcc. Each daemon has its own socket (`ICECC_TEST_SOCKET`, which both daemon and
 * client honour; the default `/var/run/icecc/iceccd.socket` would be shared across namespaces)
 * and its own environment directory, owned by Debian's `icecc` user that iceccd switches to.
 *
 * The client's iceccd packs the native gcc toolchain (icecc-create-env) on first use and uploads
 * it to each builder the first time that builder gets a job from it.
 */
import { chown, mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { run } from '../lib/proc.ts'
import { cleanEnv } from '../lib/tools/types.ts'
import { type DaemonProcess, startDaemon } from './daemon-process.ts'
import { countLines, type FarmTool, processCpu, waitUntil } from './farm-tool.ts'
import type { Farm, Host } from './netns.ts'

export interface IceccTool extends FarmTool {
  /** Stops the builders' iceccd, empties their toolchain caches, starts them again. */
  restartBuildersFresh(opts?: { signal?: AbortSignal }): Promise<void>
}

function probeCommand(client: Host, dir: string): [string, string[]] {
  const argv = [...client.exec, 'icecc', 'gcc', '-c', 'probe.c', '-o', join(dir, 'probe.o')]
  return [argv[0]!, argv.slice(1)]
}

async function iceccIds(): Promise<{ uid: number; gid: number }> {
  const uid = Number((await run('id', ['-u', 'icecc'])).stdout.trim())
  const gid = Number((await run('id', ['-g', 'icecc'])).stdout.trim())
  return { uid, gid }
}

export async function startIcecc(
  farm: Farm,
  dir: string,
  { slotsPerBuilder, signal }: { slotsPerBuilder: number; signal?: AbortSignal },
): Promise<IceccTool> {
  const sig = signal ? { signal } : {}
  const { uid, gid } = await iceccIds()
  const net = `mdist${farm.tag}`
  const sched = farm.builders[0]!
  await mkdir(dir, { recursive: true })
  // Sockets are made after iceccd drops to the icecc user.
  await chown(dir, uid, gid)
  const version = (await run('icecc', ['--version'], { allowFailure: true })).stdout.split('\n')[0]
  const logs = new Map<string, number>()
  let scheduler: DaemonProcess | undefined
  const daemons = new Map<string, DaemonProcess>()

  async function startIceccd(h: Host, client: boolean, generation: number): Promise<DaemonProcess> {
    const envDir = join(dir, `env-${h.name}`)
    await rm(envDir, { recursive: true, force: true })
    await mkdir(envDir, { recursive: true })
    await chown(envDir, uid, gid)
    const log = join(dir, `iceccd-${h.name}-${generation}.log`)
    const argv = [
      ...h.exec,
      'env',
      `ICECC_TEST_SOCKET=${join(dir, `${h.name}.sock`)}`,
      'iceccd',
      '-n',
      net,
      '-s',
      sched.ip,
      '-b',
      envDir,
      '-N',
      h.name,
      // -vv: builders log every job they compile (the client's iceccd keeps the default level).
      ...(client ? ['--no-remote', '-m', '0'] : ['-m', String(slotsPerBuilder), '-vv']),
    ]
    const d = startDaemon(`iceccd@${h.name}`, argv, { log })
    logs.set(log, 0)
    return d
  }

  const connected = (d: DaemonProcess) => async () =>
    (await countLines(d.log, /Connected to scheduler/)) > 0

  async function startBuilders(generation: number, signal?: AbortSignal): Promise<void> {
    const sig = signal ? { signal } : {}
    for (const b of farm.builders) daemons.set(b.name, await startIceccd(b, false, generation))
    for (const b of farm.builders) {
      await waitUntil(`iceccd@${b.name} to reach the scheduler`, connected(daemons.get(b.name)!), {
        timeoutMs: 30_000,
        ...sig,
      })
    }
  }

  const stopAll = async () => {
    for (const d of daemons.values()) await d.stop()
    daemons.clear()
    await scheduler?.stop()
  }
  let generation = 0
  try {
    scheduler = startDaemon(
      'icecc-scheduler',
      [...sched.exec, 'icecc-scheduler', '-n', net, '-p', '8765'],
      { log: join(dir, 'scheduler.log') },
    )
    daemons.set(farm.client.name, await startIceccd(farm.client, true, 0))
    await startBuilders(generation)
    // Ready when a compile from the client lands on a builder: the client's iceccd logs little
    // at the verbosity it runs with, and while it has no scheduler icecc compiles locally. The
    // first remote job also packs the toolchain, out of the way of the measurements.
    await writeFile(join(dir, 'probe.c'), 'int probe(int x) { return x + 1; }\n')
    const env = { ...cleanEnv(), ICECC_TEST_SOCKET: join(dir, `${farm.client.name}.sock`) }
    const remote = async () => {
      let n = 0
      for (const log of logs.keys()) n += await countLines(log, /Remote compilation completed/)
      return n
    }
    await waitUntil(
      'a first icecc job from the client to reach a builder',
      async () => {
        await run(...probeCommand(farm.client, dir), { cwd: dir, env, ...sig })
        return (await remote()) > 0
      },
      { timeoutMs: 60_000, ...sig },
    )
  } catch (err) {
    await stopAll()
    throw err
  }
  const clientDaemon = () => daemons.get(farm.client.name)!
  return {
    name: 'icecc',
    prefix: ['icecc'],
    env: { ...cleanEnv(), ICECC_TEST_SOCKET: join(dir, `${farm.client.name}.sock`) },
    slots: slotsPerBuilder * farm.builders.length,
    clientDaemonCpu: async () => processCpu(clientDaemon().pid),
    async remoteJobs() {
      let n = 0
      // Every builder log ever written (restarts start new ones).
      for (const log of logs.keys()) n += await countLines(log, /Remote compilation completed/)
      return n
    },
    describe: () =>
      `${version}; icecc-scheduler on ${sched.name}; iceccd -m ${slotsPerBuilder} on each builder, client iceccd --no-remote -m 0; toolchain packed by the client's iceccd (icecc-create-env) on first use`,
    async restartBuildersFresh(opts = {}) {
      for (const b of farm.builders) await daemons.get(b.name)?.stop()
      generation++
      for (const b of farm.builders) daemons.delete(b.name)
      await startBuilders(generation, opts.signal ?? signal).catch(async (err) => {
        await stopAll()
        throw err
      })
    },
    stop: stopAll,
  }
}
