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
 * The depfile, when wanted, comes from this same run (`-MD -MF` with the invocation's targets).
 *
 * When the compile request came from the native client, the preprocessor runs through it
 * (`spec.run`, `daemon/client-runner.ts`): forking the large daemon costs more CPU than a
 * small unit's preprocessing.
 */
import { randomUUID } from 'node:crypto'
import { mkdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { runCompiler } from '../compile/run-compiler.ts'
import type { ClientRunner } from '../compile/types.ts'
import type { CacheableInvocation, DepfileRequest } from '../compilers/types.ts'
import { ClientRunFailedError } from '../errors.ts'

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
}

export interface Preprocessed {
  text: Buffer
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

const BUILTIN = Buffer.from('"<built-in>"\n#define ')
/** How far past the last pair the next one may start (gcc's line markers before the first). */
const BUILTIN_WINDOW = 64 * 1024

/**
 * Drops gcc's `# 0 "<built-in>"` / `#define …` pairs from the head of directives-only output: the
 * builder's compiler predefines the same macros (same toolchain, same flags), and defining them
 * again would warn. Command-line (`-D`) definitions follow under `<command-line>` and stay.
 */
export function stripGccBuiltins(text: Buffer): Buffer {
  const parts: Buffer[] = []
  let keepFrom = 0
  // Only the head holds built-ins, one contiguous run of pairs: stop at the first gap.
  for (;;) {
    // Search a short window only: the pairs sit at the head, and a miss must not scan the whole
    // (megabytes of) output.
    const window = text.subarray(0, Math.min(text.length, keepFrom + BUILTIN_WINDOW))
    const hit = window.indexOf(BUILTIN, keepFrom)
    if (hit < 0) break
    const lineStart = text.lastIndexOf(10, hit) + 1
    if (text[lineStart] !== 0x23 /* # */ || (parts.length > 0 && lineStart !== keepFrom)) break
    const end = text.indexOf(10, hit + BUILTIN.length)
    if (end < 0) break
    if (lineStart > keepFrom) parts.push(text.subarray(keepFrom, lineStart))
    else if (parts.length === 0) parts.push(text.subarray(0, 0))
    keepFrom = end + 1
  }
  if (parts.length === 0) return text
  parts.push(text.subarray(keepFrom))
  return Buffer.concat(parts)
}

/** Scratch directories known to exist. */
const madeDirs = new Set<string>()

export async function preprocess(
  spec: PreprocessSpec,
  { signal }: { signal?: AbortSignal } = {},
): Promise<Preprocessed> {
  const depPath =
    spec.depfile === undefined ? undefined : join(spec.tempDir, `pp-${randomUUID()}.d`)
  if (depPath !== undefined && !madeDirs.has(spec.tempDir)) {
    // Nothing else may have made it yet (the pipeline makes its own lazily).
    await mkdir(spec.tempDir, { recursive: true, mode: 0o700 })
    madeDirs.add(spec.tempDir)
  }
  try {
    const args = preprocessArgs(spec.inv, spec.depfile, depPath)
    const opts = signal === undefined ? {} : { signal }
    const here = () =>
      runCompiler({ compiler: spec.compiler, args, cwd: spec.cwd, env: spec.env }, opts)
    const run =
      spec.run === undefined
        ? await here()
        : await spec.run([spec.compiler, ...args], opts).catch((err: unknown) => {
            if (signal?.aborted || !(err instanceof ClientRunFailedError)) throw err
            return here()
          })
    const ok = run.exitCode === 0 && run.signal === null
    const depfile = ok && depPath !== undefined ? await readFile(depPath) : undefined
    return {
      text: ok && spec.inv.family === 'gcc' ? stripGccBuiltins(run.stdout) : run.stdout,
      depfile,
      exitCode: run.exitCode,
      signal: run.signal,
      stderr: run.stderr,
      ms: run.ms,
    }
  } finally {
    if (depPath !== undefined) await rm(depPath, { force: true })
  }
}
