/**
 * Places a gcc job's shipped sources (`JobRequest.sources`) so that the compiler's diagnostics
 * read what they read on the client:
 *
 * - **Headers and other files** are written under the job directory as `src/f<i>` (names the
 *   builder picks) and bind-mounted read-only at their client paths inside the sandbox, after the
 *   job roots. Paths `sourcePathProblem` refuses (the toolchain's own directories, outputs, the
 *   job's directories) are skipped, and the response lists only what was placed.
 * - **The main source file** sits at the path the compiler is given (the object's `DW_AT_name`
 *   is that path as written on the command line), where the preprocessed text must be compiled.
 *   gcc reads its input once at start-up, to the end, then re-opens the file by name for every
 *   excerpt. So the path is a FIFO: the builder writes the preprocessed text into it, renames
 *   the original source over the FIFO, and only then closes its end. The compiler sees end of
 *   file only after the rename, so every later open gets the original: exact excerpts, and an
 *   object byte-identical to a local compile (the compiler never reads the original's bytes for
 *   code). The sandbox launcher does the serving (`fifo-source.ts`): its writer blocks in open
 *   until the compiler opens the FIFO (no polling), and it resolves nothing under the job root
 *   through a link (the job may replace the FIFO or its directories with links to host files). A
 *   compiler that never opens its input just leaves the writer pending until `stop`.
 */
import { linkSync } from 'node:fs'
import { join } from 'node:path'
import { type FifoServing, serveFifoSource } from '../sandbox/fifo-source.ts'
import type { LaunchedRun } from '../sandbox/launcher.ts'
import type { SandboxMount } from '../sandbox/types.ts'
import type { JobRequest } from './job-codec.ts'
import { unpackBlob } from './job-compress.ts'
import { makeJobDir, writeJobFile } from './job-dir-write.ts'
import type { JobMountPlan } from './job-paths.ts'
import { sourcePathProblem } from './source-paths.ts'

export interface StagedSources {
  /** Read-only file mounts, to follow the job roots. */
  mounts: SandboxMount[]
  /** Client paths placed (the main file included when it is served). */
  placed: string[]
  /** Whether the main file is served through the FIFO (else write the text as before). */
  servesMain: boolean
  /**
   * Starts serving the input path (call before the compile). Resolves once the FIFO is asked
   * for, so the compile can start at once (the launcher handles the two in order), even before
   * the text is at hand: `supply` hands it over when it is, and the compiler waits in its first
   * read until then. `served` is false when no FIFO could be made: then the compile must not be
   * used, the text is written there instead, and the main file is not placed.
   */
  serve(options?: ServeOptions): Promise<ServedMain>
  /** Releases the writers (after the compile). */
  stop(): void
}

export interface ServeOptions {
  /**
   * The main source yields no text at all (at once): the compiler gets the text elsewhere
   * (`-include`, `gcc-input-include.ts`), and the original is in place as soon as it has read.
   */
  empty?: boolean
}

export interface ServedMain {
  served: Promise<boolean>
  supply(text: Uint8Array): Promise<void>
}

export async function stageSources(
  req: JobRequest,
  plan: JobMountPlan,
  jobDir: string,
  reservedTop: ReadonlySet<string>,
  /** `file`: the compiler reads its input elsewhere, the main source is an ordinary file. */
  main: 'fifo' | 'file' = 'fifo',
): Promise<StagedSources> {
  const none: StagedSources = {
    mounts: [],
    placed: [],
    servesMain: false,
    serve: async () => ({ served: Promise.resolve(false), supply: async () => {} }),
    stop: () => {},
  }
  if (req.sources === undefined || req.family !== 'gcc') return none
  const data = await unpackBlob(req.sources.data, 'sources')
  const dir = join(jobDir, 'src')
  makeJobDir(dir)
  const mounts: SandboxMount[] = []
  const placed: string[] = []
  const all = req.sources.files.map((f) => f.path)
  let mainBytes: Buffer | undefined
  let off = 0
  for (const [i, f] of req.sources.files.entries()) {
    const bytes = data.subarray(off, off + f.size)
    off += f.size
    if (f.path === req.inputPath) {
      mainBytes = bytes
      continue
    }
    if (sourcePathProblem(f.path, req, all, reservedTop) !== undefined) continue
    const source = join(dir, `f${i}`)
    await writeJobFile(source, bytes, { mode: 0o444 })
    mounts.push({ kind: 'ro', source, path: f.path })
    placed.push(f.path)
  }
  if (mainBytes === undefined) return { ...none, mounts, placed }
  if (main === 'file') {
    await writeJobFile(plan.hostPath(req.inputPath), mainBytes, { mkdirs: true })
    return { ...none, mounts, placed: [req.inputPath, ...placed] }
  }
  const original = join(dir, 'main')
  await writeJobFile(original, mainBytes)
  const { root, rel } = plan.locate(req.inputPath)
  const writers = new Writers()
  let servings = 0
  return {
    mounts,
    placed: [req.inputPath, ...placed],
    servesMain: true,
    serve: async ({ empty = false }: ServeOptions = {}) => {
      // Each writer renames its own link to the original over the FIFO: `original` stays for
      // a second serving (the job compiled again the usual way).
      const copy = join(dir, `main${servings++}`)
      linkSync(original, copy)
      const serving = await serveFifoSource(
        { root: root.host, rel },
        { textFile: join(dir, empty ? 'empty' : 'text'), original: copy },
      )
      const served = writers.track(serving)
      const supply = serving?.supply ?? (async () => {})
      if (empty) await supply(EMPTY)
      return { served, supply: empty ? async () => {} : supply }
    },
    stop: () => writers.stop(),
  }
}

/**
 * Serves a gcc job's input behind `-include` (`gcc-input-include.ts`): a FIFO named `name` in
 * `hostDir`, a fresh directory of the job (to mount read-only in the sandbox), which the text
 * fills once supplied. Undefined when the launcher cannot serve it.
 */
export async function serveIncludedInput(
  jobDir: string,
  name: string,
): Promise<(ServedMain & { hostDir: string; stop(): void }) | undefined> {
  const hostDir = join(jobDir, 'included')
  makeJobDir(hostDir)
  // The writer renames this file over the FIFO once it has copied it: any later open of the
  // path finds the text as a plain file instead of a FIFO nobody writes.
  const textFile = join(jobDir, 'src', 'included')
  const serving = await serveFifoSource(
    { root: hostDir, rel: name },
    { textFile, original: textFile },
  )
  if (serving === undefined) return undefined
  const writers = new Writers()
  return {
    hostDir,
    served: writers.track(serving),
    supply: serving.supply,
    stop: () => writers.stop(),
  }
}

const EMPTY = new Uint8Array(0)

/** The FIFO writers of a job, killed together when the compile is over. */
class Writers {
  readonly #all: LaunchedRun[] = []
  #stopped = false

  track(serving: FifoServing | undefined): Promise<boolean> {
    return (serving?.answer ?? Promise.resolve(undefined)).then((w) => {
      if (w !== undefined) this.#all.push(w)
      if (this.#stopped) w?.kill()
      return w !== undefined
    })
  }

  stop(): void {
    this.#stopped = true
    for (const w of this.#all) w.kill()
  }
}
