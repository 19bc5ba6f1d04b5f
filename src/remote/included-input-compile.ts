/**
 * The builder's compile with the input behind `-include` (`gcc-input-include.ts` says why and
 * when): the main source is served empty, so the compiler gets through its whole set-up while
 * the text is still on its way, and the text goes into a second FIFO that the forced include
 * reads. Returns undefined whenever the job must be compiled the usual way instead:
 * - the launcher could not serve either FIFO;
 * - the text is not safe to compile that way (the compile is stopped as soon as that is known);
 * - the compile printed anything or failed (its diagnostics may differ from the usual way's).
 * A compile that ran out of time, or that the sandbox refused, is the job's result as it is.
 */
import { basename, join } from 'node:path'
import type { SandboxMount } from '../sandbox/types.ts'
import type { ServedMain } from './builder-sources.ts'
import { includeSafeText } from './gcc-input-include.ts'
import { SANDBOX_INPUT_DIR } from './gcc-preprocessed-mode.ts'

/** What a compile of the job may report (the sandbox's result, or why it did not run). */
export type IncludedRun =
  | { refused: string }
  | { failed: string }
  | { exitCode: number | null; stdout: Uint8Array; stderr: Uint8Array; timedOut: boolean }

export interface IncludedInputJob<T extends IncludedRun> {
  /** The client's path of the main source (the FIFO inside gets its base name). */
  inputPath: string
  /** A fresh directory of the job for the FIFO (mounted read-only in the sandbox). */
  hostDir: string
  /** Serves the main source empty (`StagedSources.serve({ empty: true })`). */
  serveEmptyMain(): Promise<ServedMain>
  /** Serves the input FIFO (`serveIncludedInput`), or undefined when it cannot. */
  serveInput(hostDir: string, name: string): Promise<(ServedMain & { stop(): void }) | undefined>
  /** The decompressed input, once it is there. */
  text: Promise<Uint8Array>
  /** Runs the compiler with these arguments and mounts added. */
  compile(extra: { args: string[]; mounts: SandboxMount[] }, signal: AbortSignal): Promise<T>
  signal: AbortSignal
  /** Told when the compile printed or failed, so the job runs again the usual way. */
  onRanAgain?: () => void
}

export async function compileWithIncludedInput<T extends IncludedRun>(
  job: IncludedInputJob<T>,
): Promise<T | undefined> {
  const name = basename(job.inputPath)
  const input = await job.serveInput(job.hostDir, name)
  if (input === undefined) return undefined
  try {
    const main = await job.serveEmptyMain()
    const stop = new AbortController()
    let unsafe = false
    job.text.then(
      (text) => {
        if (includeSafeText(text)) return input.supply(text)
        unsafe = true
        stop.abort(new Error('input not safe behind -include'))
      },
      () => {}, // a failed input stops the job (its own signal)
    )
    const running = job.compile(
      {
        args: ['-include', `${SANDBOX_INPUT_DIR}/${name}`],
        mounts: [{ kind: 'ro', source: job.hostDir, path: SANDBOX_INPUT_DIR }],
      },
      AbortSignal.any([job.signal, stop.signal]),
    )
    running.catch(() => {}) // awaited below, or given up
    const [mainServed, inputServed] = await Promise.all([main.served, input.served])
    if (!mainServed || !inputServed) {
      stop.abort(new Error('no FIFO for the input'))
      await running.catch(() => {})
      return undefined
    }
    let result: T
    try {
      result = await running
    } catch (err) {
      if (job.signal.aborted || !unsafe) throw err
      return undefined
    }
    if (unsafe) return undefined
    if ('refused' in result || 'failed' in result || result.timedOut) return result
    const quiet = result.stdout.byteLength === 0 && result.stderr.byteLength === 0
    if (result.exitCode === 0 && quiet) return result
    job.onRanAgain?.()
    return undefined
  } finally {
    input.stop()
  }
}

/** The job's directory for the input FIFO. */
export function includedInputDir(jobDir: string): string {
  return join(jobDir, 'included')
}
