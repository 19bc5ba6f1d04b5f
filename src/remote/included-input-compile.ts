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
import { basename } from 'node:path'
import type { SandboxMount } from '../sandbox/types.ts'
import { type ServedMain, serveIncludedInput } from './builder-sources.ts'
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
  /** The job's directory (`serveIncludedInput` makes the FIFO's directory there). */
  jobDir: string
  /** Serves the main source empty (`StagedSources.serve({ empty: true })`). */
  serveEmptyMain(): Promise<ServedMain>
  /** The decompressed input, once it is there. */
  text: Promise<Uint8Array>
  /** Runs the compiler with these arguments and mounts added. */
  compile(extra: { args: string[]; mounts: SandboxMount[] }, signal: AbortSignal): Promise<T>
  signal: AbortSignal
  /**
   * Told once a compile ran this way to its end: whether the job must run again the usual way
   * (it printed or failed), for the builder's `IncludeGate`.
   */
  onCompiled?: (ranAgain: boolean) => void
}

export async function compileWithIncludedInput<T extends IncludedRun>(
  job: IncludedInputJob<T>,
): Promise<T | undefined> {
  const name = basename(job.inputPath)
  const input = await serveIncludedInput(job.jobDir, name)
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
        mounts: [{ kind: 'ro', source: input.hostDir, path: SANDBOX_INPUT_DIR }],
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
    const ranAgain = result.exitCode !== 0 || !quiet
    job.onCompiled?.(ranAgain)
    return ranAgain ? undefined : result
  } finally {
    input.stop()
  }
}
