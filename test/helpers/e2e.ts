/**
 * Helpers for the end-to-end tests: real compilers, the real native client (`bin/meshcc`) and a
 * real daemon, each test with its own `MESHCC_HOME` in a temporary directory.
 *
 * A test makes a node with `makeNode()`, runs compiles with `node.meshcc([...])` (or any command
 * with `run()`), reads counters with `node.stats()` and stops its daemon in `after` with
 * `node.stop()`, which stops it by the pid in its pid file and by nothing broader.
 *
 * The objects meshcc produces are always judged against the compiler run directly with the same
 * arguments in the same directory (`compareWithPlain`), never against a recorded result.
 *
 * @example
 * ```ts
 * const node = await makeNode('lang')
 * after(() => node.stop())
 * const r = await node.meshcc(['gcc', '-c', 'a.c', '-o', 'a.o'], { cwd })
 * ```
 */
import { spawn, spawnSync } from 'node:child_process'
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs'
import { mkdir, readFile, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const meshccBin = join(root, 'bin', 'meshcc')
export const examplesDir = join(root, 'examples')

/** Counters from `meshcc stats --json` that the tests read. */
export interface Stats {
  cache_hits: number
  cache_misses: number
  uncacheable: number
  local_compiles: number
  remote_compiles: number
  local_fallbacks: number
  corrupt_entries?: number
  [key: string]: unknown
}

export const counterNames = [
  'cache_hits',
  'cache_misses',
  'uncacheable',
  'local_compiles',
  'remote_compiles',
  'local_fallbacks',
] as const
export type Counter = (typeof counterNames)[number]

export interface RunResult {
  status: number | null
  signal: NodeJS.Signals | null
  stdout: Buffer
  stderr: Buffer
  ms: number
}

export interface RunOptions {
  cwd: string
  env?: NodeJS.ProcessEnv
  signal?: AbortSignal
}

/** Runs a command, capturing stdout and stderr as bytes. Never throws on a non-zero exit. */
export function run(cmd: string, args: string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now()
    const child = spawn(cmd, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (c: Buffer) => out.push(c))
    child.stderr.on('data', (c: Buffer) => err.push(c))
    child.on('error', reject)
    child.on('close', (status, signal) =>
      resolvePromise({
        status,
        signal,
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err),
        ms: performance.now() - t0,
      }),
    )
  })
}

/** Like `run`, but fails with the command's output when it exits non-zero. */
export async function mustRun(
  cmd: string,
  args: string[],
  options: RunOptions,
): Promise<RunResult> {
  const r = await run(cmd, args, options)
  if (r.status !== 0) {
    throw new Error(
      `${[cmd, ...args].join(' ')} (in ${options.cwd}) exited ${r.status ?? r.signal}\n` +
        `stdout: ${r.stdout.toString()}\nstderr: ${r.stderr.toString()}`,
    )
  }
  return r
}

/** True when `cmd` is on PATH. */
export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0
}

/** GCC's Objective-C (gobjc) or Objective-C++ (gobjc++) front end is installed. */
export function hasGccObjc(lang: 'objective-c' | 'objective-c++'): boolean {
  const prog = lang === 'objective-c' ? 'cc1obj' : 'cc1objplus'
  const out = spawnSync('gcc', [`-print-prog-name=${prog}`], { encoding: 'utf8' })
  return out.status === 0 && out.stdout.trim().startsWith('/') && existsSync(out.stdout.trim())
}

/** GCC's own include directory, where the GNU Objective-C runtime headers live (for clang). */
export function gccIncludeDir(): string {
  return spawnSync('gcc', ['-print-file-name=include'], { encoding: 'utf8' }).stdout.trim()
}

/** Why the e2e suite cannot run at all here, or undefined. */
export function missingPrerequisite(): string | undefined {
  if (!existsSync(meshccBin)) return `${meshccBin} is missing: run node scripts/build.mjs`
  if (!existsSync(join(root, 'dist'))) return 'dist/ is missing: run node scripts/build.mjs'
  if (!hasCommand('gcc')) return 'gcc is not installed'
  return undefined
}

/** A temporary directory removed by `cleanup()` (or left for inspection with MESHCC_KEEP_TMP=1). */
export function tempDir(label: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `meshcc-e2e-${label}-`))
  return {
    dir,
    cleanup: () => {
      if (process.env['MESHCC_KEEP_TMP'] !== '1') rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** The environment of a test node: the test's own, minus every MESHCC_* and CCACHE_* setting. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('MESHCC_') || k.startsWith('CCACHE_') || k === '_MESHCC_SAFEGUARD') continue
    env[k] = v
  }
  env['LC_ALL'] = 'C'
  return { ...env, ...extra }
}

export interface TestNode {
  /** The temporary directory holding the node's home and the test's work directories. */
  dir: string
  home: string
  /** Environment with MESHCC_HOME set; pass `extra` to `envWith` for more. */
  env: NodeJS.ProcessEnv
  envWith(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv
  /** Runs `bin/meshcc <args>` in `cwd` with this node's environment (plus `env` overrides). */
  meshcc(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<RunResult>
  /** `meshcc stats --json`, parsed. */
  stats(): Promise<Stats>
  /** Pid of the running daemon from its pid file, if any. */
  daemonPid(): number | undefined
  /** Stops the daemon (CLI first, then SIGTERM/SIGKILL by pid) and removes the temp dir. */
  stop(): Promise<void>
}

/** Makes a fresh node: a temp dir with `home/` as MESHCC_HOME. Starts nothing. */
export function makeNode(label: string): TestNode {
  const { dir, cleanup } = tempDir(label)
  const home = join(dir, 'home')
  const env = cleanEnv({ MESHCC_HOME: home })
  const pidFile = join(home, 'run', 'daemon.pid')
  const seenPids = new Set<number>()
  const daemonPid = (): number | undefined => {
    try {
      const pid = Number.parseInt(readFileSync(pidFile, 'utf8'), 10)
      if (Number.isSafeInteger(pid) && pid > 0) {
        seenPids.add(pid)
        return pid
      }
    } catch {
      // No daemon has written a pid file yet.
    }
    return undefined
  }
  const node: TestNode = {
    dir,
    home,
    env,
    envWith: (extra) => ({ ...env, ...extra }),
    meshcc: async (args, options) => {
      const r = await run(meshccBin, args, {
        cwd: options.cwd,
        env: options.env === undefined ? env : { ...env, ...options.env },
      })
      daemonPid()
      return r
    },
    stats: async () => {
      const r = await run(meshccBin, ['stats', '--json'], { cwd: dir, env })
      daemonPid()
      if (r.status !== 0) {
        throw new Error(`meshcc stats --json exited ${r.status}: ${r.stderr.toString()}`)
      }
      try {
        return JSON.parse(r.stdout.toString()) as Stats
      } catch (err) {
        throw new Error(`meshcc stats --json printed no JSON: ${r.stdout.toString()}`, {
          cause: err,
        })
      }
    },
    daemonPid,
    stop: async () => {
      daemonPid()
      if (existsSync(home)) {
        await run(meshccBin, ['daemon', 'stop'], { cwd: dir, env }).catch(() => undefined)
      }
      // Only the daemons this node's pid file named: never anything found by name.
      for (const pid of seenPids) await killAndWait(pid)
      cleanup()
    },
  }
  return node
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    if (existsSync(`/proc/${pid}/stat`)) {
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return false
    }
    return true
  } catch {
    return false
  }
}

/** Whether `pid` still runs a meshcc daemon (guards against a recycled pid). */
function isOurDaemon(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes('daemon')
  } catch {
    return false
  }
}

/** SIGTERM, then SIGKILL after 3 s, a daemon pid this test started. */
export async function killAndWait(pid: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!alive(pid) || !isOurDaemon(pid)) return
  try {
    process.kill(pid, signal)
  } catch {
    return
  }
  for (let i = 0; i < 150 && alive(pid); i++) await sleep(20)
  if (alive(pid) && isOurDaemon(pid)) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      return
    }
    for (let i = 0; i < 100 && alive(pid); i++) await sleep(20)
  }
}

/** Waits until `pid` has exited (after a SIGKILL the test sent). */
export async function waitGone(pid: number, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (alive(pid)) {
    if (Date.now() > deadline) return false
    await sleep(20)
  }
  return true
}

/** Counter deltas between two snapshots, for the six counters the issue names. */
export function delta(before: Stats, after: Stats): Record<Counter, number> {
  const out = {} as Record<Counter, number>
  for (const k of counterNames) out[k] = Number(after[k] ?? 0) - Number(before[k] ?? 0)
  return out
}

/** Copies `examples/<name>` into `dest` (created). */
export function copyExample(name: string, dest: string): string {
  cpSync(join(examplesDir, name), dest, { recursive: true })
  return dest
}

/**
 * Makes a masquerade directory: `gcc g++ cc c++ clang clang++` → bin/meshcc.
 * Returns its path; put it first on PATH.
 */
export async function makeMasqueradeDir(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true })
  for (const name of ['gcc', 'g++', 'cc', 'c++', 'clang', 'clang++']) {
    await symlink(meshccBin, join(dir, name))
  }
  return dir
}

export interface PlainComparison {
  /** The plain compile's own run (status, stdout, stderr). */
  plainRun: RunResult
  /** Per output path: true when meshcc's bytes equal the plain compile's. */
  equal: Map<string, boolean>
  /** True when every output is byte-identical. */
  allEqual: boolean
  /** Outputs that differ, for assertion messages. */
  differing: string[]
}

/**
 * Reads `outputs` (relative to cwd) as meshcc left them, deletes them, runs the real compiler with
 * the same arguments in the same directory, and compares each output byte for byte. The plain
 * compile's files are left in place afterwards.
 */
export async function compareWithPlain(
  compiler: string,
  args: string[],
  cwd: string,
  outputs: string[],
  env: NodeJS.ProcessEnv = cleanEnv(),
): Promise<PlainComparison> {
  const via = new Map<string, Buffer>()
  for (const o of outputs) {
    via.set(o, await readFile(join(cwd, o)))
    await rm(join(cwd, o))
  }
  const plainEnv = { ...env }
  delete plainEnv['MESHCC_HOME']
  const plainRun = await mustRun(compiler, args, { cwd, env: plainEnv })
  const equal = new Map<string, boolean>()
  for (const o of outputs) equal.set(o, via.get(o)!.equals(await readFile(join(cwd, o))))
  const differing = outputs.filter((o) => !equal.get(o))
  return { plainRun, equal, allEqual: differing.length === 0, differing }
}

/** Every regular file under `dir`, recursively (relative paths), sorted. */
export function listFiles(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return []
  const out: string[] = []
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix === '' ? e.name : `${prefix}/${e.name}`
    if (e.isDirectory()) out.push(...listFiles(join(dir, e.name), rel))
    else if (e.isFile()) out.push(rel)
  }
  return out.sort()
}

/** Object files (`*.o`) under `dir` with their bytes. */
export function objectFiles(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>()
  for (const f of listFiles(dir)) {
    if (f.endsWith('.o') || f.endsWith('.obj')) out.set(f, readFileSync(join(dir, f)))
  }
  return out
}

/** Size of a file, or -1. */
export function fileSize(path: string): number {
  try {
    return statSync(path).size
  } catch {
    return -1
  }
}

/** Polls `fn` until it returns true or `timeoutMs` passes. */
export async function eventually(
  fn: () => Promise<boolean> | boolean,
  timeoutMs = 5000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await fn()) return true
    if (Date.now() > deadline) return false
    await sleep(50)
  }
}
