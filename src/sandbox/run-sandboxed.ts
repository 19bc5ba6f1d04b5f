/**
 * Runs one program inside the native sandbox and returns its exit status, resource use and
 * output. The helper writes one JSON status line on descriptor 3, which the sandboxed program
 * cannot reach; stdout and stderr are the program's own, kept up to a cap.
 *
 * Aborting sends SIGTERM to the helper, which kills every process of the sandbox before it
 * exits; the promise then rejects with the signal's reason, so a caller that sees the rejection
 * knows nothing of the job is left running. A sandbox that cannot be set up rejects with
 * `SandboxSetupError` (the caller compiles locally instead); a missing helper with
 * `SandboxUnavailableError`.
 *
 * The helper is started by the long-lived launcher (`launcher.ts`), which spares the daemon a
 * fork of itself per job; where the helper cannot act as one, it is spawned directly.
 *
 * @example
 * ```ts
 * const r = await runSandboxed({ program: 'gcc', args: ['-c', 'a.c'], cwd: dir,
 *   mounts: [...systemToolchainMounts(), { kind: 'rw', source: jobDir, path: dir }],
 *   env: { PATH: '/usr/bin:/bin' } }, { signal })
 * ```
 */
import { spawn } from 'node:child_process'
import { constants, accessSync } from 'node:fs'
import type { Readable } from 'node:stream'
import { SandboxSetupError, SandboxUnavailableError } from '../errors.ts'
import { helperArgs } from './helper-args.ts'
import { type SandboxLauncher, sandboxLauncher } from './launcher.ts'
import { sandboxHelperPath } from './helper-path.ts'
import { parseSandboxStatus } from './status.ts'
import type { SandboxResult, SandboxSpec, SandboxStatus } from './types.ts'

const DEFAULT_MAX_OUTPUT = 16 * 2 ** 20
const MAX_STATUS = 64 * 1024

interface Collected {
  chunks: Buffer[]
  size: number
  truncated: boolean
}

function collector(max: number): Collected & { add(chunk: Buffer): void } {
  const c = {
    chunks: [] as Buffer[],
    size: 0,
    truncated: false,
    add(chunk: Buffer) {
      const room = max - c.size
      if (chunk.length > room) c.truncated = true
      if (room <= 0) return
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk
      c.chunks.push(part)
      c.size += part.length
    },
  }
  return c
}

export function runSandboxed(
  spec: SandboxSpec,
  { signal, helper = sandboxHelperPath() }: { signal?: AbortSignal; helper?: string } = {},
): Promise<SandboxResult> {
  if (process.platform !== 'linux')
    return Promise.reject(new SandboxUnavailableError(`no sandbox on ${process.platform}`))
  try {
    accessSync(helper, constants.X_OK)
  } catch (cause) {
    return Promise.reject(
      new SandboxUnavailableError(`sandbox helper missing: ${helper}`, { cause }),
    )
  }
  let args: string[]
  try {
    args = helperArgs(spec)
  } catch (err) {
    return Promise.reject(err)
  }
  if (signal?.aborted) return Promise.reject(signal.reason)
  return sandboxLauncher(helper).then((launcher) => {
    if (signal?.aborted) throw signal.reason
    return start(spec, args, helper, launcher, signal)
  })
}

function start(
  spec: SandboxSpec,
  args: string[],
  helper: string,
  launcher: SandboxLauncher | undefined,
  signal: AbortSignal | undefined,
): Promise<SandboxResult> {
  const max = spec.maxOutputBytes ?? DEFAULT_MAX_OUTPUT
  return new Promise<SandboxResult>((resolvePromise, reject) => {
    const out = collector(max)
    const err = collector(max)
    const status = collector(MAX_STATUS)
    let stop: () => void
    const onAbort = () => stop()
    signal?.addEventListener('abort', onAbort, { once: true })
    const failed = (e: Error) => {
      signal?.removeEventListener('abort', onAbort)
      reject(new SandboxUnavailableError(`cannot start ${helper}: ${e.message}`))
    }
    const closed = (code: number | null) => {
      signal?.removeEventListener('abort', onAbort)
      const stderr = Buffer.concat(err.chunks)
      let st: SandboxStatus
      try {
        st = parseSandboxStatus(Buffer.concat(status.chunks).toString('utf8'))
      } catch (e) {
        const why = stderr.toString('utf8').trim().split('\n').at(-1) || `exit ${code}`
        reject(new SandboxSetupError(`sandbox helper failed: ${why}`, { cause: e }))
        return
      }
      if (st.aborted && signal?.aborted) {
        reject(signal.reason)
        return
      }
      if (st.error !== null || st.aborted) {
        reject(new SandboxSetupError(`sandbox: ${st.error ?? 'the helper was stopped'}`))
        return
      }
      resolvePromise({
        exitCode: st.exit,
        signal: st.signal,
        timedOut: st.timedOut,
        oom: st.oom,
        cpuMs: st.cpuMs,
        maxRssKb: st.maxRssKb,
        wallMs: st.wallMs,
        sandboxLevel: st.sandboxLevel,
        stdout: Buffer.concat(out.chunks),
        stderr,
        outputTruncated: out.truncated || err.truncated,
      })
    }
    if (launcher !== undefined) {
      // The usual way: the launcher forks the helper (no fork of this daemon per job).
      const sinks = [out, err, status]
      const run = launcher.run(args, {
        data: (i, chunk) => sinks[i]!.add(chunk),
        close: (code) => closed(code),
        error: (e) => {
          signal?.removeEventListener('abort', onAbort)
          reject(new SandboxSetupError(`sandbox launcher: ${e.message}`))
        },
      })
      stop = () => run.kill()
      return
    }
    // The helper gets no environment of ours: the program's environment is spec.env only.
    const child = spawn(helper, args, { stdio: ['ignore', 'pipe', 'pipe', 'pipe'], env: {} })
    child.stdout!.on('data', (c: Buffer) => out.add(c))
    child.stderr!.on('data', (c: Buffer) => err.add(c))
    ;(child.stdio[3] as Readable).on('data', (c: Buffer) => status.add(c))
    stop = () => child.kill('SIGTERM')
    let spawnError: Error | undefined
    child.on('error', (e) => {
      spawnError = e
    })
    child.on('close', (code) => (spawnError ? failed(spawnError) : closed(code)))
  })
}
