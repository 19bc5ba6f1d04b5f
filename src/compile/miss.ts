/**
 * The miss path: run the real compile, learn which headers it read, reply with exactly what the
 * compiler printed, and store the result (and the direct-mode manifest entry) in the background
 * after that reply: the wrapper's wall time does not include the cache write (pending-stores.ts).
 *
 * The header list comes without an extra preprocessor run whenever possible (ccache's depend
 * mode): when the invocation writes no depfile, `-MD -MF <temp>` is added to the compile (gcc
 * and clang leave the object unchanged: -M options are never recorded in DW_AT_producer); when it
 * asks for -MD, its own depfile is read. Two cases cost an extra dependency-only pass run
 * concurrently with the compile (`<preprocessorArgs> -E -M -MF <temp>`, typically 10-30 % of
 * a compile's CPU): -MMD (its depfile omits system headers, which must be in the manifest) and
 * clang's -frecord-command-line/-grecord-command-line (an added option would be recorded in
 * the object), and gcc with a precompiled header in reach (its depfile omits the headers a used
 * `.gch` stands for; the PCH itself is in the key, see pch-probe.ts, and the text headers are
 * still scanned for time macros). A remote compile needs no such pass: the client's
 * preprocessing for it names every file in its line markers (`MissRun.files`). In 'both' and 'preprocessor' modes the preprocessor's line
 * markers already name every file.
 *
 * Extra outputs (`.dwo`, `.gcno`, `.su`…) the compiler legitimately skips (gcc -flto
 * -fstack-usage writes the `.su` at link time) are recorded as absent: a hit then writes the
 * same set of files, and like the compiler leaves an existing file of that name alone. An extra
 * output counts as written only if its stat changed during the compile, so a leftover from an
 * earlier build is never stored as this compile's.
 *
 * Safety net for shared checkouts: when the key relied on base-dir rewriting and the object (or
 * an extra output) contains the bytes of the checkout root, the entry is stored as
 * checkout-specific (its result key and manifest entry are bound to this cwd).
 */
import { readFileSync, type Stats, statSync, unlinkSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { CachedFile, CachedResult } from '../cache/types.ts'
import type { CacheableInvocation } from '../compilers/types.ts'
import { PIPELINE_REASONS, type RequestContext } from './context.ts'
import { parseDepfile } from './depfile-parse.ts'
import { formatDepfileBytes } from './depfile-replay.ts'
import { directResultKey } from './key-inputs.ts'
import { deriveKey } from './key.ts'
import { addEntry, decodeManifest, encodeManifest } from './manifest.ts'
import { preprocessOnlyArgs } from './preprocessor-key.ts'
import type { ResultMeta } from './result-meta.ts'
import { collectSideInputs, sameSideInputs } from './side-inputs.ts'
import type { MissRun } from './miss-compiler.ts'
import { runCompiler } from './run-compiler.ts'
import { forceColorArg } from './stderr-replay.ts'
import { timeMacrosCacheable } from './time-macros.ts'
import type { CompileReply } from './types.ts'
import { applyClientMode } from './write-outputs.ts'

export interface MissPlan {
  mode: 'direct' | 'preprocessor' | 'both'
  /** Direct key when a manifest entry is to be recorded. */
  directKey: string | undefined
  /** Preprocessor key (preprocessor and both modes). */
  ppKey: string | undefined
  /** Files named by the preprocessor's line markers, when it ran. */
  ppFiles: string[] | undefined
  /** The source hash the keys were computed with. */
  sourceHash: string
  /** Wall clock (ms) just before the first child process of this request (preprocessor run). */
  firstSpawnMs: number | undefined
}

/** Thrown to make the pipeline step aside (the client runs the compiler itself). */
export class StepAside extends Error {
  readonly reason: string
  readonly fallback: boolean
  constructor(reason: string, fallback: boolean) {
    super(reason)
    this.reason = reason
    this.fallback = fallback
  }
}

let tempCounter = 0

/**
 * Whether an option added to the compile would end up in the object. gcc leaves -M* and
 * -fdiagnostics-color out of -frecord-gcc-switches and DW_AT_producer; clang's
 * -frecord-command-line / -grecord-command-line record everything.
 */
export function recordsAddedArgs(inv: CacheableInvocation): boolean {
  return inv.recordsCommandLine && inv.family === 'clang'
}

function readIfExists(path: string): Buffer | undefined {
  try {
    return readFileSync(path)
  } catch {
    return undefined
  }
}

/** A stat identity that changes whenever the file is replaced or rewritten. */
function stamp(path: string): string | undefined {
  let st: Stats | undefined
  try {
    st = statSync(path, { bigint: false, throwIfNoEntry: false })
  } catch {
    return undefined
  }
  return st === undefined ? undefined : `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`
}

function removeQuietly(path: string | undefined): void {
  if (path === undefined) return
  try {
    unlinkSync(path)
  } catch {
    // Already gone.
  }
}

/** A miss's reply, and the cache write still running after it (when there is one). */
export interface MissResult {
  reply: CompileReply
  /** Settles (never rejects) once the entry and its manifest entry are written or given up. */
  storing: Promise<void> | undefined
}

export async function compileAndStore(ctx: RequestContext, plan: MissPlan): Promise<MissResult> {
  const { inv, request, services } = ctx
  const { stats, log } = services
  const args = [...request.args]
  if (ctx.wantColor && inv.color === 'auto') {
    // The pipeline never gets here for a line that would record the added option.
    args.push(forceColorArg(inv.family))
  }

  // Files the children read were read after this instant (the compiler's own start takes
  // longer than the kernel's coarse file clock lags, one tick of a few ms).
  // Date.now() truncates: the real instant lies in [now, now + 1).
  const readsFromMs = (plan.firstSpawnMs ?? Date.now()) + 1

  // Where the header list comes from.
  let injected: string | undefined
  let depPass: Promise<Buffer | undefined> | undefined
  let depPassFile: string | undefined
  let needsDepPass = false
  const wantHeaders = plan.ppFiles === undefined
  if (wantHeaders) {
    if (inv.depfile?.kind === 'MD' && !ctx.side.pch.gccPch) {
      // Its own depfile lists every header.
    } else if (inv.depfile === undefined && !recordsAddedArgs(inv) && !ctx.side.pch.gccPch) {
      injected = join(services.tempDir(), `dep-${process.pid}-${tempCounter++}.d`)
      args.push('-MD', '-MF', injected)
    } else needsDepPass = true
  }
  // Started with a local compile (concurrently), never for a remote one: its preprocessing
  // already names every header (`MissRun.files`), except with a precompiled header in reach.
  const startDepPass = () => {
    if (!needsDepPass || depPass !== undefined) return
    const file = join(services.tempDir(), `dep-${process.pid}-${tempCounter++}.d`)
    depPassFile = file
    depPass = runCompiler(
      {
        compiler: request.compiler,
        args: [...preprocessOnlyArgs(inv.preprocessorArgs), '-M', '-MF', file],
        cwd: request.cwd,
        env: request.env,
      },
      { signal: ctx.signal },
    ).then(
      (run) => (run.exitCode === 0 ? readIfExists(file) : undefined),
      () => undefined,
    )
  }
  if (ctx.side.pch.gccPch) startDepPass()

  // Extra outputs as they were before the compile: unchanged afterwards means not written.
  const extraBefore = inv.extraOutputs.map((extra) => stamp(resolve(request.cwd, extra.path)))

  let run: MissRun
  let depPassOut: Buffer | undefined
  try {
    try {
      const local = () => {
        startDepPass()
        return runCompiler(
          { compiler: request.compiler, args, cwd: request.cwd, env: request.env },
          { signal: ctx.signal },
        )
      }
      run = await (services.compileMiss === undefined
        ? local()
        : services.compileMiss(ctx, {
            args,
            injectedDepfile: injected,
            wantsFiles: needsDepPass && !ctx.side.pch.gccPch,
            local,
          }))
    } catch (error) {
      throw new StepAside(`spawn-failed: ${(error as Error).message}`, true)
    }
    if (run.files === undefined) startDepPass()
    depPassOut = depPass === undefined ? undefined : await depPass
  } finally {
    if (depPass !== undefined) await depPass.catch(() => undefined)
  }
  const injectedText =
    run.injectedDepfileText ?? (injected === undefined ? undefined : readIfExists(injected))
  if (run.injectedDepfileText === undefined) removeQuietly(injected)
  removeQuietly(depPassFile)

  if (run.signal !== null) throw new StepAside(`compiler-killed-${run.signal}`, true)
  if (run.where === 'remote') stats.remoteCompile()
  else stats.localCompile()
  if (run.exitCode !== 0) {
    stats.compileFailure()
    const failed: CompileReply = {
      kind: 'done',
      exitCode: run.exitCode,
      stdout: run.stdout,
      stderr: run.stderr,
    }
    return { reply: failed, storing: undefined }
  }
  const reply: CompileReply = { kind: 'done', exitCode: 0, stdout: run.stdout, stderr: run.stderr }
  const answered: MissResult = { reply, storing: undefined }

  // Outputs, with the client's file modes.
  const cwd = request.cwd
  const objectPath = resolve(cwd, inv.output)
  applyClientMode(objectPath, request.umask)
  const object = readIfExists(objectPath)
  const files: CachedFile[] = []
  const notCached = (why: string) => {
    log.debug('compile not cached', { why, source: inv.source })
    return answered
  }
  if (object === undefined) return notCached('object missing')
  files.push({ role: 'object', data: object })
  const absent: string[] = []
  for (const [i, extra] of inv.extraOutputs.entries()) {
    const path = resolve(cwd, extra.path)
    const before = extraBefore[i]
    if (before !== undefined && stamp(path) === before) {
      absent.push(extra.role)
      continue
    }
    applyClientMode(path, request.umask)
    const data = readIfExists(path)
    if (data === undefined) absent.push(extra.role)
    else files.push({ role: extra.role, data })
  }
  let depMeta: ResultMeta['dep']
  let userDepfile: Buffer | undefined
  if (inv.depfile !== undefined) {
    const path = resolve(cwd, inv.depfile.path)
    applyClientMode(path, request.umask)
    userDepfile = readIfExists(path)
    if (userDepfile === undefined) return notCached('depfile missing')
    const parsed = parseDepfile(userDepfile.toString('latin1'))
    const again = formatDepfileBytes(inv.family, inv.depfile.targets, parsed)
    const exact = again.equals(userDepfile)
    if (!exact) log.debug('depfile format differs from the compiler', { path: inv.depfile.path })
    depMeta = { targets: inv.depfile.targets, prereqs: parsed.prereqs, phony: parsed.phony, exact }
    files.push({ role: 'depfile', data: userDepfile })
  }

  // An input written while the compile ran (a generated header, an editor saving) may not be
  // what the compiler read: do not store (ccache's "file too new"). The source must still hash
  // as it did when the key was made (the stat cache rehashes anything touched since).
  const tooNew = (newestMs: number) => newestMs >= readsFromMs
  const sourceNow = services.files.hash(resolve(cwd, inv.source))
  const sideNow = collectSideInputs(inv, {
    cwd,
    env: request.env,
    files: services.files,
    dirs: services.pchDirs,
    leading: ctx.side.leading,
  })
  if (
    sourceNow === undefined ||
    sourceNow.hash !== plan.sourceHash ||
    !sameSideInputs(ctx.side, sideNow)
  ) {
    stats.uncacheable(PIPELINE_REASONS.inputTooNew)
    return answered
  }

  // Every file the compile read (besides the source, already in the key).
  let fileList: string[] | undefined = plan.ppFiles ?? (needsDepPass ? run.files : undefined)
  if (fileList === undefined) {
    const text =
      injectedText ?? depPassOut ?? (inv.depfile?.kind === 'MD' ? userDepfile : undefined)
    if (text !== undefined)
      fileList = parseDepfile(text.toString('latin1')).prereqs.map((p) =>
        Buffer.from(p, 'latin1').toString('utf8'),
      )
  }
  let headers: [string, string][] | undefined
  if (fileList !== undefined) {
    headers = []
    for (const name of fileList) {
      if (name === inv.source) continue
      const hashed = services.files.hash(resolve(cwd, name))
      if (hashed === undefined) {
        headers = undefined
        break
      }
      if (!timeMacrosCacheable(hashed.timeMacros, request.env)) {
        stats.uncacheable(PIPELINE_REASONS.timeMacros)
        return answered
      }
      if (hashed.incbin) {
        stats.uncacheable(PIPELINE_REASONS.incbin)
        return answered
      }
      if (tooNew(hashed.newestMs)) {
        stats.uncacheable(PIPELINE_REASONS.inputTooNew)
        return answered
      }
      headers.push([ctx.paths.normalize(name), hashed.hash])
    }
  }

  // The result key.
  let resultKey: string | undefined
  if (plan.mode === 'direct') {
    if (plan.directKey === undefined || headers === undefined) return notCached('no header list')
    resultKey = directResultKey(plan.directKey, headers)
  } else resultKey = plan.ppKey
  if (resultKey === undefined) return notCached('no result key')

  const root = ctx.paths.checkoutRoot()
  let specific = false
  if (root !== undefined) {
    const needle = Buffer.from(root, 'utf8')
    specific =
      root.length <= 1 ||
      files.some(
        (f) =>
          f.role !== 'depfile' &&
          Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength).includes(needle),
      )
  }
  if (specific) resultKey = deriveKey('checkout', resultKey, cwd)

  const meta: ResultMeta = {
    v: 1,
    family: inv.family,
    cwd,
    specific,
    colored: ctx.wantColor,
    ...(root === undefined || specific ? {} : { root }),
    ...(depMeta === undefined ? {} : { dep: depMeta }),
    ...(absent.length === 0 ? {} : { absent }),
  }
  stats.miss()
  if (ctx.settings.readOnly) return answered
  // The wrapper (and the build behind it) gets its answer now; the entry is written after it.
  // Until then a lookup of this key waits for the write (pending-stores.ts), and in direct mode
  // the pipeline holds the coalescing slot until `storing` settles.
  const entry: CachedResult = {
    files,
    stdout: run.stdout,
    stderr: run.stderr,
    exitCode: 0,
    compileMs: Math.round(run.ms),
    meta: meta as unknown as Record<string, unknown>,
  }
  const key = resultKey
  const { directKey } = plan
  // Findable by every key a lookup may use: the direct key too, for a compile that held no
  // coalescing slot (a follower compiling itself), so that the next identical request waits.
  const keys = [...new Set([key, plan.ppKey ?? key, directKey ?? key])]
  const read = headers
  const storing = services.pendingStores.run(keys, async (signal) => {
    try {
      await services.store.putResult(key, entry, { signal })
      if (directKey !== undefined && read !== undefined) {
        await recordManifest(ctx, directKey, read, key, specific, { signal })
      }
    } catch (error) {
      // The compile succeeded and its outputs are in place: a cache that cannot be written
      // (disk full, permissions, a daemon stopping) must not turn it into a failure.
      log.warn('cache write failed', { error, key })
    }
  })
  return { reply, storing }
}

/** Adds (or refreshes) a manifest entry: these headers with these hashes give this result. */
export async function recordManifest(
  ctx: RequestContext,
  directKey: string,
  headers: [string, string][],
  resultKey: string,
  specific: boolean,
  { signal }: { signal?: AbortSignal } = {},
): Promise<void> {
  const entry = { h: headers, r: resultKey, ...(specific ? { cwd: ctx.request.cwd } : {}) }
  await ctx.services.store.updateManifest(
    directKey,
    (current) => {
      const updated = addEntry(decodeManifest(current), entry)
      ctx.services.manifests.set(directKey, updated)
      const bytes = encodeManifest(updated)
      // Already the newest entry (the same unit rebuilt with the same headers): nothing to
      // write. A rewrite is a file made and one removed, a journal transaction on the disk.
      return current !== undefined && Buffer.compare(current, bytes) === 0 ? undefined : bytes
    },
    signal === undefined ? {} : { signal },
  )
}
