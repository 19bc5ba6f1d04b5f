/**
 * Placement without a central scheduler: where the next compile of this client runs.
 *
 * Local first: a free local slot is taken at once (except for a long job when a clearly faster
 * member is free). Otherwise the client draws a few eligible members ({@link ./pickers.ts}) and
 * asks each in turn to reserve a slot; a full builder says so at once and the next is asked. After
 * `maxAttempts` refusals the job waits for whichever comes first: a local slot, or a later round
 * of reservations, started when the view changes (a new advert, one of our jobs ending on a
 * builder) or every `retryIntervalMs`. Waiting jobs are served longest-estimate first, by the
 * queue of {@link ./placement-queue.ts}.
 *
 * @example
 * ```ts
 * const placement = new Placement({ clock: systemClock, reserve, members, localSlots: 8 })
 * const slot = await placement.acquire({ toolchain, platform: 'linux', arch: 'x64' }, { signal })
 * try { … run locally or send to slot.peer … } finally { slot.release({ kind: 'done', elapsedMs }) }
 * ```
 */
import { candidates, type ScoredCandidate, type ScoringContext } from './candidates.ts'
import { FailureTracker } from './failure-tracker.ts'
import { type Claim, InFlight } from './in-flight.ts'
import { LocalPool } from './local-pool.ts'
import { fastEnough, isLong } from './long-jobs.ts'
import { type CandidatePicker, powerOfD } from './pickers.ts'
import type {
  AcquireOptions,
  PlacementCounters,
  PlacementInit,
  PlacementMode,
} from './placement-init.ts'
import { PlacementQueue } from './placement-queue.ts'
import { reserveWithTimeout } from './reserve-with-timeout.ts'
import { SpeedModel } from './speed-model.ts'
import type { Clock, PlacementJob, Random, ReserveReply, Slot, SlotOutcome } from './types.ts'

export type {
  AcquireOptions,
  PlacementCounters,
  PlacementInit,
  PlacementMode,
} from './placement-init.ts'

const NONE: ReadonlySet<string> = new Set()

export class Placement {
  readonly speeds: SpeedModel
  readonly failures: FailureTracker
  readonly inFlight = new InFlight()
  readonly local: LocalPool
  readonly counters: PlacementCounters = {
    local: 0,
    remote: 0,
    busy: 0,
    reserveBusy: 0,
    reserveErrors: 0,
    heldBack: 0,
    waited: 0,
    probes: 0,
  }
  readonly #init: PlacementInit
  readonly #clock: Clock
  readonly #random: Random
  readonly #picker: CandidatePicker
  readonly #mode: PlacementMode
  readonly #closed = new AbortController()
  readonly #queue: PlacementQueue
  readonly #maxProbes: number
  readonly #faster: number
  readonly #longJobMs: number
  /** AIMD share of advertised free slots counted on ({@link ScoringContext.share}). */
  #share = 1
  /** Reservations answered (granted, busy, or failed): rounds that got none change nothing. */
  #answers = 0

  constructor(init: PlacementInit) {
    this.#init = init
    this.#clock = init.clock
    this.#random = init.random ?? Math.random
    this.#mode = init.mode ?? 'auto'
    this.#maxProbes = init.maxParallelProbes ?? 4
    this.#faster = init.fasterThanLocal ?? 1.2
    this.#longJobMs = init.longJobMs ?? 5_000
    this.#picker =
      init.picker ?? powerOfD({ d: init.d ?? 2, exploration: init.exploration ?? 0.05 })
    this.speeds = new SpeedModel({ ...init.speed, clock: init.clock })
    this.failures = new FailureTracker({ ...init.failures, clock: init.clock })
    this.local =
      typeof init.localSlots === 'number' ? new LocalPool(init.localSlots) : init.localSlots
    this.#queue = new PlacementQueue({
      clock: init.clock,
      local: this.local,
      counters: this.counters,
      closed: this.#closed.signal,
      longJobMs: this.#longJobMs,
      fasterThanLocal: this.#faster,
      maxProbes: this.#maxProbes,
      get retryIntervalMs() {
        return init.retryIntervalMs ?? 250
      },
      candidates: (job, exclude) => this.candidates(job, exclude),
      typicalMs: (job) => this.#typicalMs(job),
      round: (job, options, since) => this.#round(job, options, since),
      localSlot: (job) => this.#localSlot(job),
      answers: () => this.#answers,
    })
    this.local.onFree = () => this.#queue.onLocalFree()
  }

  get clock(): Clock {
    return this.#clock
  }

  /** Name of the candidate picker (`power-of-2`…). */
  get pickerName(): string {
    return this.#picker.name
  }

  get mode(): PlacementMode {
    return this.#mode
  }

  /** Jobs waiting for a slot. */
  get waiting(): number {
    return this.#queue.size
  }

  /** A slot for `job`, local or remote, following the mode; waits while none is free. */
  async acquire(job: PlacementJob, options: AcquireOptions = {}): Promise<Slot> {
    const { signal, exclude = NONE } = options
    signal?.throwIfAborted()
    if (options.ticket !== undefined) options.ticket.seq ??= this.#queue.ticket()
    if (this.#mode === 'local') return this.acquireLocal(job, { signal })
    const allowLocal = this.#mode === 'auto'
    if (allowLocal && !this.#prefersRemote(job, exclude) && this.local.tryAcquire()) {
      return this.#localSlot(job)
    }
    // Jobs already waiting go first (longest first), and only so many reservation rounds run
    // at once: a burst of new jobs joins the queue instead of racing for the same slots.
    const queue = this.#queue
    if (options.wait !== true && queue.size === 0 && queue.probes < this.#maxProbes) {
      queue.probes++
      let slot: Slot | undefined
      try {
        slot = await this.tryRemote(job, options)
      } finally {
        queue.probes--
        queue.kick()
      }
      if (slot !== undefined) return slot
      if (allowLocal && this.local.tryAcquire()) return this.#localSlot(job)
    }
    // `remote` with nobody able to take the job: compile here rather than wait forever.
    if (!allowLocal && this.candidates(job, exclude).length === 0) {
      return this.acquireLocal(job, { signal })
    }
    return queue.wait(job, {
      allowLocal,
      allowRemote: true,
      exclude,
      signal,
      seq: options.ticket?.seq,
    })
  }

  /** A local slot, waiting for one if needed (the final fallback of a job). */
  async acquireLocal(
    job: PlacementJob,
    options: { signal?: AbortSignal | undefined } = {},
  ): Promise<Slot> {
    options.signal?.throwIfAborted()
    if (this.local.tryAcquire()) return this.#localSlot(job)
    return this.#queue.wait(job, {
      allowLocal: true,
      allowRemote: false,
      exclude: NONE,
      ...options,
    })
  }

  /** One round of reservations (up to `maxAttempts` members); undefined when all refused. */
  tryRemote(job: PlacementJob, options: AcquireOptions = {}): Promise<Slot | undefined> {
    return this.#round(job, options, this.#clock.now())
  }

  async #round(
    job: PlacementJob,
    options: AcquireOptions,
    since: number,
  ): Promise<Slot | undefined> {
    const { signal, exclude = NONE } = options
    const now = this.#clock.now()
    const order = this.#picker.pick(
      fastEnough(
        job,
        this.candidates(job, exclude).filter((c) => c.speed >= (options.minSpeed ?? 0)),
        this.#longJobMs,
        now - since,
        this.#typicalMs(job),
      ),
      this.#init.maxAttempts ?? 3,
      this.#random,
      { explore: !isLong(job, this.#longJobMs) },
    )
    for (const c of order) {
      signal?.throwIfAborted()
      const peer = c.view.peerId
      // A member backing off after a BUSY answer is not asked: the round ends shorter, and the
      // job waits for a member that frees (or for the back-off to end) instead of settling for
      // whichever member is left.
      if (this.inFlight.backingOff(peer, now, c.view.advertAt)) continue
      // Count the slot as ours while we ask, so parallel rounds do not all pick the same member.
      const claim = this.inFlight.start(peer, this.#clock.now())
      let reply: ReserveReply
      try {
        reply = await this.#reserve(peer, job, signal)
      } catch {
        claim.cancel()
        if (signal?.aborted) throw signal.reason
        this.#answers++
        this.counters.reserveErrors++
        this.#init.onReserve?.('failed')
        this.failures.failure(peer, 'unreachable')
        continue
      }
      if (reply.granted) {
        this.#answers++
        this.#init.onReserve?.('granted')
        // Late binding: a longer job waiting for this member takes the slot; this one goes on.
        if (this.#queue.rebind(peer, job, (j) => this.#remoteSlot(peer, reply.lease, claim, j))) {
          continue
        }
        const slot = this.#remoteSlot(peer, reply.lease, claim, job)
        if (signal?.aborted) {
          slot.release({ kind: 'unused' })
          throw signal.reason
        }
        return slot
      }
      claim.cancel()
      if (reply.reason === 'no-room') {
        this.counters.heldBack++
        continue
      }
      this.#answers++
      // Full when asked: leave it alone for a moment rather than ask again at every retry.
      const at = this.#clock.now()
      this.inFlight.backOff(peer, at, at + (this.#init.busyBackoffMs ?? 500))
      this.counters.busy++
      this.counters.reserveBusy++
      this.#init.onReserve?.('busy')
    }
    return undefined
  }

  /** Eligible members for `job`, scored (for inspection, tests and the simulation). */
  candidates(job: PlacementJob, exclude: ReadonlySet<string> = NONE): ScoredCandidate[] {
    return candidates(this.#init.members(), this.#context(job, exclude))
  }

  /**
   * Whether this client counts on one more slot of `peer` for `toolchain` jobs, its own claims
   * (the one being decided included) deducted: the reservation of {@link ./advert-reserve.ts}.
   */
  hasRoom(peer: string, toolchain: string): boolean {
    const v = this.#init.members().find((m) => m.peerId === peer)
    if (v === undefined || this.inFlight.backingOff(peer, this.#clock.now(), v.advertAt)) {
      return false
    }
    const job: PlacementJob = { toolchain, platform: v.platform, arch: v.arch }
    const [c] = candidates([v], this.#context(job, NONE))
    return c !== undefined && c.room >= 0
  }

  /** Learned speed of `peer` for `job`'s toolchain relative to this machine. */
  speedOf(peer: string, job: PlacementJob): number {
    const v = this.#init.members().find((m) => m.peerId === peer)
    const prior = v === undefined ? 1 : v.speed / (this.#init.selfSpeed ?? 1)
    return this.speeds.relative(peer, job.toolchain, prior)
  }

  /** The member view changed (an advert arrived): waiting jobs may find a slot now. */
  viewChanged(): void {
    this.#queue.kick()
  }

  /** Stops the retry timer and fails every waiting job with `reason`. */
  close(reason: unknown = new Error('placement closed')): void {
    this.#closed.abort(reason)
    this.#queue.failAll(reason)
  }

  #context(job: PlacementJob, exclude: ReadonlySet<string>): ScoringContext {
    const selfSpeed = this.#init.selfSpeed ?? 1
    const typicalMs = this.speeds.localMs(job.toolchain) ?? 1_000
    return {
      now: this.#clock.now(),
      job,
      exclude,
      maxAdvertAgeMs: this.#init.maxAdvertAgeMs ?? 6_000,
      isOpen: (peer) => this.failures.isOpen(peer),
      versionOk: this.#init.versionOk ?? (() => true),
      known: (peer, at, free) => this.inFlight.known(peer, at, free),
      backingOff: (peer, advertAt) => this.inFlight.backingOff(peer, this.#clock.now(), advertAt),
      turnoverShare: this.#init.turnoverShare ?? 0.5,
      speed: (v) => this.speeds.relative(v.peerId, job.toolchain, v.speed / selfSpeed),
      failureFactor: (peer) => this.failures.factor(peer),
      expectedMs: job.estimateMs ?? typicalMs,
      typicalMs,
      bulk: this.#queue.size >= (this.#init.bulkWaiting ?? 16),
      share: this.#share,
      long: isLong(job, this.#longJobMs),
      missingToolchainFactor: this.#init.missingToolchainFactor ?? 0.25,
    }
  }

  #typicalMs(job: PlacementJob): number {
    return this.speeds.localMs(job.toolchain) ?? 1_000
  }

  /** A long job goes first to a free member much faster than this machine, if there is one. */
  #prefersRemote(job: PlacementJob, exclude: ReadonlySet<string>): boolean {
    if (!isLong(job, this.#longJobMs)) return false
    return this.candidates(job, exclude).some((c) => c.headroom > 0 && c.speed >= this.#faster)
  }

  #reserve(peer: string, job: PlacementJob, signal?: AbortSignal): Promise<ReserveReply> {
    const signals = [this.#closed.signal]
    if (signal !== undefined) signals.push(signal)
    return reserveWithTimeout(this.#init.reserve, this.#clock, peer, job, {
      timeoutMs: this.#init.reserveTimeoutMs ?? 2_000,
      signals,
    })
  }

  #localSlot(job: PlacementJob): Slot {
    this.counters.local++
    let released = false
    return {
      kind: 'local',
      release: (outcome: SlotOutcome) => {
        if (released) return
        released = true
        if (outcome.kind === 'done') this.speeds.observeLocal(job.toolchain, outcome.elapsedMs)
        this.local.release()
      },
    }
  }

  #remoteSlot(peer: string, lease: unknown, claim: Claim, job: PlacementJob): Slot {
    this.counters.remote++
    let released = false
    return {
      kind: 'remote',
      peer,
      lease,
      release: (outcome: SlotOutcome) => {
        if (released) return
        released = true
        disposeLease(lease)
        if (outcome.kind === 'done') {
          this.#share = Math.min(1, this.#share + 0.02)
          this.speeds.observeRemote(peer, job.toolchain, outcome.elapsedMs, job.estimateMs)
          this.failures.success(peer)
        } else if (outcome.kind === 'failed') {
          this.failures.failure(peer, outcome.failure)
        }
        const now = this.#clock.now()
        if (outcome.kind === 'busy') {
          // Full after all: no penalty, the member is only left alone for a moment. The job
          // never ran, so our claim there is withdrawn rather than ended.
          this.counters.busy++
          this.#share = Math.max(0.1, this.#share * 0.8)
          claim.cancel()
          this.inFlight.backOff(peer, now, now + (this.#init.busyBackoffMs ?? 500))
        } else {
          claim.end(now)
        }
        // We know a slot just freed there.
        this.#queue.kick()
      },
    }
  }
}

/** Gives a lease's resources back (an unused reservation's stream); leases without any: no-op. */
function disposeLease(lease: unknown): void {
  if (typeof lease !== 'object' || lease === null || !('dispose' in lease)) return
  const dispose = (lease as { dispose: unknown }).dispose
  if (typeof dispose === 'function') dispose.call(lease)
}
