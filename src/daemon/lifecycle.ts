/**
 * Process lifecycle of the node daemon: the one-daemon-per-home lock, the pid file, and waiting
 * for a daemon process to go away.
 *
 * The lock is a listening socket in Linux's abstract namespace, named after the uid and a hash of
 * `MESHCC_HOME`. The kernel releases it when the process dies, however it dies, so a crashed
 * daemon never leaves a stale lock behind (a lock *file* would need flock, which Node lacks).
 * Other systems fall back to a socket file next to the daemon socket.
 *
 * @example
 * ```ts
 * const lock = await acquireInstanceLock(paths) // throws DaemonAlreadyRunningError
 * await writePidFile(paths)
 * ```
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { connect, createServer, type Server } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { NodePaths } from '../config/paths.ts'
import { DaemonAlreadyRunningError } from '../errors.ts'

/** The abstract socket name that serves as this home's instance lock. */
export function instanceLockName(paths: NodePaths): string {
  const digest = createHash('sha256').update(paths.home).digest('hex').slice(0, 24)
  const uid = process.getuid?.() ?? 0
  return process.platform === 'linux' ? `\0meshcc-${uid}-${digest}` : paths.lockFile
}

/** Takes the instance lock; resolves with the server holding it (close it to release). */
export async function acquireInstanceLock(paths: NodePaths): Promise<Server> {
  const server = createServer((s) => s.destroy())
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        reject(new DaemonAlreadyRunningError(`a daemon already runs for ${paths.home}`))
      } else reject(err)
    })
    server.listen({ path: instanceLockName(paths) }, () => resolve())
  })
  server.unref()
  return server
}

/**
 * Takes the instance lock, waiting up to `waitMs` while its owner is on its way out (it holds
 * the lock but no longer listens: an idle or requested stop in progress). An owner that still
 * listens means a healthy daemon: `DaemonAlreadyRunningError` at once.
 */
export async function acquireInstanceLockPatiently(
  paths: NodePaths,
  waitMs: number,
): Promise<Server> {
  const deadline = Date.now() + waitMs
  for (;;) {
    try {
      return await acquireInstanceLock(paths)
    } catch (err) {
      if (!(err instanceof DaemonAlreadyRunningError) || Date.now() >= deadline) throw err
      if (await isListening(paths.socket)) throw err
      await sleep(100)
    }
  }
}

function isListening(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path)
    s.on('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.on('error', () => resolve(false))
  })
}

export async function writePidFile(paths: NodePaths): Promise<void> {
  await writeFile(paths.pidFile, `${process.pid}\n`, { mode: 0o600 })
}

/** Removes the pid file if it still names this process (a successor may have replaced it). */
export async function removePidFile(paths: NodePaths): Promise<void> {
  if ((await readPidFile(paths)) === process.pid) await rm(paths.pidFile, { force: true })
}

export async function readPidFile(paths: NodePaths): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await readFile(paths.pidFile, 'utf8'), 10)
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Whether `pid` looks like a meshcc daemon (its command line runs `daemon/main`), so that a stale
 * pid file naming a recycled pid never gets an unrelated process signalled.
 */
export function isDaemonProcess(pid: number): boolean {
  if (process.platform !== 'linux') return isProcessAlive(pid)
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes('daemon/main.')
  } catch {
    return false
  }
}

/** Polls until `pid` has exited; resolves false if it is still alive after `timeoutMs`. */
export async function waitForExit(
  pid: number,
  timeoutMs: number,
  { signal }: { signal?: AbortSignal } = {},
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (isProcessAlive(pid) && !isZombie(pid)) {
    if (Date.now() >= deadline) return false
    signal?.throwIfAborted()
    await sleep(25)
  }
  return true
}

/** A zombie has exited and only waits for its parent to reap it (tests spawn daemons as children). */
function isZombie(pid: number): boolean {
  if (process.platform !== 'linux') return false
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')
  } catch {
    return false
  }
}
