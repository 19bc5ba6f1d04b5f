/**
 * One job on the builder, once it has a slot and a toolchain: lay out the client's paths in a
 * fresh job directory, place the preprocessed source at the source's own path, run the driver
 * in the sandbox with the toolchain as its root file system and the job roots read-write at the
 * client's paths, and collect the outputs the client asked for. Everything the job left behind
 * is read with `readJobOutput` (no links, no special files, size-capped).
 *
 * gcc jobs may carry their sources for diagnostics: the main source is served behind the
 * preprocessed text (`builder-sources.ts`), or sits as an ordinary file when the job asks for the
 * `-fpreprocessed` mode (`gcc-preprocessed-mode.ts`); other files are mounted read-only; a client
 * with a UTF-8 locale gets one (`builder-locale.ts`). The response lists what was placed.
 */
import { basename, dirname, join } from 'node:path'
import { SandboxSetupError, SandboxUnavailableError, UnsafeJobOutputError } from '../errors.ts'
import { readJobOutput } from '../sandbox/collect-output.ts'
import type { SandboxMount, SandboxResult, SandboxSpec } from '../sandbox/types.ts'
import { jobLocale } from './builder-locale.ts'
import { stageSources } from './builder-sources.ts'
import { includeEligibleArgs } from './gcc-input-include.ts'
import { compileWithIncludedInput } from './included-input-compile.ts'
import { PREPROCESSED_FEATURE, SANDBOX_INPUT_DIR } from './gcc-preprocessed-mode.ts'
import type { Blob, JobOutputFile, JobRequest, JobResponse } from './job-codec.ts'
import { emptyResponse, JOB_MESSAGE_VERSION } from './job-codec.ts'
import { packBlob, unpackBlob } from './job-compress.ts'
import { makeJobDir, writeJobFile } from './job-dir-write.ts'
import { JOB_PATH, jobEnv } from './job-env.ts'
import { JOB_LIMITS } from './job-limits.ts'
import { type JobMountPlan, planJobMounts } from './job-paths.ts'
import { withPipe } from './gcc-pipe.ts'
import { compileOnServedInput } from './served-input-compile.ts'

export type SandboxRunner = (
  spec: SandboxSpec,
  options: { signal?: AbortSignal },
) => Promise<SandboxResult>

export interface BuilderJobContext {
  jobDir: string
  /** Driver path inside the sandbox. */
  driver: string
  toolchainMounts: SandboxMount[]
  maxDeadlineMs: number
  run: SandboxRunner
  signal: AbortSignal
  /**
   * The input, when it comes after the rest of the job (a head, `early-start`): the job is set
   * up and its compiler started at once, and the input is handed over when it arrives. The
   * compile's deadline counts from then; the input may take `inputWaitMs` (default 30 s).
   */
  input?: Promise<Blob>
  inputWaitMs?: number
  /** A gcc job started before its input may get it behind `-include` (default true). */
  includeInput?: boolean
  /** A compile that took that way ran to its end: whether the job ran again the usual way. */
  onIncluded?: (ranAgain: boolean) => void
}

export async function runBuilderJob(req: JobRequest, ctx: BuilderJobContext): Promise<JobResponse> {
  const taken = new Set(ctx.toolchainMounts.map((m) => m.path.split('/')[1] ?? ''))
  const plan = planJobMounts(ctx.jobDir, req, taken)
  if ('refused' in plan) return emptyResponse(req.jobId, 'refused', plan.refused)

  for (const root of plan.roots) makeJobDir(root.host)
  makeJobDir(plan.hostPath(req.cwd))
  for (const o of req.outputs) makeJobDir(dirname(plan.hostPath(o.path)))
  const locale =
    req.family === 'gcc'
      ? await jobLocale(req.env, ctx.driver, ctx.toolchainMounts, ctx.run, { signal: ctx.signal })
      : undefined
  // `-fpreprocessed` mode (gcc-preprocessed-mode.ts): only with the main source to quote.
  const ppMode =
    req.family === 'gcc' &&
    req.preprocessed !== undefined &&
    req.sources?.files.some((f) => f.path === req.inputPath) === true
  // The input decompresses (off the main thread) while the sources are staged; one that comes
  // later (a head first) stops the job if it never comes or is malformed.
  const budget = Math.min(req.deadlineMs, ctx.maxDeadlineMs)
  const late = new AbortController()
  let inputError: unknown
  let deadlineTimer: NodeJS.Timeout | undefined
  let ended = false
  const unpacking = (ctx.input ?? Promise.resolve(req.input)).then((blob) =>
    unpackBlob(blob, 'input'),
  )
  let inputAt: number | undefined
  unpacking.then(
    () => {
      if (ctx.input === undefined || ended) return
      inputAt = performance.now()
      deadlineTimer = setTimeout(() => late.abort(new Error('deadline')), budget)
      deadlineTimer.unref()
    },
    (err: unknown) => {
      inputError = err
      late.abort(err)
    },
  )
  try {
    const response = await compileJob(req, ctx, {
      plan,
      locale,
      ppMode,
      unpacking,
      signal: AbortSignal.any([ctx.signal, late.signal]),
      // Started before its input came, the compile may wait for it: its own limit allows for
      // that, and the deadline proper runs from the input's arrival (above).
      timeoutMs: budget + (ctx.input === undefined ? 0 : (ctx.inputWaitMs ?? 30_000)),
      taken,
    })
    // Started early, the compile's wall time counts from its input: the wait is the client's.
    if (inputAt !== undefined)
      response.wallMs = Math.min(response.wallMs, Math.round(performance.now() - inputAt))
    return response
  } catch (err) {
    if (inputError !== undefined) throw inputError
    if (late.signal.aborted && !ctx.signal.aborted)
      return emptyResponse(req.jobId, 'deadline', `compile exceeded ${req.deadlineMs} ms`)
    throw err
  } finally {
    ended = true
    clearTimeout(deadlineTimer)
  }
}

interface JobSetup {
  plan: JobMountPlan
  taken: ReadonlySet<string>
  locale: Awaited<ReturnType<typeof jobLocale>> | undefined
  ppMode: boolean
  /** The decompressed input, once it is there. */
  unpacking: Promise<Buffer>
  signal: AbortSignal
  timeoutMs: number
}

/** Places the sources and the input, runs the compiler in the sandbox, packs what it wrote. */
async function compileJob(
  req: JobRequest,
  ctx: BuilderJobContext,
  { plan, taken, locale, ppMode, unpacking, signal: jobSignal, timeoutMs }: JobSetup,
): Promise<JobResponse> {
  const sources = await stageSources(req, plan, ctx.jobDir, taken, ppMode ? 'file' : 'fifo')
  let args = req.args
  const inputMounts: SandboxMount[] = []
  if (ppMode && req.preprocessed !== undefined) {
    const text = await unpacking
    const name = basename(req.inputPath)
    const host = join(ctx.jobDir, 'input', name)
    await writeJobFile(host, text, { mkdirs: true })
    const inSandbox = `${SANDBOX_INPUT_DIR}/${name}`
    inputMounts.push({ kind: 'ro', source: host, path: inSandbox })
    const i = req.preprocessed.sourceArg
    args = [
      ...req.args.slice(0, i),
      '-fpreprocessed',
      '-fdirectives-only',
      inSandbox,
      ...req.args.slice(i + 1),
    ]
  }
  const writeMain = ppMode
    ? async () => {}
    : async () => {
        await writeJobFile(plan.hostPath(req.inputPath), await unpacking, { mkdirs: true })
        sources.placed = sources.placed.filter((p) => p !== req.inputPath)
      }

  const compile = (
    signal: AbortSignal,
    extra: { args: string[]; mounts: SandboxMount[] } = { args: [], mounts: [] },
  ) =>
    ctx
      .run(
        {
          program: ctx.driver,
          args: [...withPipe(req.family, [...args, ...extra.args])],
          mounts: [
            ...ctx.toolchainMounts,
            ...(locale?.mounts ?? []),
            ...plan.roots.map((r): SandboxMount => ({ kind: 'rw', source: r.host, path: r.path })),
            ...sources.mounts,
            ...inputMounts,
            ...extra.mounts,
          ],
          cwd: req.cwd,
          env: { ...jobEnv(req.env), ...locale?.env, PATH: JOB_PATH },
          limits: { timeoutMs, nproc: 64 },
          maxOutputBytes: JOB_LIMITS.maxStreamBytes,
        },
        { signal },
      )
      .catch((err: unknown) => {
        if (err instanceof SandboxUnavailableError) return { refused: err.message }
        if (err instanceof SandboxSetupError) return { failed: err.message }
        throw err
      })
  // The main source through its FIFO: the compile starts as soon as the FIFO is asked for, not
  // after the launcher's answer (a round trip of 0.4–1 ms per job).
  const servesMain = !ppMode && sources.servesMain
  if (servesMain) makeJobDir(dirname(plan.hostPath(req.inputPath)))
  const usually = async () => {
    let serving: { served: Promise<boolean> } | undefined
    if (servesMain) {
      const fifo = await sources.serve()
      serving = fifo
      unpacking.then((text) => fifo.supply(text)).catch(() => {}) // a failed input stops the job
    }
    return compileOnServedInput(serving, compile, writeMain, jobSignal)
  }
  // A job started before its input: the input behind `-include` where that is safe, so that the
  // compiler's whole set-up happens before the input is there (gcc-input-include.ts).
  const included =
    servesMain && ctx.input !== undefined && ctx.includeInput !== false && includeEligibleArgs(args)
  const result = await (async () => {
    if (included) {
      const done = await compileWithIncludedInput({
        inputPath: req.inputPath,
        jobDir: ctx.jobDir,
        serveEmptyMain: () => sources.serve({ empty: true }),
        text: unpacking,
        compile: (extra, signal) => compile(signal, extra),
        signal: jobSignal,
        ...(ctx.onIncluded === undefined ? {} : { onCompiled: ctx.onIncluded }),
      })
      if (done !== undefined) return done
    }
    return usually()
  })().finally(() => sources.stop())
  if ('refused' in result) return emptyResponse(req.jobId, 'refused', result.refused)
  if ('failed' in result) return emptyResponse(req.jobId, 'failed', result.failed)
  if (result.timedOut)
    return emptyResponse(req.jobId, 'deadline', `compile exceeded ${req.deadlineMs} ms`)
  if (result.outputTruncated)
    return emptyResponse(req.jobId, 'failed', 'compiler output exceeded the size limit')

  // Outputs are read (synchronously, when small) and every blob is compressed at once: the
  // thread-pool round trips overlap instead of following one another.
  const stdout = packBlob(result.stdout)
  const stderr = packBlob(result.stderr)
  // Awaited below, unless an output fails first: never an unhandled rejection meanwhile.
  stdout.catch(() => {})
  stderr.catch(() => {})
  const packing: Promise<JobOutputFile | string>[] = []
  if (result.exitCode === 0) {
    for (const o of req.outputs) {
      const { root, rel } = plan.locate(o.path)
      packing.push(
        readJobOutput(root.host, rel, { maxBytes: JOB_LIMITS.maxOutputBytes, signal: ctx.signal })
          .then(async (data) => ({ path: o.path, file: await packBlob(data) }))
          .catch((err: unknown) => {
            const missing =
              err instanceof UnsafeJobOutputError &&
              (err.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT'
            return missing ? { path: o.path, file: undefined } : (err as Error).message
          }),
      )
    }
  }
  const outputs: JobOutputFile[] = []
  for (const out of await Promise.all(packing)) {
    if (typeof out === 'string') return emptyResponse(req.jobId, 'failed', out)
    outputs.push(out)
  }
  return {
    v: JOB_MESSAGE_VERSION,
    features: [...(locale?.features ?? []), ...(ppMode ? [PREPROCESSED_FEATURE] : [])],
    jobId: req.jobId,
    status: 'compiled',
    detail: '',
    exitCode: result.exitCode,
    signal: result.signal,
    stdout: await stdout,
    stderr: await stderr,
    outputs,
    cpuMs: Math.round(result.cpuMs),
    wallMs: Math.round(result.wallMs),
    placed: sources.placed,
  }
}
