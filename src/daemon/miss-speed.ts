/**
 * Feeds the speed estimator (`speed-estimator.ts`) from the misses this node compiles itself,
 * without touching the pipeline: it wraps the `compileMiss` service the daemon hands the
 * pipeline (`miss-compiler.ts`) and looks at the compiles that ran here.
 *
 * The work of a compile is approximated by the bytes of the files it read (the source and
 * every header in its depfile — about its preprocessed size), its CPU time by its wall time,
 * which is close for a single-threaded compiler while the machine is not oversubscribed, so
 * samples are only taken while no more compiles run here than there are cores. The depfile is
 * read before the pipeline removes it; the header sizes are summed afterwards, off the reply
 * path, with a cache (headers repeat from one compile to the next).
 */
import { readFile, stat } from 'node:fs/promises'
import { isAbsolute, resolve } from 'node:path'
import type { RequestContext } from '../compile/context.ts'
import { parseDepfile } from '../compile/depfile-parse.ts'
import type { MissCompile, MissCompiler, MissRun } from '../compile/miss-compiler.ts'
import type { SpeedSample } from './speed-estimator.ts'

export interface MissSpeedInit {
  /** Compiles at most this many at once here for a sample to count (default: no limit). */
  cores?: number
  onSample: (sample: SpeedSample) => void
}

/** Header sizes remembered (paths repeat across a build). */
const SIZE_CACHE_MAX = 20_000

/** `inner` (or a plain local compile when absent), observed. */
export function observeMissSpeed(
  inner: MissCompiler | undefined,
  init: MissSpeedInit,
): MissCompiler {
  const sizes = new Map<string, number>()
  let running = 0
  /** Counts the times more compiles ran here than there are cores. */
  let crowded = 0
  const sizeOf = async (path: string): Promise<number> => {
    const known = sizes.get(path)
    if (known !== undefined) return known
    const size = await stat(path).then(
      (s) => s.size,
      () => 0,
    )
    if (sizes.size >= SIZE_CACHE_MAX) sizes.clear()
    sizes.set(path, size)
    return size
  }
  return async (ctx: RequestContext, job: MissCompile): Promise<MissRun> => {
    const cores = init.cores ?? Number.POSITIVE_INFINITY
    const crowdedAtStart = ++running > cores
    if (crowdedAtStart) crowded++
    const crowdedBefore = crowded
    let run: MissRun
    try {
      run = await (inner === undefined ? job.local() : inner(ctx, job))
    } finally {
      running--
    }
    // Uncontended all along, a local compile that succeeded: worth a sample.
    const alone = !crowdedAtStart && crowded === crowdedBefore
    if (run.where === 'remote' || run.exitCode !== 0 || !alone) return run
    const cwd = ctx.request.cwd
    const depfile = job.injectedDepfile ?? ctx.inv.depfile?.path
    if (depfile === undefined) return run
    const text = await readFile(
      isAbsolute(depfile) ? depfile : resolve(cwd, depfile),
      'utf8',
    ).catch(() => undefined)
    if (text === undefined) return run
    const ms = run.ms
    void (async () => {
      const files = new Set(parseDepfile(text).prereqs.map((p) => resolve(cwd, p)))
      let bytes = 0
      for (const f of files) bytes += await sizeOf(f)
      init.onSample({ bytes, cpuMs: ms })
    })().catch(() => {})
    return run
  }
}
