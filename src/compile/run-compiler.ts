/**
 * Runs the real compiler for a client: its cwd, its environment plus the recursion guard
 * `_MESHCC_SAFEGUARD=1` (a masquerade `gcc` found on PATH again must exec the real one), stdin
 * from /dev/null, stdout and stderr captured whole.
 *
 * A spawn failure rejects (the caller falls back to a local exec); a compiler that exits, even
 * non-zero, resolves with its exit code. A death by signal resolves with `signal` set.
 *
 * @example
 * ```ts
 * const run = await runCompiler({ compiler, args, cwd, env }, { signal })
 * if (run.exitCode === 0) …
 * ```
 */
import { spawn } from 'node:child_process'

export interface RunSpec {
  compiler: string
  args: readonly string[]
  cwd: string
  env: Record<string, string>
}

export interface RunResult {
  exitCode: number
  signal: NodeJS.Signals | null
  stdout: Buffer
  stderr: Buffer
  ms: number
}

export function runCompiler(
  spec: RunSpec,
  { signal }: { signal?: AbortSignal } = {},
): Promise<RunResult> {
  const started = performance.now()
  return new Promise<RunResult>((resolvePromise, reject) => {
    const child = spawn(spec.compiler, spec.args, {
      cwd: spec.cwd,
      env: { ...spec.env, _MESHCC_SAFEGUARD: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(signal === undefined ? {} : { signal }),
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk))
    let failed = false
    child.on('error', (error) => {
      failed = true
      reject(error)
    })
    child.on('close', (code, sig) => {
      if (failed) return
      resolvePromise({
        exitCode: code ?? -1,
        signal: sig,
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err),
        ms: performance.now() - started,
      })
    })
  })
}
