/**
 * The waiting side of a {@link Placement}: jobs that found no slot at once, and how they are
 * served. Waiting jobs go longest estimate first ({@link ./waiters.ts}); a freed local slot goes
 * to the shortest instead while members are clearly faster than this machine, and a long job
 * passes it by while a fast member is worth waiting for ({@link ./long-jobs.ts}). Reservation
 * rounds for waiting jobs start when the view changes or every `retryIntervalMs`, at most
 * `maxProbes` at once, and only for jobs the view shows a free, fast enough member for.
 *
 * Kept apart from the placement's decisions (where a job goes when it arrives, how a member is
 * asked, what a slot's outcome teaches) so that each reads on its own; the placement hands this
 * queue what it needs through a {@link QueueHost}.
 */
import type { ScoredCandidate } from './candidates.ts'
import type { LocalPool } from './local-pool.ts'
import { bestSpeed, fastEnough, isLong, patient } from './long-jobs.ts'
import type { AcquireOptions, PlacementCounters } from './placement-init.ts'
import type { Clock, PlacementJob, Slot } from './types.ts'
import { longer, type Waiter, Waiters } from './waiters.ts'

/** What the queue uses of its placement. */
export interface QueueHost {
  readonly clock: Clock
  readonly local: LocalPool
  readonly counters: PlacementCounters
  /** Aborted when the placement closes: the retry loop ends. */
  readonly closed: AbortSignal
  readonly longJobMs: number
  /** "Clearly faster" than this machine. */
  readonly fasterThanLocal: number
  readonly maxProbes: number
  readonly retryIntervalMs: number
  candidates(job: PlacementJob, exclude: ReadonlySet<string>): ScoredCandidate[]
  typicalMs(job: PlacementJob): number
  /** One reservation round for `job`, waiting since `since`. */
  round(job: PlacementJob, options: AcquireOptions, since: number): Promise<Slot | undefined>
  localSlot(job: PlacementJob): Slot
  /** Reservations answered so far: a round that got none changes nothing. */
  answers(): number
}

export interface WaitOptions {
  allowLocal: boolean
  allowRemote: boolean
  exclude: ReadonlySet<string>
  signal?: AbortSignal | undefined
  seq?: number | undefined
}

export class PlacementQueue {
  /** Reservation rounds running (the placement's own first rounds included). */
  probes = 0
  readonly #host: QueueHost
  readonly #waiters = new Waiters()
  #ticking = false
  #pumpQueued = false

  constructor(host: QueueHost) {
    this.#host = host
  }

  /** Jobs waiting for a slot. */
  get size(): number {
    return this.#waiters.size
  }

  /** A place in the queue, for a job that may wait later. */
  ticket(): number {
    return this.#waiters.ticket()
  }

  /** Queues `job` until a slot is found for it. */
  wait(job: PlacementJob, opts: WaitOptions): Promise<Slot> {
    const host = this.#host
    host.counters.waited++
    const { promise, resolve, reject } = Promise.withResolvers<Slot>()
    const w = this.#waiters.add(
      {
        job,
        allowLocal: opts.allowLocal,
        allowRemote: opts.allowRemote,
        exclude: opts.exclude,
        signal: opts.signal,
        since: host.clock.now(),
        resolve,
        reject,
      },
      opts.seq,
    )
    const onAbort = () => this.#settle(w, undefined, opts.signal?.reason)
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    w.cleanup = () => opts.signal?.removeEventListener('abort', onAbort)
    if (opts.allowRemote) this.#tick()
    return promise
  }

  /** Fails every waiting job with `reason`. */
  failAll(reason: unknown): void {
    for (const w of this.#waiters.all()) this.#settle(w, undefined, reason)
  }

  /**
   * Hands a fresh grant on `peer` to the longest waiting job that would take that member, if it
   * is longer than `job`; `slotFor` makes the slot for the job that takes it. Reservations belong
   * to the client, not to the job that asked: this is how the longest jobs get the fast members
   * even when their own requests lost a race.
   */
  rebind(peer: string, job: PlacementJob, slotFor: (job: PlacementJob) => Slot): boolean {
    const host = this.#host
    for (const w of this.#waiters.all()) {
      if (!longer(w.job, job)) return false
      if (w.probing || !w.allowRemote || w.exclude.has(peer)) continue
      const cands = fastEnough(
        w.job,
        host.candidates(w.job, w.exclude),
        host.longJobMs,
        host.clock.now() - w.since,
        host.typicalMs(w.job),
      )
      if (!cands.some((c) => c.view.peerId === peer)) continue
      this.#settle(w, slotFor(w.job))
      return true
    }
    return false
  }

  #settle(w: Waiter, slot: Slot | undefined, error?: unknown): void {
    if (w.settled) {
      slot?.release({ kind: 'unused' })
      return
    }
    w.settled = true
    this.#waiters.remove(w)
    w.cleanup?.()
    if (slot !== undefined) w.resolve(slot)
    else w.reject(error)
  }

  /**
   * A local slot freed: it goes to a waiting job. When members are clearly faster than this
   * machine, the shortest waiting job takes it (long jobs are better off waiting for a fast
   * member: the classic rule for machines of unequal speed); otherwise the longest.
   */
  onLocalFree(): void {
    const host = this.#host
    const order = this.#waiters.all()
    const head = order[0]
    if (head === undefined) return
    if (
      head.job.estimateMs !== undefined &&
      bestSpeed(host.candidates(head.job, head.exclude)) >= host.fasterThanLocal
    )
      order.reverse()
    for (const w of order) {
      if (host.local.free <= 0) return
      if (!w.allowLocal || w.probing || this.#patient(w)) continue
      if (host.local.tryAcquire()) this.#settle(w, host.localSlot(w.job))
    }
  }

  #patient(w: Waiter): boolean {
    const host = this.#host
    if (!w.allowRemote || !isLong(w.job, host.longJobMs)) return false
    const best = bestSpeed(host.candidates(w.job, w.exclude))
    return patient(w.job, best, host.fasterThanLocal, host.clock.now() - w.since)
  }

  /** Schedules one pump pass (coalesced). */
  kick(): void {
    if (this.#pumpQueued || this.#waiters.size === 0) return
    this.#pumpQueued = true
    queueMicrotask(() => {
      this.#pumpQueued = false
      this.#pump(false)
    })
  }

  /**
   * Starts reservation rounds for waiting jobs, best first, while the view shows free slots for
   * them. `force`: the periodic retry, which probes once even when the view shows nothing free
   * (the view may be wrong).
   */
  #pump(force: boolean): void {
    const host = this.#host
    const max = host.maxProbes
    const full = new Set<string>()
    for (const w of this.#waiters.all()) {
      if (this.probes >= max) return
      if (w.probing || !w.allowRemote) continue
      // `remote` mode, and every member that could take the job is gone: compile it here.
      if (!w.allowLocal && host.candidates(w.job, w.exclude).length === 0) {
        w.allowLocal = true
        if (host.local.tryAcquire()) this.#settle(w, host.localSlot(w.job))
        continue
      }
      const key = `${w.job.platform}\u0000${w.job.arch}\u0000${w.job.toolchain}`
      if (w.exclude.size === 0 && full.has(key)) continue
      const cands = fastEnough(
        w.job,
        host.candidates(w.job, w.exclude),
        host.longJobMs,
        host.clock.now() - w.since,
        host.typicalMs(w.job),
      )
      const free = cands.some((c) => c.headroom > 0)
      if (!free && !force) {
        // Only a job that may go anywhere tells that the others would find nothing either (a
        // long job waiting for a fast member must not hold up the short ones behind it).
        if (w.exclude.size === 0 && !isLong(w.job, host.longJobMs)) full.add(key)
        continue
      }
      force = false
      void this.#probe(w)
    }
  }

  async #probe(w: Waiter): Promise<void> {
    const host = this.#host
    w.probing = true
    this.probes++
    host.counters.probes++
    let slot: Slot | undefined
    const answers = host.answers()
    try {
      slot = await host.round(w.job, { signal: w.signal, exclude: w.exclude }, w.since)
    } catch {
      slot = undefined
    } finally {
      w.probing = false
      this.probes--
      // A round our own accounting refused entirely, in no time, would only be repeated at
      // once: the next advert, a job ending or the periodic retry starts the next one.
      if (host.answers() !== answers) this.kick()
    }
    if (slot !== undefined) return this.#settle(w, slot)
    if (w.settled) return
    // A local slot may have freed while we were asking.
    if (w.allowLocal && host.local.tryAcquire()) this.#settle(w, host.localSlot(w.job))
  }

  /** Periodic retry while jobs wait for members. */
  #tick(): void {
    if (this.#ticking) return
    this.#ticking = true
    const host = this.#host
    const loop = async () => {
      while (this.#waiters.hasRemote() && !host.closed.aborted) {
        await host.clock.sleep(host.retryIntervalMs, { signal: host.closed })
        this.#pump(true)
      }
    }
    loop()
      .catch(() => {})
      .finally(() => {
        this.#ticking = false
      })
  }
}
