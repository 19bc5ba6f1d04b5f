/**
 * Small shared helpers for tests that drive the native client (`bin/meshcc`) and daemons:
 * a temporary `MESHCC_HOME` per test, running a command with captured bytes, and stopping a
 * daemon by the pid in its pid file (never by name).
 *
 * @example
 * ```ts
 * const h = await makeHome()
 * after(() => h.cleanup())          // stops the daemon of this home, removes the directory
 * const r = await runCommand(meshccBin, ['gcc', '-c', 'a.c'], { cwd: h.dir, env: h.env })
 * ```
 */
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const meshccBin = join(repoRoot, 'bin', 'meshcc')
/** The project's Node 24 (what the native client runs the daemon and CLI with). */
export const nodeBin = join(repoRoot, 'node_modules', 'node', 'bin', 'node')

export interface TestHome {
  /** Scratch directory for sources and objects (the home is `<dir>/home`). */
  dir: string
  home: string
  /** The test process's environment without meshcc variables, plus MESHCC_HOME. */
  env: NodeJS.ProcessEnv
  /** Stops this home's daemon (if any) and removes the directory. */
  cleanup(): Promise<void>
}

/** A fresh MESHCC_HOME under /tmp (short paths: unix socket paths are limited to 107 bytes). */
export async function makeHome(prefix = 'meshcc-t-'): Promise<TestHome> {
  const dir = await mkdtemp(join('/tmp', prefix))
  const home = join(dir, 'home')
  const env: NodeJS.ProcessEnv = { ...process.env, MESHCC_HOME: home }
  for (const k of Object.keys(env)) {
    if (k.startsWith('MESHCC_') && k !== 'MESHCC_HOME') delete env[k]
    if (k === '_MESHCC_SAFEGUARD' || k.startsWith('CCACHE_')) delete env[k]
  }
  return {
    dir,
    home,
    env,
    cleanup: async () => {
      await stopDaemon(home)
      await rm(dir, { recursive: true, force: true })
    },
  }
}

export interface CommandResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: Buffer
  stderr: Buffer
  ms: number
}

/** Runs a command with captured stdout/stderr bytes; never throws on a non-zero exit. */
export function runCommand(
  cmd: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; argv0?: string; timeoutMs?: number },
): Promise<CommandResult> {
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now()
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 60_000,
      ...(opts.argv0 === undefined ? {} : { argv0: opts.argv0 }),
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.on('error', reject)
    child.on('close', (code, signal) =>
      resolvePromise({
        code,
        signal,
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err),
        ms: performance.now() - t0,
      }),
    )
  })
}

/** The pid in `<home>/run/daemon.pid`, if any. */
export async function daemonPid(home: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await readFile(join(home, 'run', 'daemon.pid'), 'utf8'), 10)
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

/** Whether `pid` runs. A zombie does not: it exited, and its parent (init, for a detached
 * daemon; some sandboxes' init never reaps) has not collected it. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    return stat[stat.lastIndexOf(')') + 2] !== 'Z'
  } catch {
    return false
  }
}

/** Polls `check` every 20 ms until it returns a value other than undefined/false. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  timeoutMs = 10_000,
): Promise<Exclude<T, undefined | false>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await check()
    if (v !== undefined && v !== false) return v as Exclude<T, undefined | false>
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await sleep(20)
  }
}

/**
 * Stops the daemon of `home` by the pid in its pid file: SIGTERM, then SIGKILL after 10 s.
 * Only that pid is signalled, and only if its command line is a meshcc daemon's.
 */
export async function stopDaemon(home: string): Promise<void> {
  const pid = await daemonPid(home)
  if (pid === undefined || !isAlive(pid)) return
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'latin1').catch(() => '')
  if (!/daemon|fake-daemon/.test(cmdline)) return
  process.kill(pid, 'SIGTERM')
  try {
    await waitFor(() => !isAlive(pid), 10_000)
  } catch {
    process.kill(pid, 'SIGKILL')
  }
}

/**
 * A `MESHCC_NODE` stand-in that runs the Node CLI as usual but, when the native client starts
 * `dist/daemon/main.js`, runs `test/helpers/fake-daemon.ts <mode>` instead: tests of the client's
 * spawn, detach and fallback paths then need no real compile pipeline.
 * Returns the environment to use (the home's env with MESHCC_NODE set).
 */
export async function withFakeDaemonNode(h: TestHome, mode: string): Promise<NodeJS.ProcessEnv> {
  const shim = join(h.dir, 'node-shim')
  const fake = join(repoRoot, 'test', 'helpers', 'fake-daemon.ts')
  await writeFile(
    shim,
    // The daemon's entry comes after its Node flags (src/daemon/node-flags.ts): match the last.
    `#!/bin/sh\nfor last; do :; done\ncase "$last" in\n  */dist/daemon/main.js) exec '${nodeBin}' '${fake}' '${mode}' ;;\nesac\nexec '${nodeBin}' "$@"\n`,
    { mode: 0o755 },
  )
  return { ...h.env, MESHCC_NODE: shim }
}

/** Starts `fake-daemon.ts <mode>` for `env.MESHCC_HOME` and waits until its socket answers. */
export async function startFakeDaemon(env: NodeJS.ProcessEnv, mode: string): Promise<number> {
  const home = env['MESHCC_HOME']!
  const child = spawn(nodeBin, [join(repoRoot, 'test', 'helpers', 'fake-daemon.ts'), mode], {
    env,
    stdio: 'ignore',
    detached: true,
  })
  child.unref()
  await waitFor(
    async () =>
      (await daemonPid(home)) === child.pid && existsSync(join(home, 'run', 'daemon.sock')),
  )
  return child.pid!
}
