/**
 * The counters behind `meshcc stats`, kept by the daemon and persisted to
 * `$MESHCC_HOME/stats.json` (atomically, every couple of seconds while something changed, and
 * on stop) so they survive daemon restarts.
 *
 * The daemon also owns the native client's fallback log: `ingestFallbackLog()` counts the lines
 * the client appended while it compiled without the daemon as `local_fallbacks` by reason. A
 * taken-over log is remembered in stats.json until deleted, so a crash between counting and
 * deleting never counts a line twice, and the rename-then-wait protocol of fallback-log.ts never
 * loses one that a client was writing during the take-over.
 *
 * The mesh's counters come through the same recorder, so they persist and zero like the rest:
 * the builder service's counts for jobs of other members (`builder()`), the answers members gave
 * to this node's reservations (`reservation()`), wired by `daemon/remote-host.ts`, which also
 * sets the slots offered while in the mesh (`builderSlots()`, a state: neither persisted nor
 * zeroed).
 *
 * Only one process may own a stats file: the daemon while it runs; the CLI when it does not.
 *
 * @example
 * ```ts
 * const stats = new StatsRecorder({ file: paths.statsFile, fallbackLog: paths.fallbackLog })
 * await stats.start({ signal })
 * stats.hit('direct', entry.compileMs)
 * console.log(formatStats(stats.snapshot(store.stats())))
 * await stats.stop()
 * ```
 */
import { readFile, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { writeFileAtomic } from '../cache/atomic-write.ts'
import type { CacheStoreStats } from '../cache/types.ts'
import type { Logger } from '../daemon/logger.ts'
import { countReasons, pendingLogs, sanitizeReason, takeOverLog } from './fallback-log.ts'
import type { StatsSnapshot } from './types.ts'

export interface StatsRecorderInit {
  /** Where the counters are persisted (`paths.statsFile`). */
  file: string
  /** The native client's fallback log; ingested periodically while started. */
  fallbackLog?: string
  /** How often dirty counters are written (and the fallback log ingested). Default 2 s. */
  flushIntervalMs?: number
  /** How long a taken-over fallback log rests before it is read. Default 1 s. */
  fallbackGraceMs?: number
  log?: Logger
  now?: () => number
}

export interface RecorderCallOptions {
  signal?: AbortSignal
}

const COUNTERS = [
  'cache_hits_direct',
  'cache_hits_preprocessed',
  'cache_misses',
  'uncacheable',
  'local_compiles',
  'remote_compiles',
  'local_fallbacks',
  'compile_failures',
  'corrupt_entries',
  'time_saved_ms',
  'remote_retries',
  'remote_fallbacks',
  'remote_reservations',
  'remote_reservations_busy',
  'remote_reservations_failed',
  'builder_jobs_compiled',
  'builder_jobs_failed',
  'builder_busy',
  'builder_refused',
  'builder_reservations',
  'builder_reservations_busy',
] as const
type Counter = (typeof COUNTERS)[number]

/**
 * What the builder service counts (`BuilderCounters` in `remote/builder-service.ts`), and the
 * field each lands in; `accepted` is not kept (jobs compiled + failed, once they ended).
 */
export type BuilderStatsEvent =
  | 'accepted'
  | 'busy'
  | 'refused'
  | 'compiled'
  | 'failed'
  | 'reserved'
  | 'reserveBusy'
const BUILDER_FIELDS: Record<BuilderStatsEvent, Counter | undefined> = {
  accepted: undefined,
  busy: 'builder_busy',
  refused: 'builder_refused',
  compiled: 'builder_jobs_compiled',
  failed: 'builder_jobs_failed',
  reserved: 'builder_reservations',
  reserveBusy: 'builder_reservations_busy',
}

/** How a member answered this node's reservation (`PlacementInit.onReserve`). */
export type ReservationAnswer = 'granted' | 'busy' | 'failed'
const RESERVATION_FIELDS: Record<ReservationAnswer, Counter> = {
  granted: 'remote_reservations',
  busy: 'remote_reservations_busy',
  failed: 'remote_reservations_failed',
}
/** Distinct reasons kept per table; more are folded into 'other' so garbage cannot bloat it. */
const MAX_REASONS = 200
const FORMAT = 1

export class StatsRecorder {
  readonly [Symbol.toStringTag] = 'meshcc:stats-recorder'
  readonly #init: StatsRecorderInit
  readonly #now: () => number
  #c = zeroCounters()
  #uncacheable = new Map<string, number>()
  #fallbacks = new Map<string, number>()
  #remoteFallbacks = new Map<string, number>()
  #zeroedAt: string
  /** Slots offered to members while in the mesh (`builder_slots`); undefined out of it. */
  #builderSlots: number | undefined
  /** Names of taken-over fallback logs counted but not yet deleted. */
  #ingested = new Set<string>()
  #dirty = false
  #timer: NodeJS.Timeout | undefined
  #writes: Promise<void> = Promise.resolve()
  #ingesting: Promise<number> = Promise.resolve(0)
  #tick: Promise<void> = Promise.resolve()
  /** Aborted by stop(): a periodic ingest waiting out its grace period gives up at once. */
  #running = new AbortController()

  constructor(init: StatsRecorderInit) {
    this.#init = init
    this.#now = init.now ?? Date.now
    this.#zeroedAt = new Date(this.#now()).toISOString()
  }

  hit(kind: 'direct' | 'preprocessed', savedMs: number): void {
    this.#add(kind === 'direct' ? 'cache_hits_direct' : 'cache_hits_preprocessed')
    if (Number.isFinite(savedMs) && savedMs > 0) this.#add('time_saved_ms', Math.round(savedMs))
  }
  miss(): void {
    this.#add('cache_misses')
  }
  uncacheable(reason: string): void {
    this.#add('uncacheable')
    bumpReason(this.#uncacheable, reason, 1)
  }
  localCompile(): void {
    this.#add('local_compiles')
  }
  remoteCompile(): void {
    this.#add('remote_compiles')
  }
  fallback(reason: string, count = 1): void {
    this.#add('local_fallbacks', count)
    bumpReason(this.#fallbacks, reason, count)
  }
  /** A remote attempt failed (builder gone, busy, stalled…) and the job was tried elsewhere. */
  remoteRetry(count = 1): void {
    this.#add('remote_retries', count)
  }
  /** A distributable compile tried members and was compiled here after all. */
  remoteFallback(reason: string): void {
    this.#add('remote_fallbacks')
    bumpReason(this.#remoteFallbacks, reason, 1)
  }
  /** A member answered (or failed to answer) one of this node's reservations. */
  reservation(answer: ReservationAnswer): void {
    this.#add(RESERVATION_FIELDS[answer])
  }
  /** The builder service counted `event` for a job or reservation of another member. */
  builder(event: BuilderStatsEvent): void {
    const field = BUILDER_FIELDS[event]
    if (field !== undefined) this.#add(field)
  }
  /** The node entered the mesh offering `slots` to members (0: not building), or left it. */
  builderSlots(slots: number | undefined): void {
    this.#builderSlots = slots
  }
  compileFailure(): void {
    this.#add('compile_failures')
  }
  corrupt(): void {
    this.#add('corrupt_entries')
  }

  /** The counters plus the live cache figures (`store.stats()`; zeros when not given). */
  snapshot(store?: CacheStoreStats): StatsSnapshot {
    const c = this.#c
    return {
      cache_hits: c.cache_hits_direct + c.cache_hits_preprocessed,
      cache_hits_direct: c.cache_hits_direct,
      cache_hits_preprocessed: c.cache_hits_preprocessed,
      cache_misses: c.cache_misses,
      uncacheable: c.uncacheable,
      uncacheable_reasons: Object.fromEntries(this.#uncacheable),
      local_compiles: c.local_compiles,
      remote_compiles: c.remote_compiles,
      local_fallbacks: c.local_fallbacks,
      local_fallback_reasons: Object.fromEntries(this.#fallbacks),
      compile_failures: c.compile_failures,
      corrupt_entries: c.corrupt_entries,
      cache_bytes: store?.bytes ?? 0,
      cache_entries: store?.entries ?? 0,
      cache_max_bytes: store?.maxBytes ?? 0,
      time_saved_ms: c.time_saved_ms,
      zeroed_at: this.#zeroedAt,
      remote_retries: c.remote_retries,
      remote_fallbacks: c.remote_fallbacks,
      remote_fallback_reasons: Object.fromEntries(this.#remoteFallbacks),
      remote_reservations: c.remote_reservations,
      remote_reservations_busy: c.remote_reservations_busy,
      remote_reservations_failed: c.remote_reservations_failed,
      builder_jobs_compiled: c.builder_jobs_compiled,
      builder_jobs_failed: c.builder_jobs_failed,
      builder_busy: c.builder_busy,
      builder_refused: c.builder_refused,
      builder_reservations: c.builder_reservations,
      builder_reservations_busy: c.builder_reservations_busy,
      ...(this.#builderSlots === undefined ? {} : { builder_slots: this.#builderSlots }),
    }
  }

  /** `meshcc stats --zero`: every counter back to 0 (the cache itself is untouched). */
  zero(): void {
    this.#c = zeroCounters()
    this.#uncacheable.clear()
    this.#fallbacks.clear()
    this.#remoteFallbacks.clear()
    this.#zeroedAt = new Date(this.#now()).toISOString()
    this.#dirty = true
  }

  /** Loads the persisted counters (a missing file is a fresh start, a broken one is logged). */
  async load(_options: RecorderCallOptions = {}): Promise<void> {
    let text: string
    try {
      text = await readFile(this.#init.file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.#init.log?.warn('stats file unreadable, starting from zero', { err })
      }
      return
    }
    try {
      this.#restore(JSON.parse(text) as unknown)
    } catch (err) {
      this.#init.log?.warn('stats file corrupt, starting from zero', { err })
      this.#dirty = true
    }
  }

  async start(options: RecorderCallOptions = {}): Promise<void> {
    await this.load(options)
    this.#running = new AbortController()
    const every = this.#init.flushIntervalMs ?? 2000
    this.#timer = setInterval(() => {
      this.#tick = this.#tick.then(() => this.#periodic())
    }, every)
    this.#timer.unref()
  }

  async stop(options: RecorderCallOptions = {}): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
    // A log taken over but not yet read stays on disk; the next start counts it.
    this.#running.abort()
    await this.#tick
    await this.#ingesting.catch(() => 0)
    await this.flush(options)
  }

  /** Writes the counters now if anything changed since the last write. */
  flush(options: RecorderCallOptions = {}): Promise<void> {
    if (!this.#dirty) return this.#writes
    this.#dirty = false
    const text = `${JSON.stringify(this.#persisted(), null, 1)}\n`
    const write = this.#writes.then(() =>
      writeFileAtomic(this.#init.file, text, { ...opt(options.signal), mode: 0o600 }),
    )
    this.#writes = write.catch((err) => {
      this.#dirty = true
      this.#init.log?.warn('could not persist stats', { err })
    })
    return write
  }

  /**
   * Counts the fallback lines of `path` (default: the init's `fallbackLog`). Takes the live log
   * over, waits `graceMs`, then counts every taken-over log old enough, persists, and deletes
   * them. Returns the number of lines counted.
   */
  ingestFallbackLog(
    path: string | undefined = this.#init.fallbackLog,
    options: RecorderCallOptions & { graceMs?: number } = {},
  ): Promise<number> {
    if (path === undefined) return Promise.resolve(0)
    const run = this.#ingesting
      .catch(() => 0)
      .then(() =>
        this.#ingest(path, options.graceMs ?? this.#init.fallbackGraceMs ?? 1000, options),
      )
    this.#ingesting = run
    return run
  }

  async #ingest(path: string, graceMs: number, options: RecorderCallOptions): Promise<number> {
    const takenAt = this.#now()
    const took = await takeOverLog(path, takenAt)
    let now = this.#now()
    if (took && graceMs > 0) {
      await sleep(graceMs, undefined, opt(options.signal))
      // A timer may fire a millisecond early: the log we just took over has rested enough.
      now = Math.max(this.#now(), takenAt + graceMs)
    }
    // Files taken over by an earlier call (or an earlier daemon) are included once old enough.
    const files = await pendingLogs(path, now, graceMs)
    let lines = 0
    for (const file of files) {
      if (this.#ingested.has(basename(file))) continue
      for (const [reason, n] of await countReasons(file)) {
        this.fallback(reason, n)
        lines += n
      }
      this.#ingested.add(basename(file))
      this.#dirty = true
    }
    if (this.#ingested.size === 0) return lines
    // Persist the counts together with the names, then delete: a crash in between leaves a
    // name that the next ingest deletes without counting again.
    await this.flush(options)
    for (const name of [...this.#ingested]) {
      await rm(join(dirname(path), name), { force: true })
      this.#ingested.delete(name)
      this.#dirty = true
    }
    return lines
  }

  async #periodic(): Promise<void> {
    try {
      const signal = this.#running.signal
      if (signal.aborted) return
      if (this.#init.fallbackLog !== undefined) await this.ingestFallbackLog(undefined, { signal })
      await this.flush()
    } catch (err) {
      if (this.#running.signal.aborted) return
      this.#init.log?.warn('stats housekeeping failed', { err })
    }
  }

  #add(k: Counter, n = 1): void {
    this.#c[k] += n
    this.#dirty = true
  }

  #persisted(): Record<string, unknown> {
    const { cache_bytes, cache_entries, cache_max_bytes, cache_hits, builder_slots, ...rest } =
      this.snapshot()
    return { format: FORMAT, ...rest, fallback_logs_counted: [...this.#ingested] }
  }

  #restore(data: unknown): void {
    if (typeof data !== 'object' || data === null) throw new TypeError('not an object')
    const d = data as Record<string, unknown>
    for (const k of COUNTERS) this.#c[k] = count(d[k])
    loadReasons(this.#uncacheable, d['uncacheable_reasons'])
    loadReasons(this.#fallbacks, d['local_fallback_reasons'])
    loadReasons(this.#remoteFallbacks, d['remote_fallback_reasons'])
    if (typeof d['zeroed_at'] === 'string') this.#zeroedAt = d['zeroed_at']
    const names = d['fallback_logs_counted']
    if (Array.isArray(names)) {
      for (const n of names) if (typeof n === 'string' && !n.includes('/')) this.#ingested.add(n)
    }
  }
}

function zeroCounters(): Record<Counter, number> {
  return Object.fromEntries(COUNTERS.map((k) => [k, 0])) as Record<Counter, number>
}

function count(v: unknown): number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : 0
}

function bumpReason(map: Map<string, number>, reason: string, n: number): void {
  let r = sanitizeReason(reason)
  if (!map.has(r) && map.size >= MAX_REASONS) r = 'other'
  map.set(r, (map.get(r) ?? 0) + n)
}

function loadReasons(map: Map<string, number>, v: unknown): void {
  map.clear()
  if (typeof v !== 'object' || v === null) return
  for (const [k, n] of Object.entries(v)) if (count(n) > 0) bumpReason(map, k, count(n))
}

function opt(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal === undefined ? {} : { signal }
}
