/**
 * The local compile pipeline: turns a `CompileRequest` into a `CompileReply` through the cache.
 *
 * Outcomes:
 * - uncacheable invocation (linking, -E, …) → `exec-local`: the client execs the compiler itself,
 *   zero overhead and exact behaviour; counted by reason.
 * - hit → outputs written, cached stdout/stderr replayed, exit 0.
 * - miss → compiled here, stored, output passed through.
 * - compile error → `done` with the compiler's exact stdout/stderr/exit code (not cached).
 * - any trouble of meshcc's own (bad setting, unreadable cache, spawn failure, a bug) →
 *   `exec-local` and a counted fallback: never a broken build.
 *
 * Modes (MESHCC_CACHE_MODE): 'direct' (default: source + manifest of headers, no preprocessor
 * run on a hit or a miss), 'preprocessor' (key on the preprocessed text), 'both' (ccache's
 * default: direct first, then the preprocessor key, recording the manifest either way).
 *
 * The hit path is synchronous (stat cache, sync store reads, sync writes): no child process, no
 * re-reading of files whose stat is unchanged.
 *
 * Identical concurrent misses (same direct key) compile once: the others wait for the first and
 * replay its result as hits (coalesce.ts).
 *
 * A miss answers before its cache write (pending-stores.ts): the wrapper does not wait for the
 * store. The write stays visible to lookups: the leader's coalescing slot is held until it
 * settles (direct modes), a preprocessor-key lookup waits for a write of its key, and
 * `flushStores` is the barrier for whatever reports on the cache.
 *
 * @example
 * ```ts
 * const handler = createLocalCompileHandler({ store, stats, log, config })
 * const reply = await handler.handle(request, { signal })
 * ```
 */
import { mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { CacheStore } from '../cache/types.ts'
import type { MeshccConfig } from '../config/config.ts'
import { type RequestSettings, requestSettings } from '../config/request-settings.ts'
import type { Logger } from '../daemon/logger.ts'
import type { StatsRecorder } from '../stats/recorder.ts'
import { COALESCE_MAX_WAIT_MS, MissCoalescer } from './coalesce.ts'
import { CompilerIdentities } from './compiler-identity.ts'
import { PIPELINE_REASONS, type PipelineServices, type RequestContext } from './context.ts'
import { FileHashCache } from './file-hash-cache.ts'
import { replayHit } from './hit.ts'
import { parseRequest } from './invocation.ts'
import { directKey, preprocessorKey } from './key-inputs.ts'
import { deriveKey } from './key.ts'
import { cachedLeadingIncludes, type LeadingIncludes } from './leading-includes.ts'
import { decodeManifest, findEntry, ManifestCache } from './manifest.ts'
import {
  compileAndStore,
  type MissPlan,
  recordManifest,
  recordsAddedArgs,
  StepAside,
} from './miss.ts'
import type { MissCompiler } from './miss-compiler.ts'
import { KeyPaths } from './path-normalize.ts'
import { PchDirCache } from './pch-dir-cache.ts'
import { PendingStores } from './pending-stores.ts'
import { digestPreprocessed, preprocessOnlyArgs } from './preprocessor-key.ts'
import { readMeta } from './result-meta.ts'
import { collectSideInputs, NO_SIDE_INPUTS } from './side-inputs.ts'
import { runCompiler } from './run-compiler.ts'
import { wantsColor } from './stderr-replay.ts'
import { timeMacrosCacheable } from './time-macros.ts'
import type { ClientRunner, CompileHandler, CompileReply, CompileRequest } from './types.ts'

export interface LocalCompileHandlerInit {
  store: CacheStore
  stats: StatsRecorder
  log: Logger
  config: MeshccConfig
  /** Directory for temporary dependency files (default: a fresh one under the OS temp dir). */
  tempDir?: string
  /** Shared stat cache (tests inject one to observe it). */
  files?: FileHashCache
  /** How long a request waits for an identical one's compile (default 2 minutes). */
  coalesceMaxWaitMs?: number
  /** Runs misses' compiles, here or on the mesh (the daemon's remote compiles). */
  compileMiss?: MissCompiler
}

export interface LocalCompileHandler extends CompileHandler {
  /** The stat cache, for diagnostics and tests. */
  readonly files: FileHashCache
  /** Misses being compiled (or stored) now, by direct key (for diagnostics and tests). */
  readonly inFlight: MissCoalescer
  /** Cache writes still running after their reply (for diagnostics and tests). */
  readonly pendingStores: PendingStores
  /** Waits for the cache writes of every compile answered so far (stats, cache clear, doctor). */
  flushStores(options?: { signal?: AbortSignal }): Promise<void>
  /** Flushes until `signal` aborts, then aborts the writes left (a stopping daemon). */
  close(options?: { signal?: AbortSignal }): Promise<void>
}

/** A reply, with the cache write that continues after it (a stored miss). */
type Outcome = { reply: CompileReply; outcome: string; storing?: Promise<void> | undefined }

export function createLocalCompileHandler(init: LocalCompileHandlerInit): LocalCompileHandler {
  const files = init.files ?? new FileHashCache()
  const identities = new CompilerIdentities(files, {
    get: (key) => init.store.getManifest(key),
    put: (key, data) => init.store.putManifest(key, data),
  })
  const coalescer = new MissCoalescer(init.coalesceMaxWaitMs ?? COALESCE_MAX_WAIT_MS)
  const pendingStores = new PendingStores()
  let tempDir = init.tempDir
  let tempDirReady = false
  const services: PipelineServices = {
    store: init.store,
    stats: init.stats,
    log: init.log,
    files,
    manifests: new ManifestCache(),
    leading: new Map(),
    pchDirs: new PchDirCache(),
    compileMiss: init.compileMiss,
    pendingStores,
    tempDir: () => {
      if (tempDir === undefined) tempDir = mkdtempSync(join(tmpdir(), 'meshcc-deps-'))
      else if (!tempDirReady) mkdirSync(tempDir, { recursive: true, mode: 0o700 })
      tempDirReady = true
      return tempDir
    },
  }
  const { stats, log } = init

  const stepAside = (reason: string, kind: 'uncacheable' | 'fallback' | 'none'): Outcome => {
    if (kind === 'uncacheable') stats.uncacheable(reason)
    else if (kind === 'fallback') stats.fallback(reason)
    return { reply: { kind: 'exec-local', reason }, outcome: `exec-local:${reason}` }
  }

  async function run(
    request: CompileRequest,
    signal: AbortSignal,
    runOnClient: ClientRunner | undefined,
  ): Promise<Outcome> {
    let settings: RequestSettings
    try {
      settings = requestSettings(request.env)
    } catch (error) {
      log.warn('bad per-request setting', { error })
      return stepAside('config', 'fallback')
    }
    if (settings.disabled) return stepAside(PIPELINE_REASONS.disabled, 'none')
    const parsed = await parseRequest(request, identities, signal)
    if (parsed.identity === undefined) return stepAside(parsed.inv.reason, 'uncacheable')
    const { inv, identity } = parsed
    const wantColor = wantsColor(inv, request.stderrIsTty, request.env)
    if (wantColor && inv.color === 'auto' && recordsAddedArgs(inv)) {
      // Colors need an added option that clang would record in the object: let the client run it.
      return stepAside(PIPELINE_REASONS.recordedColor, 'uncacheable')
    }
    const ctx: RequestContext = {
      request,
      inv,
      settings,
      identity,
      paths: new KeyPaths(request.cwd, settings.baseDir),
      wantColor,
      side: NO_SIDE_INPUTS,
      services,
      signal,
      runOnClient,
    }
    return cacheable(ctx)
  }

  async function cacheable(ctx: RequestContext): Promise<Outcome> {
    const { inv, request, settings } = ctx
    const source = files.hash(resolve(request.cwd, inv.source))
    if (source === undefined) return stepAside(PIPELINE_REASONS.sourceMissing, 'uncacheable')
    const mode = settings.cacheMode
    // In every mode: even preprocessor mode, whose text has the time expanded, would pair that
    // text with an object compiled a moment later.
    if (!timeMacrosCacheable(source.timeMacros, request.env))
      return stepAside(PIPELINE_REASONS.timeMacros, 'uncacheable')
    if (source.incbin) return stepAside(PIPELINE_REASONS.incbin, 'uncacheable')

    // Extra input files and precompiled headers the compiler would use silently: in every key.
    let leading: LeadingIncludes | undefined
    if (inv.family === 'gcc') {
      leading = cachedLeadingIncludes(
        services.leading,
        resolve(request.cwd, inv.source),
        source.hash,
      )
      if (leading === undefined) return stepAside(PIPELINE_REASONS.inputTooNew, 'uncacheable')
    }
    ctx.side = collectSideInputs(inv, {
      cwd: request.cwd,
      env: request.env,
      files,
      dirs: services.pchDirs,
      leading,
    })

    // Direct mode: manifest lookup, no child process.
    if (mode === 'preprocessor') return miss(ctx, undefined, source.hash)
    const dKey = directKey(ctx, source.hash)
    if (!settings.recache) {
      // An answered compile of this key may still be writing its manifest.
      if (pendingStores.has(dKey)) await pendingStores.waitFor(dKey, { signal: ctx.signal })
      const hit = directHit(ctx, dKey)
      if (hit !== undefined) return hit
    }
    // The same key compiling right now: wait for its result rather than compile it again.
    const slot = coalescer.enter(dKey)
    if (!slot.lead) {
      if (!settings.recache) {
        const waited = await coalescer.wait(slot, { signal: ctx.signal })
        const hit = directHit(ctx, dKey)
        if (hit !== undefined) return { ...hit, outcome: 'hit-direct-coalesced' }
        log.debug('coalesced miss compiles itself', { waited, source: inv.source })
      }
      return miss(ctx, dKey, source.hash)
    }
    let storing: Promise<void> | undefined
    try {
      // A read-only request stores nothing: nobody waits for it.
      if (settings.readOnly) slot.release()
      const outcome = await miss(ctx, dKey, source.hash)
      storing = outcome.storing
      return outcome
    } finally {
      // Followers look the key up again once the entry is written, not once the reply is sent.
      if (storing === undefined) slot.release()
      else void storing.then(slot.release)
    }
  }

  /** A direct-mode hit replayed, or undefined. */
  function directHit(ctx: RequestContext, dKey: string): Outcome | undefined {
    let manifest = services.manifests.get(dKey)
    if (manifest === undefined) {
      manifest = decodeManifest(init.store.getManifest(dKey))
      if (manifest.entries.length > 0) services.manifests.set(dKey, manifest)
    }
    const entry = findEntry(manifest, ctx.request.cwd, (path) => files.hash(path)?.hash)
    if (entry === undefined) return undefined
    const result = init.store.getResult(entry.r)
    if (result === undefined) return undefined
    const reply = replayHit(ctx, result)
    if (reply === undefined) return undefined
    stats.hit('direct', result.compileMs)
    return { reply, outcome: 'hit-direct' }
  }

  /** After a direct-mode miss (or in preprocessor mode): preprocessor lookup, then compile. */
  async function miss(
    ctx: RequestContext,
    dKey: string | undefined,
    sourceHash: string,
  ): Promise<Outcome> {
    const { inv, request, settings } = ctx
    const mode = settings.cacheMode
    // Preprocessor mode: key on the preprocessed text.
    const plan: MissPlan = {
      mode,
      directKey: dKey,
      ppKey: undefined,
      ppFiles: undefined,
      sourceHash,
      firstSpawnMs: undefined,
    }
    if (mode !== 'direct') {
      plan.firstSpawnMs = Date.now()
      const pp = await runCompiler(
        {
          compiler: request.compiler,
          args: preprocessOnlyArgs(inv.preprocessorArgs),
          cwd: request.cwd,
          env: request.env,
        },
        { signal: ctx.signal },
      ).catch((error: Error) => {
        throw new StepAside(`spawn-failed: ${error.message}`, true)
      })
      if (pp.exitCode === 0) {
        const digest = digestPreprocessed(pp.stdout, ctx.paths)
        const ppKey = preprocessorKey(ctx, digest.text)
        plan.ppKey = ppKey
        plan.ppFiles = digest.files
        if (!settings.recache) {
          // An answered miss of this key may still be writing it.
          if (pendingStores.has(ppKey)) await pendingStores.waitFor(ppKey, { signal: ctx.signal })
          const result =
            init.store.getResult(ppKey) ??
            init.store.getResult(deriveKey('checkout', ppKey, request.cwd))
          const reply = result === undefined ? undefined : replayHit(ctx, result)
          if (result !== undefined && reply !== undefined) {
            // The manifest entry is written after the reply, as a miss's entry is (the
            // coalescing slot is held until it settles, so the next identical lookup is direct).
            const storing =
              dKey === undefined || settings.readOnly
                ? undefined
                : pendingStores.run([dKey], (signal) =>
                    recordFromMarkers(ctx, dKey, digest.files, ppKey, result, plan, signal).catch(
                      (error: unknown) => log.warn('manifest write failed', { error, key: dKey }),
                    ),
                  )
            stats.hit('preprocessed', result.compileMs)
            return { reply, outcome: 'hit-preprocessed', storing }
          }
        }
      } else {
        // The compile will fail the same way (missing header…): let it report, uncached.
        plan.ppKey = undefined
        plan.directKey = undefined
        plan.ppFiles = []
      }
    }
    if (settings.readOnly) {
      stats.miss()
      return { reply: { kind: 'exec-local', reason: 'read-only-miss' }, outcome: 'miss-read-only' }
    }
    const { reply, storing } = await compileAndStore(ctx, plan)
    const outcome = reply.kind === 'done' ? `miss:exit=${reply.exitCode}` : 'miss'
    return { reply, outcome, storing }
  }

  /** 'both' mode, preprocessor hit: remember the header set so the next lookup is direct. */
  async function recordFromMarkers(
    ctx: RequestContext,
    dKey: string,
    names: string[],
    ppKey: string,
    result: { meta: Record<string, unknown> },
    plan: MissPlan,
    signal: AbortSignal,
  ): Promise<void> {
    // A file written since the preprocessor started may not be what it read: the entry would
    // pair its new hash (or the direct key's source hash) with the other text's result.
    const readsFromMs = (plan.firstSpawnMs ?? Date.now()) + 1
    const source = files.hash(resolve(ctx.request.cwd, ctx.inv.source))
    if (source === undefined || source.hash !== plan.sourceHash) return
    const headers: [string, string][] = []
    for (const name of names) {
      if (name === ctx.inv.source) continue
      const hashed = files.hash(resolve(ctx.request.cwd, name))
      if (hashed === undefined || !timeMacrosCacheable(hashed.timeMacros, ctx.request.env)) return
      if (hashed.incbin || hashed.newestMs >= readsFromMs) return
      headers.push([ctx.paths.normalize(name), hashed.hash])
    }
    const specific = readMeta(result.meta)?.specific === true
    const resultKey = specific ? deriveKey('checkout', ppKey, ctx.request.cwd) : ppKey
    await recordManifest(ctx, dKey, headers, resultKey, specific, { signal })
  }

  return {
    files,
    inFlight: coalescer,
    pendingStores,
    flushStores: (options = {}) => pendingStores.flush(options),
    close: (options = {}) => pendingStores.close(options),
    async handle(request, { signal, runOnClient }) {
      const started = performance.now()
      let outcome: Outcome
      try {
        outcome = await run(request, signal, runOnClient)
      } catch (error) {
        if (signal.aborted) outcome = stepAside('aborted', 'none')
        else if (error instanceof StepAside) {
          if (error.fallback) log.warn('compile pipeline stepped aside', { reason: error.reason })
          outcome = stepAside(
            error.reason.split(':')[0] ?? 'error',
            error.fallback ? 'fallback' : 'none',
          )
        } else {
          log.error('compile pipeline failed', { error, args: request.args, cwd: request.cwd })
          const code = (error as { code?: unknown }).code
          outcome = stepAside(typeof code === 'string' ? code : 'internal-error', 'fallback')
        }
      }
      log.debug('compile request', {
        pid: request.pid,
        outcome: outcome.outcome,
        ms: Math.round((performance.now() - started) * 1000) / 1000,
      })
      return outcome.reply
    },
  }
}
