/**
 * A miss compiled on the mesh (`MESHCC_MODE=auto|remote`): the `compileMiss` service of the
 * pipeline (see `miss-compiler.ts`). After coalescing, a distributable miss goes through the
 * scheduler's `runWithPlacement`: `auto` keeps this machine's slots busy first, `remote` sends
 * every job it can to another member and compiles here only when no member can take it.
 *
 * What comes back is left on disk exactly as a local compile leaves it (object, extra outputs,
 * the build's depfile or the one the pipeline injected for the header list), so the pipeline
 * stores it like any miss. Nothing here can fail a build: a builder that dies, stalls or refuses
 * costs one retry elsewhere, then a local compile; a result that cannot be trusted as is (gcc
 * printed diagnostics, a signal) or cannot be written is compiled here again; any other trouble
 * of the remote path compiles here. A compile error from a builder is returned with the
 * compiler's exact output.
 */
import { resolve } from 'node:path'
import type { DepfileRequest } from '../compilers/types.ts'
import type { Logger } from '../daemon/logger.ts'
import { remoteRunner } from '../remote/placement-runner.ts'
import type { JobLanguage } from '../remote/job-codec.ts'
import { driverFor, type RemoteExecutor, type RemoteOutcome } from '../remote/remote-executor.ts'
import { remoteIneligibility } from '../remote/remote-eligibility.ts'
import type { Placement } from '../scheduler/placement.ts'
import {
  type RemoteRunner,
  type RunReport,
  runWithPlacement,
} from '../scheduler/run-with-placement.ts'
import type { PlacementJob } from '../scheduler/types.ts'
import type { StatsRecorder } from '../stats/recorder.ts'
import { jobLanguages } from '../toolchain/job-languages.ts'
import type { ToolchainLanguage } from '../toolchain/manifest.ts'
import type { RequestContext } from './context.ts'
import type { MissCompile, MissCompiler, MissRun } from './miss-compiler.ts'
import type { RunResult } from './run-compiler.ts'
import { forceColorArg } from './stderr-replay.ts'

/** What a joined node offers the pipeline for remote compiles. */
export interface RemoteClient {
  executor: RemoteExecutor
  /** The toolchain id of a local compiler (packaged and announced on first use). */
  toolchainFor(
    compiler: string,
    options: { signal: AbortSignal; languages?: readonly ToolchainLanguage[] },
  ): Promise<string>
  /** The id if already known; otherwise starts packaging in the background. */
  toolchainIfReady(compiler: string, languages?: readonly ToolchainLanguage[]): string | undefined
  /** Takes a local compile slot if one is free; returns its release. */
  tryLocalSlot(): (() => void) | undefined
  placement(mode: 'auto' | 'remote'): Placement
}

export interface RemoteMissInit {
  /** The remote client while the node is joined and its mesh runs; undefined otherwise. */
  client: () => RemoteClient | undefined
  stats: StatsRecorder
  log: Logger
}

type Ran = { local: RunResult } | { remote: RemoteOutcome }

export function remoteMissCompiler(init: RemoteMissInit): MissCompiler {
  return async (ctx, job) => {
    const mode = ctx.settings.mode
    if (mode === 'local') return job.local()
    const client = init.client()
    if (client === undefined) return job.local()
    const reason = remoteIneligibility(ctx.inv, { cwd: ctx.request.cwd, env: ctx.request.env })
    if (reason !== undefined) {
      init.log.debug('compile not distributable', { reason, source: ctx.inv.source })
      return job.local()
    }
    return compileOnMesh(init, client, mode, ctx, job)
  }
}

async function compileOnMesh(
  init: RemoteMissInit,
  client: RemoteClient,
  mode: 'auto' | 'remote',
  ctx: RequestContext,
  job: MissCompile,
): Promise<MissRun> {
  const { inv, request, signal } = ctx
  const { stats, log } = init
  // The toolchain covers just this job's front end and driver (a third of gcc for a C job).
  const driver = driverFor(request.compiler, inv.language as JobLanguage)
  const languages = jobLanguages(inv.language, driver)
  if (mode === 'auto') {
    // Local first: a free slot here costs no toolchain, no preprocessing, no network.
    const release = client.tryLocalSlot()
    if (release !== undefined) {
      try {
        return await job.local()
      } finally {
        release()
      }
    }
    // The first jobs of a compiler never wait for it to be packaged for builders.
    const ready = client.toolchainIfReady(request.compiler, languages)
    if (ready === undefined || ready === '') return job.local()
  }
  let toolchain: string
  try {
    toolchain = await client.toolchainFor(request.compiler, {
      signal,
      ...(languages ? { languages } : {}),
    })
  } catch (err) {
    if (signal.aborted) throw err
    log.warn('cannot package the compiler for builders; compiling here', {
      compiler: request.compiler,
      err,
    })
    stats.remoteFallback('toolchain-unavailable')
    return job.local()
  }
  const placement = client.placement(mode)
  const placed: PlacementJob = { toolchain, platform: process.platform, arch: process.arch }
  const handle = remoteRunner(client.executor, {
    compiler: request.compiler,
    inv,
    cwd: request.cwd,
    env: request.env,
    toolchain,
    args:
      ctx.wantColor && inv.color === 'auto'
        ? [...inv.expandedArgs, forceColorArg(inv.family)]
        : inv.expandedArgs,
    depfile: depfileToMake(ctx, job),
    runPreprocessor: ctx.runOnClient,
    wantsFiles: job.wantsFiles === true,
  })
  // Preprocess while the placement reserves a slot, so that the reservation's round trip costs
  // no wall time: in `remote` mode always, in `auto` (no local slot free) when some member could
  // take the job. A job that is compiled here after all stops that work first.
  const early = new AbortController()
  let preparing: Promise<unknown> | undefined
  if (mode === 'remote' || placement.candidates(placed).length > 0) {
    preparing = handle.prepareEarly(AbortSignal.any([signal, early.signal]))
    // A builder that starts compiles early may get the head with the reservation.
    const head = handle.head()
    if (head !== undefined) placed.ahead = head
  }
  const local = async (): Promise<Ran> => {
    if (preparing !== undefined && handle.prepared() === undefined) {
      early.abort(new Error('compiled here'))
      await preparing
    }
    return { local: await job.local() }
  }
  const remote: RemoteRunner<Ran> = async (slot, j, o) => {
    const r = await handle.runner(slot, j, o)
    return r.kind === 'compiled' ? { ...r, result: { remote: r.result } } : r
  }
  let report: RunReport<Ran>
  try {
    report = await runWithPlacement<Ran>(placed, {
      placement,
      local,
      remote,
      signal,
    })
  } catch (err) {
    // A local compile that failed to spawn rejects here too: the pipeline reports that.
    if (signal.aborted || !(err instanceof Error) || /spawn/i.test(err.message)) throw err
    log.warn('remote compile path failed; compiling here', { err, source: inv.source })
    stats.remoteFallback('internal-error')
    return job.local()
  }
  count(init, mode, report)
  const ran = report.result
  if ('local' in ran) return ran.local
  const out = ran.remote
  const prepared = handle.prepared()
  try {
    if (prepared === undefined) throw new Error('remote result without a prepared job')
    // The depfile the pipeline injected only to learn the headers is handed over in memory:
    // writing it to be read back and removed cost a dozen system calls and an inode per job.
    await client.executor.commit(prepared, out, {
      umask: request.umask,
      writeDepfile: job.injectedDepfile === undefined,
    })
  } catch (err) {
    log.warn('cannot write the remote outputs; compiling here', { err, source: inv.source })
    stats.remoteFallback('commit-failed')
    return job.local()
  }
  log.debug('compiled remotely', {
    source: inv.source,
    peer: out.peer,
    exitCode: out.exitCode,
    wallMs: Math.round(out.wallMs),
    builderWallMs: out.builderWallMs,
    preprocessMs: Math.round(prepared.preprocessMs),
    wireBytes: prepared.wireBytes,
  })
  const run: MissRun = {
    exitCode: out.exitCode ?? 1,
    signal: null,
    stdout: out.stdout,
    stderr: out.stderr,
    ms: out.wallMs,
    where: 'remote',
  }
  // The header list from the preprocessing this job already paid for (no dependency pass).
  if (job.wantsFiles === true && out.exitCode === 0 && prepared.files !== undefined)
    run.files = prepared.files
  if (job.injectedDepfile !== undefined && out.exitCode === 0 && prepared.depfile !== undefined)
    run.injectedDepfileText = prepared.depfile.data
  return run
}

/**
 * The depfile the remote path must leave: the one the pipeline injected to learn the headers,
 * else the build's own (made by the client's preprocessing, as the compile would have).
 */
function depfileToMake(ctx: RequestContext, job: MissCompile): DepfileRequest | undefined {
  if (job.injectedDepfile === undefined) return ctx.inv.depfile
  return {
    kind: 'MD',
    path: job.injectedDepfile,
    targets: [{ name: resolve(ctx.request.cwd, ctx.inv.output), quoted: false }],
    phony: false,
  }
}

/** Retries and fallbacks of one job, for `meshcc stats`. */
function count(init: RemoteMissInit, mode: 'auto' | 'remote', report: RunReport<Ran>): void {
  const { attempts } = report
  let retries = 0
  for (let i = 0; i + 1 < attempts.length; i++) {
    const a = attempts[i]
    // A BUSY answer is no retry: the job simply went to the next member with room.
    const failed = a?.outcome !== 'compiled' && a?.outcome !== 'busy'
    if (a?.where === 'remote' && failed && attempts[i + 1]?.where === 'remote') retries++
  }
  if (retries > 0) init.stats.remoteRetry(retries)
  if (report.where === 'remote') return
  const tried = attempts.filter((a) => a.where === 'remote')
  const last = tried.at(-1)
  if (last === undefined) {
    // `auto` compiling here is the plan; `remote` doing so means no member could take it.
    if (mode === 'remote') init.stats.remoteFallback('no-builder')
    return
  }
  const why =
    report.fallback === 'suspect-result'
      ? 'suspect-result'
      : last.detail === 'busy'
        ? 'busy'
        : last.outcome
  init.stats.remoteFallback(why)
  init.log.info('remote compile fell back to a local one', {
    why,
    attempts: attempts.map(
      (a) =>
        `${a.where}${a.peer ? `@${a.peer.slice(-8)}` : ''}:${a.outcome}${a.detail ? ` (${a.detail})` : ''}`,
    ),
  })
}
