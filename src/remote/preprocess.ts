/**
 * The client's half of a remote compile: preprocess locally, in a form the builder compiles to
 * exactly the object a local compile gives, `-g` included. Chosen per family by experiment
 * (test/integration/remote-identity.test.ts proves each):
 *
 * - **gcc**: `-E -fdirectives-only` (includes and conditionals resolved, macros not expanded,
 *   `#define`s kept), minus the `<built-in>` definitions; the builder compiles that text as
 *   ordinary source at the source's own path. Plain `-E` shifts the column numbers of every token
 *   after an expanded macro (the line table differs), and icecream's
 *   `-fpreprocessed -fdirectives-only` on the builder puts `-fdirectives-only` into
 *   `DW_AT_producer`; both break byte equality. gcc prints source excerpts under diagnostics by
 *   reading the files named in line markers, which the builder does not have: a gcc job whose
 *   compile prints anything is therefore compiled again locally (see `remote-executor.ts`).
 * - **clang**: `-E -frewrite-includes` (includes inlined, `__has_include` evaluated, all else
 *   verbatim): the builder expands macros itself, so diagnostics, their excerpts and macro
 *   notes are exact. DWARF 5 checksums of source text rule out clang `-g` at DWARF ≥ 5
 *   (`remote-eligibility.ts`).
 *
 * The depfile, when wanted, comes from this same run (`-MD -MF` with the invocation's targets);
 * the text is written to a scratch file (`-o`) next to it, read back in one piece.
 *
 * When the compile request came from the native client, the preprocessor runs through it
 * (`spec.run`, `daemon/client-runner.ts`): forking the large daemon costs more CPU than a
 * small unit's preprocessing. gcc's cc1 runs without its driver once the driver's command for
 * the flag set is learnt and checked (`gcc-driver-commands.ts`).
 */

import { randomUUID } from 'node:crypto'
import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  unlinkSync,
} from 'node:fs'
import { open } from 'node:fs/promises'
import { runCompiler } from '../compile/run-compiler.ts'
import type { ClientRunner } from '../compile/types.ts'
import type { CacheableInvocation, DepfileRequest } from '../compilers/types.ts'
import { ClientRunFailedError } from '../errors.ts'
import {
  type DriverJob,
  type GccDriverCommands,
  hashBytes,
  type JobValues,
  scratchPaths,
  sentinelValues,
} from './gcc-driver-commands.ts'
import { giveTextBuffer, takeTextBuffer } from './text-buffers.ts'

export interface PreprocessSpec {
  compiler: string
  inv: CacheableInvocation
  cwd: string
  env: Record<string, string>
  /** The dependency file to produce (the build's own, or one the daemon injects). */
  depfile?: DepfileRequest | undefined
  /** Where the depfile is written before it is moved into place. */
  tempDir: string
  /**
   * Runs the preprocessor through the waiting native client (in `cwd`, with the client's
   * environment, which is `env`): a fork of a small program instead of the daemon. If the client
   * cannot, the daemon runs it itself.
   */
  run?: ClientRunner | undefined
  /** gcc: runs cc1 without the driver once its command is learnt (absent: always the driver). */
  driverCommands?: GccDriverCommands | undefined
}

export interface Preprocessed {
  /** A view of a pooled buffer (`text-buffers.ts`): valid until `release()`. */
  text: Buffer
  /** Gives the text's buffer back for the next job; nothing may read `text` afterwards. */
  release(): void
  /** Depfile bytes, when asked for. */
  depfile: Buffer | undefined
  exitCode: number
  signal: string | null
  stderr: Buffer
  ms: number
}

export function preprocessArgs(
  inv: CacheableInvocation,
  depfile: DepfileRequest | undefined,
  depPath: string | undefined,
): string[] {
  const mode = inv.family === 'gcc' ? '-fdirectives-only' : '-frewrite-includes'
  const args = [...inv.preprocessorArgs, '-E', mode]
  if (depfile !== undefined && depPath !== undefined) {
    args.push(depfile.kind === 'MD' ? '-MD' : '-MMD', '-MF', depPath)
    for (const t of depfile.targets) args.push(t.quoted ? '-MQ' : '-MT', t.name)
    if (depfile.phony) args.push('-MP')
  }
  return args
}

/**
 * The driver's arguments for one job with `values` in place of the job's own (the learnt
 * command's sentinels): the text and depfile at `scratchPaths(values)`, the depfile's targets
 * and the source argument replaced. Undefined when the source does not appear exactly once
 * among the arguments.
 */
export function driverArgs(
  inv: CacheableInvocation,
  depfile: DepfileRequest | undefined,
  values: JobValues,
): string[] | undefined {
  if (inv.preprocessorArgs.filter((a) => a === inv.source).length !== 1) return undefined
  const sourced = {
    ...inv,
    preprocessorArgs: inv.preprocessorArgs.map((a) => (a === inv.source ? values.source : a)),
  }
  const targeted =
    depfile === undefined
      ? undefined
      : {
          ...depfile,
          targets: depfile.targets.map((t, i) => ({ ...t, name: values.targets[i] ?? t.name })),
        }
  const paths = scratchPaths(values)
  const depPath = depfile === undefined ? undefined : paths.dep
  return [...preprocessArgs(sourced, targeted, depPath), '-o', paths.text]
}

const BUILTIN = Buffer.from('"<built-in>"\n#define ')
/** How far past the last pair the next one may start (gcc's line markers before the first). */
const BUILTIN_WINDOW = 64 * 1024

/**
 * Drops gcc's `# 0 "<built-in>"` / `#define …` pairs from the head of directives-only output: the
 * builder's compiler predefines the same macros (same toolchain, same flags), and defining them
 * again would warn. Command-line (`-D`) definitions follow under `<command-line>` and stay.
 *
 * `inPlace`: `text` is the caller's to overwrite (a fresh preprocessor output); the lines before
 * the pairs (the first line marker) are moved up to the kept tail and a view is returned, rather
 * than a copy of megabytes of text.
 */
export function stripGccBuiltins(text: Buffer, { inPlace = false } = {}): Buffer {
  let headEnd = -1
  let keepFrom = 0
  // Only the head holds built-ins, one contiguous run of pairs: stop at the first gap.
  for (;;) {
    // Search a short window only: the pairs sit at the head, and a miss must not scan the whole
    // (megabytes of) output.
    const window = text.subarray(0, Math.min(text.length, keepFrom + BUILTIN_WINDOW))
    const hit = window.indexOf(BUILTIN, keepFrom)
    if (hit < 0) break
    const lineStart = text.lastIndexOf(10, hit) + 1
    if (text[lineStart] !== 0x23 /* # */ || (headEnd >= 0 && lineStart !== keepFrom)) break
    const end = text.indexOf(10, hit + BUILTIN.length)
    if (end < 0) break
    if (headEnd < 0) headEnd = lineStart
    keepFrom = end + 1
  }
  if (headEnd < 0) return text
  if (!inPlace) return Buffer.concat([text.subarray(0, headEnd), text.subarray(keepFrom)])
  text.copyWithin(keepFrom - headEnd, 0, headEnd)
  return text.subarray(keepFrom - headEnd)
}

export async function preprocess(
  spec: PreprocessSpec,
  { signal }: { signal?: AbortSignal } = {},
): Promise<Preprocessed> {
  const values: JobValues = {
    dir: spec.tempDir,
    id: randomUUID(),
    source: spec.inv.source,
    targets: spec.depfile?.targets.map((t) => t.name) ?? [],
  }
  // The text goes to a file, read in one piece: megabytes through the client's pipe and socket
  // cost three more copies, dozens of socket reads on the daemon's main thread, and as much
  // garbage again as the text itself.
  const { text: textPath, dep } = scratchPaths(values)
  const depPath = spec.depfile === undefined ? undefined : dep
  const learner = driverLearner(spec, values)
  // Nothing else may have made it yet (the pipeline makes its own lazily), and a cleaner may
  // have removed it since: one cheap call per job rather than a remembered answer. Synchronous
  // (microseconds): awaited on the thread pool, the preprocessor's start waited behind the slot
  // reservation's work on the main thread.
  mkdirSync(spec.tempDir, { recursive: true, mode: 0o700 })
  try {
    const opts = signal === undefined ? {} : { signal }
    const runArgv = async (argv: readonly string[]) => {
      const here = () =>
        runCompiler(
          { compiler: argv[0] as string, args: argv.slice(1), cwd: spec.cwd, env: spec.env },
          opts,
        )
      return spec.run === undefined
        ? await here()
        : await spec.run(argv, opts).catch((err: unknown) => {
            if (signal?.aborted || !(err instanceof ClientRunFailedError)) throw err
            return here()
          })
    }
    const cc1 = learner?.commands.command(learner.key, values)
    let run: Awaited<ReturnType<typeof runArgv>> | undefined
    if (cc1 !== undefined && learner !== undefined) {
      run = await runArgv(cc1).catch((err: unknown) => {
        if (signal?.aborted) throw err
        return undefined
      })
      // A learnt command that cannot start or dies: the driver decides, from now on.
      if (run === undefined || run.signal !== null) {
        learner.commands.reject(learner.key)
        run = undefined
      }
    }
    const sampling = cc1 === undefined && learner?.commands.wantsSample(learner.key) === true
    run ??= await runArgv([
      spec.compiler,
      ...preprocessArgs(spec.inv, spec.depfile, depPath),
      '-o',
      textPath,
    ])
    const ok = run.exitCode === 0 && run.signal === null
    // A depfile is a few kilobytes at most: read synchronously (see SYNC_READ_MAX).
    const depfile = ok && depPath !== undefined ? readFileSync(depPath) : undefined
    const whole = ok ? await readWhole(textPath) : undefined
    const text = whole === undefined ? Buffer.alloc(0) : whole.text
    if (sampling && whole !== undefined && learner !== undefined) {
      // Learnt and checked in the background against what the driver made (before stripping).
      void learner.commands.learn(learner.key, learner.job, {
        textHash: hashBytes(text),
        depfileHash: depfile === undefined ? undefined : hashBytes(depfile),
        stderr: run.stderr,
      })
    }
    let released = false
    const release = () => {
      if (released || whole === undefined) return
      released = true
      giveTextBuffer(whole.buffer)
    }
    return {
      release,
      // The text is this run's own buffer: stripped in place.
      text: ok && spec.inv.family === 'gcc' ? stripGccBuiltins(text, { inPlace: true }) : text,
      depfile,
      exitCode: run.exitCode,
      signal: run.signal,
      stderr: run.stderr,
      ms: run.ms,
    }
  } finally {
    removeQuietly(textPath)
    removeQuietly(depPath)
  }
}

/** The flag set's learnt-command state, for a gcc job whose arguments allow one. */
function driverLearner(
  spec: PreprocessSpec,
  values: JobValues,
): { commands: GccDriverCommands; key: string; job: DriverJob } | undefined {
  const commands = spec.driverCommands
  if (commands === undefined || spec.inv.family !== 'gcc') return undefined
  const sentinelArgs = driverArgs(spec.inv, spec.depfile, sentinelValues(values))
  if (sentinelArgs === undefined) return undefined
  const job: DriverJob = {
    compiler: spec.compiler,
    cwd: spec.cwd,
    env: spec.env,
    values,
    sentinelArgs,
  }
  const key = commands.keyOf(job)
  return key === undefined ? undefined : { commands, key, job }
}

/**
 * Removes a scratch file (one unlink: no stat first), if there is one. Synchronous: tens of
 * microseconds, where an awaited unlink held the job for a thread-pool round trip.
 */
function removeQuietly(path: string | undefined): void {
  if (path === undefined) return
  try {
    unlinkSync(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
}

/**
 * Up to this size the preprocessor's files are read synchronously: a read from the page cache
 * takes microseconds there, where each call of the promise API is a thread-pool round trip
 * (open, stat, read, close: four of them one after another, ~1 ms of a tiny job's wall time and
 * a few hundred microseconds of CPU). Larger texts go through the thread pool, so that megabytes
 * of C++ never hold up the event loop.
 */
export const SYNC_READ_MAX = 1024 * 1024

/**
 * A file's bytes in a pooled buffer (`text-buffers.ts`), read in as few calls as the kernel
 * allows: `text` is the view of the bytes, `buffer` what to give back.
 */
async function readWhole(path: string): Promise<{ text: Buffer; buffer: Buffer }> {
  const fd = openSync(path, 'r')
  let size: number
  try {
    size = fstatSync(fd).size
    if (size <= SYNC_READ_MAX) {
      const buffer = takeTextBuffer(size)
      let at = 0
      while (at < size) {
        const got = readSync(fd, buffer, at, size - at, at)
        if (got === 0) break
        at += got
      }
      // A file that shrank under us: only what was read (gcc is done writing it by now).
      return { text: buffer.subarray(0, at), buffer }
    }
  } finally {
    closeSync(fd)
  }
  const fh = await open(path, 'r')
  try {
    const buffer = takeTextBuffer(size)
    let at = 0
    while (at < size) {
      const { bytesRead } = await fh.read(buffer, at, size - at, at)
      if (bytesRead === 0) break
      at += bytesRead
    }
    return { text: buffer.subarray(0, at), buffer }
  } finally {
    await fh.close()
  }
}
