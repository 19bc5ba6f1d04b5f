/**
 * A long-running process the benchmark starts inside one of its namespaces (distccd, iceccd, the
 * icecream scheduler, a meshcc daemon): in its own process group, its output appended to a log
 * file, stopped by its own pid and process group only — never by name, since other people's
 * daemons may run on the same machine.
 */
import { spawn } from 'node:child_process'
import { openSync, closeSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'

export interface DaemonProcess {
  readonly name: string
  readonly pid: number
  readonly log: string
  alive(): boolean
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>
}

/** Every daemon started and not yet stopped: the runner's last line of defence. */
const running = new Set<DaemonProcess>()

export function startDaemon(
  name: string,
  argv: readonly string[],
  { log, env, cwd }: { log: string; env?: NodeJS.ProcessEnv; cwd?: string },
): DaemonProcess {
  const fd = openSync(log, 'a')
  const child = spawn(argv[0]!, argv.slice(1), {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: env ?? process.env,
    ...(cwd ? { cwd } : {}),
  })
  closeSync(fd)
  const pid = child.pid
  if (pid === undefined) throw new Error(`cannot start ${name}: ${argv.join(' ')}`)
  let exited = false
  child.on('exit', () => {
    exited = true
  })
  child.on('error', () => {
    exited = true
  })
  const signalGroup = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig)
    } catch {
      // the group is gone
    }
  }
  const d: DaemonProcess = {
    name,
    pid,
    log,
    alive: () => !exited,
    async stop(graceMs = 5000) {
      running.delete(d)
      if (!exited) {
        signalGroup('SIGTERM')
        for (let t = 0; t < graceMs && !exited; t += 50) await sleep(50)
      }
      // Forked workers that outlive the leader are still in its group: wait for the group to
      // empty, then kill whatever is left of it.
      const groupAlive = () => {
        try {
          process.kill(-pid, 0)
          return true
        } catch {
          return false
        }
      }
      for (let t = 0; t < 3000 && groupAlive(); t += 50) await sleep(50)
      signalGroup('SIGKILL')
      for (let t = 0; t < 2000 && (!exited || groupAlive()); t += 50) await sleep(50)
    },
  }
  running.add(d)
  return d
}

/** Stops every daemon still running (used on exit paths). */
export async function stopAllDaemons(): Promise<void> {
  await Promise.all([...running].map((d) => d.stop(2000)))
}
