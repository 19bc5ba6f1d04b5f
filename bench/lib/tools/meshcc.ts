/**
 * meshcc in local-only mode (`MESHCC_MODE=local`): the package's own `bin/meshcc` (the native
 * client) with a fresh `MESHCC_HOME` per session. The daemon starts on demand with the first compile, as it would for a
 * user; `close()` stops it (`meshcc daemon stop`, then the pid in run/daemon.pid if it lingers)
 * and deletes the home.
 *
 * The daemon is detached, so neither it nor the compilers it runs appear in the rusage of the
 * build that used it. `outsideCpu()` reads their CPU from /proc/<pid>/stat (utime + stime of the
 * daemon plus cutime + cstime of the children it has reaped), so CPU figures stay honest.
 */
import { readFile, rm, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { run } from '../proc.ts'
import { cleanEnv, type Counters, type ToolSession } from './types.ts'

export interface MeshccOptions {
  /** The repository root (holds bin/meshcc). */
  root: string
  /** Directory to create MESHCC_HOME in (deleted on close). */
  dir: string
  label?: string
}

const ticks = 100 // CLK_TCK on Linux; /proc/<pid>/stat counts in these.

async function readPid(home: string): Promise<number | undefined> {
  const text = await readFile(join(home, 'run', 'daemon.pid'), 'utf8').catch(() => '')
  const pid = Number.parseInt(text, 10)
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined
}

/** CPU seconds of a live process and its reaped children, or undefined if it is gone. */
export async function processTreeCpu(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined)
  if (!stat) return undefined
  // Fields after the ")" closing the command name: state is field 3, utime is field 14.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const [ut, st, cut, cst] = [f[11], f[12], f[13], f[14]].map(Number)
  return ((ut ?? 0) + (st ?? 0) + (cut ?? 0) + (cst ?? 0)) / ticks
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function isNode(pid: number): Promise<boolean> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')
  return /node/.test(cmdline)
}

export async function openMeshcc(opts: MeshccOptions): Promise<ToolSession> {
  await rm(opts.dir, { recursive: true, force: true })
  const home = join(opts.dir, 'home')
  await mkdir(home, { recursive: true })
  const bin = join(opts.root, 'bin', 'meshcc')
  // Local-only mode: a fresh home has not joined a mesh anyway; MESHCC_MODE=local says so.
  const env = { ...cleanEnv(), MESHCC_HOME: home, MESHCC_MODE: 'local' }
  // A daemon restart inside a session would reset its counters: remember the last reading of
  // every daemon pid seen, and add them up.
  const lastCpu = new Map<number, number>()

  async function outsideCpu(): Promise<number> {
    const pid = await readPid(home)
    if (pid !== undefined) {
      const cpu = await processTreeCpu(pid)
      if (cpu !== undefined) lastCpu.set(pid, cpu)
    }
    let sum = 0
    for (const v of lastCpu.values()) sum += v
    return sum
  }

  return {
    tool: 'meshcc',
    label: opts.label ?? 'meshcc',
    env,
    prefix: [bin],
    outsideCpu,
    async counters(): Promise<Counters> {
      const r = await run(bin, ['stats', '--json'], { env })
      const raw = JSON.parse(r.stdout) as Record<string, unknown>
      const n = (k: string) => (typeof raw[k] === 'number' ? (raw[k] as number) : 0)
      // The client notes a fallback in run/fallbacks.log when it cannot reach the daemon; the
      // counter only includes it once the daemon has read the file, so trust whichever is higher.
      const log = await readFile(join(home, 'run', 'fallbacks.log'), 'utf8').catch(() => '')
      const logged = log.split('\n').filter((l) => l.trim()).length
      raw['fallback_log_lines'] = logged
      return {
        hits: n('cache_hits'),
        misses: n('cache_misses'),
        uncacheable: n('uncacheable'),
        fallbacks: Math.max(n('local_fallbacks'), logged),
        raw,
      }
    },
    async close(): Promise<void> {
      const pid = await readPid(home)
      await run(bin, ['daemon', 'stop'], { env, allowFailure: true })
      if (pid !== undefined) {
        for (let i = 0; i < 50 && alive(pid); i++) await sleep(100)
        // Only the daemon this session started: its pid file lives in our own home.
        if (alive(pid) && (await isNode(pid))) process.kill(pid, 'SIGKILL')
      }
      await rm(opts.dir, { recursive: true, force: true })
    },
  }
}
