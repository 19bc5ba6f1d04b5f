/**
 * This client's own jobs per builder, so that between two adverts it does not pile onto one
 * member: an advert's free-slot count is corrected by the jobs this client started there since
 * the advert (not yet reflected: one slot fewer each) and by those it finished since (reflected as
 * busy, but free now: one more each). A "busy" answer newer than the advert replaces it: the
 * builder was full then, and only what we freed since is known to be free.
 */

export interface Claim {
  end(now: number): void
  cancel(): void
}

interface Job {
  startedAt: number
  endedAt: number | undefined
}

/** Ended jobs are forgotten after this long: any advert younger than that already counts them. */
const KEEP_ENDED_MS = 60_000

export class InFlight {
  readonly #peers = new Map<string, Job[]>()
  readonly #full = new Map<string, number>()
  readonly #backOff = new Map<string, { at: number; until: number }>()

  /**
   * Records a claim on one slot of `peer` (a reservation being asked, then the job). `end` when
   * the job is over; `cancel` when the reservation was refused (as if it never happened).
   */
  start(peer: string, now: number): Claim {
    const job: Job = { startedAt: now, endedAt: undefined }
    this.#list(peer).push(job)
    return {
      end: (at) => {
        if (job.endedAt !== undefined) return
        job.endedAt = at
        // Prune old ended jobs as we go; lists stay as short as the jobs in flight.
        this.#keep(peer, (j) => j.endedAt === undefined || at - j.endedAt < KEEP_ENDED_MS)
      },
      cancel: () => this.#keep(peer, (j) => j !== job),
    }
  }

  #list(peer: string): Job[] {
    let list = this.#peers.get(peer)
    if (list === undefined) {
      list = []
      this.#peers.set(peer, list)
    }
    return list
  }

  #keep(peer: string, keep: (j: Job) => boolean): void {
    const l = (this.#peers.get(peer) ?? []).filter(keep)
    if (l.length === 0) this.#peers.delete(peer)
    else this.#peers.set(peer, l)
  }

  /** Own jobs running on `peer` now. */
  running(peer: string): number {
    let n = 0
    for (const j of this.#peers.get(peer) ?? []) if (j.endedAt === undefined) n++
    return n
  }

  /** The builder answered "busy" at `now`. */
  markFull(peer: string, now: number): void {
    this.#full.set(peer, now)
  }

  /**
   * The builder answered BUSY to a job at `now`: besides {@link markFull}, none of our jobs is
   * sent there before `until` (it would most likely be refused again).
   */
  backOff(peer: string, now: number, until: number): void {
    this.markFull(peer, now)
    this.#backOff.set(peer, {
      at: now,
      until: Math.max(until, this.#backOff.get(peer)?.until ?? 0),
    })
  }

  /**
   * True while `peer` is in a busy back-off, unless an advert received after the BUSY answer
   * (`advertAt`) tells more.
   */
  backingOff(peer: string, now: number, advertAt = -Infinity): boolean {
    const b = this.#backOff.get(peer)
    if (b === undefined) return false
    if (now < b.until) return advertAt <= b.at
    this.#backOff.delete(peer)
    return false
  }

  /** Free slots of `peer` given its advert (received at `advertAt`) and what we know since. */
  correctedFree(peer: string, advertAt: number, freeSlots: number): number {
    return this.known(peer, advertAt, freeSlots).free
  }

  /**
   * What we know of `peer`'s slots: the latest first-hand figure (`base` free slots at time `at`:
   * the advert, or 0 when it said busy after the advert) and that figure corrected by our own
   * jobs since (`free`).
   */
  known(peer: string, advertAt: number, freeSlots: number): Known {
    const full = this.#full.get(peer)
    let at = advertAt
    let base = freeSlots
    if (full !== undefined) {
      // An advert received at the very instant of a BUSY answer is no newer than the answer.
      if (full >= advertAt) {
        at = full
        base = 0
      } else {
        this.#full.delete(peer)
      }
    }
    let free = base
    let running = 0
    for (const j of this.#peers.get(peer) ?? []) {
      if (j.endedAt === undefined) running++
      // A job started at the very instant the figure was taken is not in it.
      if (j.startedAt >= at) {
        if (j.endedAt === undefined) free--
      } else if (j.endedAt !== undefined && j.endedAt > at) {
        free++
      }
    }
    return { base, at, free, running }
  }
}

export interface Known {
  base: number
  at: number
  free: number
  /** Our own jobs (and claims) on that member now. */
  running: number
}
