/**
 * Child processes for the benchmark: run a command to completion (output captured), or run one
 * under GNU time to learn the wall time and the CPU seconds of its whole process tree.
 *
 * CPU comes from `/usr/bin/time`, i.e. the rusage `wait4` returns for the command, which covers
 * every descendant that was waited for (make → gcc → cc1/as). Work done by a process outside that
 * tree (meshcc's detached daemon) is not in it: the tool adapters add it (see tools/meshcc.ts).
 */
import { spawn } from 'node:child_process'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'

export interface RunOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  signal?: AbortSignal
  /** Do not throw on a non-zero exit. */
  allowFailure?: boolean
  /** Pass the child's output through instead of capturing it. */
  inherit?: boolean
}

export interface RunResult {
  code: number
  stdout: string
  stderr: string
}

export class CommandError extends Error {
  override name = 'CommandError'
  readonly result: RunResult
  constructor(command: string, result: RunResult) {
    const tail = (result.stderr || result.stdout).trim().split('\n').slice(-15).join('\n')
    super(`command failed (exit ${result.code}): ${command}\n${tail}`)
    this.result = result
  }
}

/** Runs `cmd args…` and resolves when it exits; rejects on a non-zero exit unless allowed. */
export function run(
  cmd: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  const { promise, resolve, reject } = Promise.withResolvers<RunResult>()
  if (opts.signal?.aborted) return Promise.reject(opts.signal.reason)
  // Its own process group, so that an interrupt stops the whole tree (make, its compilers)
  // rather than leaving orphans writing into directories the clean-up has just removed.
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    detached: true,
    stdio: opts.inherit ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'],
  })
  const onAbort = () => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM')
    } catch {
      // already gone
    }
  }
  opts.signal?.addEventListener('abort', onAbort, { once: true })
  const out: Buffer[] = []
  const err: Buffer[] = []
  child.stdout?.on('data', (b: Buffer) => out.push(b))
  child.stderr?.on('data', (b: Buffer) => err.push(b))
  child.on('error', reject)
  child.on('close', (code, sig) => {
    opts.signal?.removeEventListener('abort', onAbort)
    if (opts.signal?.aborted) {
      reject(opts.signal.reason)
      return
    }
    const result = {
      code: code ?? (sig ? 128 : 1),
      stdout: Buffer.concat(out).toString(),
      stderr: Buffer.concat(err).toString(),
    }
    if (result.code !== 0 && !opts.allowFailure) {
      reject(new CommandError([cmd, ...args].join(' '), result))
    } else resolve(result)
  })
  return promise
}

export interface Timing {
  /** Wall seconds, measured here around the child. */
  wall: number
  /** User and system CPU seconds of the child's process tree. */
  user: number
  sys: number
}

/** Runs a command under GNU time; `scratch` is a directory for time's report file. */
export async function timed(
  cmd: string,
  args: readonly string[],
  scratch: string,
  opts: RunOptions = {},
): Promise<Timing & RunResult> {
  const report = join(scratch, `time-${process.pid}-${Date.now()}.txt`)
  const start = process.hrtime.bigint()
  const result = await run('/usr/bin/time', ['-f', '%U %S', '-o', report, cmd, ...args], opts)
  const wall = Number(process.hrtime.bigint() - start) / 1e9
  const text = await readFile(report, 'utf8')
  await rm(report, { force: true })
  // GNU time prefixes "Command exited with non-zero status N" on failure: take the last line.
  const last = text.trim().split('\n').at(-1) ?? ''
  const [user = Number.NaN, sys = Number.NaN] = last.split(/\s+/).map(Number)
  return { ...result, wall, user, sys }
}
