/**
 * Settings of a {@link Placement} and the shapes it exposes (per-call options, counters).
 */
import type { FailureTrackerInit } from './failure-tracker.ts'
import type { LocalPool } from './local-pool.ts'
import type { CandidatePicker } from './pickers.ts'
import type { SpeedModelInit } from './speed-model.ts'
import type { BuilderView, Clock, Random, ReserveFn } from './types.ts'

/** `MESHCC_MODE`: `local` never sends, `remote` sends every job it can, `auto` is local-first. */
export type PlacementMode = 'auto' | 'local' | 'remote'

export interface PlacementInit {
  clock: Clock
  reserve: ReserveFn
  /** The current view of the members (from the peer directory). Read at every decision. */
  members: () => readonly BuilderView[]
  /** Local compile slots (default in the daemon: the number of cores), or a shared pool. */
  localSlots: number | LocalPool
  random?: Random
  mode?: PlacementMode
  /** This machine's speed on the advert scale (1 = reference). Default 1. */
  selfSpeed?: number
  /** Default: power-of-d with `d` and `exploration`. */
  picker?: CandidatePicker
  /** Members drawn per round. Default 2. */
  d?: number
  /** Share of draws that ignore weights, so low-rated members get measured again. Default 0.05. */
  exploration?: number
  /** Reservations asked before a job waits. Default 3. */
  maxAttempts?: number
  /** Adverts older than this are ignored. Default 6 s (three 2 s periods). */
  maxAdvertAgeMs?: number
  /** A reservation not answered within this counts as unreachable. Default 2 s. */
  reserveTimeoutMs?: number
  /** After a BUSY answer to a job, no job of ours goes to that member for this long. Default 500 ms. */
  busyBackoffMs?: number
  /** Waiting jobs try members again at least this often. Default 250 ms. */
  retryIntervalMs?: number
  /**
   * Reservation rounds running at once; further jobs wait in the queue, so that a burst asks for
   * its longest jobs first. Default 4.
   */
  maxParallelProbes?: number
  /** Jobs estimated longer than this go first to a clearly faster free member. Default 5 s. */
  longJobMs?: number
  /**
   * With at least this many jobs waiting, jobs shorter than typical leave fast members to longer
   * ones (speed matching). Default 16.
   */
  bulkWaiting?: number
  /** "Clearly faster": relative speed at least this. Default 1.2. */
  fasterThanLocal?: number
  /** Share of slots turned over since the last figure that we count on. Default 0.5. */
  turnoverShare?: number
  /** Weight of members lacking the toolchain. Default 0.25. */
  missingToolchainFactor?: number
  versionOk?: (version: string) => boolean
  speed?: Omit<SpeedModelInit, 'clock'>
  failures?: Omit<FailureTrackerInit, 'clock'>
  /**
   * Each reservation asked of a member, as it was answered: granted, busy, or failed (no answer,
   * or an error). Not called for those our own accounting held back (nothing was asked).
   */
  onReserve?: (answer: 'granted' | 'busy' | 'failed') => void
}

export interface AcquireOptions {
  signal?: AbortSignal | undefined
  /** Members not to use (the ones that failed this job already). */
  exclude?: ReadonlySet<string>
  /** Only members at least this fast relative to this machine (for hedges). */
  minSpeed?: number
  /**
   * The job's place in the queue, kept across calls for the same job (the placement writes it on
   * the first): a job sent back by a BUSY answer waits ahead of jobs submitted after it.
   */
  ticket?: { seq?: number }
  /** Join the queue of waiting jobs without trying members first (after repeated BUSY answers). */
  wait?: boolean
}

export interface PlacementCounters {
  local: number
  remote: number
  /** BUSY answers: reservations refused, and jobs a builder refused on arrival. */
  busy: number
  /** Reservations a member answered busy (the part of `busy` that came before placing). */
  reserveBusy: number
  /** Reservations that failed (unreachable, timeout). */
  reserveErrors: number
  /** Reservations the client's own accounting refused (no message sent). */
  heldBack: number
  /** Jobs that had to wait for a slot. */
  waited: number
  /** Reservation rounds started for waiting jobs. */
  probes: number
}
