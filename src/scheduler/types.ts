/**
 * Contracts of client-side placement: what the placement reads (a view of the members, built
 * from gossip adverts), what it asks of the network (a slot reservation), and what it hands back
 * (a slot, local or on a builder, which the caller releases with the outcome).
 *
 * Everything that moves in time (clock, timers, randomness) is injected, so that tests and the
 * scheduling simulation (`bench/scheduling/`) run the same code deterministically in virtual time.
 */
import type { AdvertFields } from '../mesh/types.ts'

/** Time source and timer. `now()` is in milliseconds on any monotonic origin. */
export interface Clock {
  now(): number
  /** Resolves after `ms`; rejects with the signal's reason when aborted. */
  sleep(ms: number, options?: { signal?: AbortSignal }): Promise<void>
}

/** A uniform random number in [0, 1). */
export type Random = () => number

/**
 * What the placement knows about one member: its latest advert's capacity fields (the mesh's
 * `AdvertFields` minus the display host) plus what the connection tells.
 */
export interface BuilderView extends Omit<AdvertFields, 'host'> {
  peerId: string
  version: string
  /** Local clock time at which the advert arrived (same origin as {@link Clock.now}). */
  advertAt: number
  /** Round-trip time of the last ping, ms; null before the first. */
  rttMs: number | null
  /** Admitted member with an open, authenticated connection. */
  admitted: boolean
  /** Has the builder role (a client-only member is never a candidate). */
  builder: boolean
}

/** One compile to place. */
export interface PlacementJob {
  /** Toolchain id (content hash) the job needs. */
  toolchain: string
  /** Host platform and architecture of the toolchain: the builder must match. */
  platform: string
  arch: string
  /** Predicted run time on this machine, ms, when history knows it. */
  estimateMs?: number
  /**
   * What the reservation may send right behind it to a builder known to take it (the job's
   * head, for early start). Opaque to the scheduler.
   */
  ahead?: Promise<JobPrelude | undefined>
}

/** Bytes of a job that may go ahead of it, tagged with its id. */
export interface JobPrelude {
  jobId: string
  bytes: Uint8Array
}

/** Why a remote attempt failed for reasons other than the compiler's own verdict. */
export type InfraFailure =
  /** The reservation or job could not be delivered (no connection, dial failed). */
  | 'unreachable'
  /** The builder died or the stream was cut off mid-job. */
  | 'cut-off'
  /** No result before the job's deadline. */
  | 'deadline'
  /** The builder's sandbox refused or failed to run the job. */
  | 'sandbox-refused'
  /** The builder lacked (and could not get) the toolchain or one of its files. */
  | 'toolchain-missing'
  /** The builder answered with something malformed or not for this job. */
  | 'protocol'

/** A builder's answer to a slot reservation. */
export type ReserveReply =
  | {
      granted: true
      /**
       * Opaque lease handle passed on to the job (the daemon's: the stream holding the slot).
       * One with a `dispose()` method gets it called when the slot is released, used or not.
       */
      lease?: unknown
    }
  /**
   * `busy`: the builder said it was full. `no-room`: the client's own accounting found no slot
   * to count on (nothing was asked, nothing learnt about the builder).
   */
  | { granted: false; reason: 'busy' | 'no-room' }

/** Asks `peer` to hold one compile slot for us. Throws (or rejects) when it cannot be reached. */
export type ReserveFn = (
  peer: string,
  request: { toolchain: string; estimateMs?: number; ahead?: Promise<JobPrelude | undefined> },
  options: { signal?: AbortSignal },
) => Promise<ReserveReply>

/** How a slot was used; reported when the slot is released. */
export type SlotOutcome =
  /** The compiler ran (whatever its exit code); `elapsedMs` is the wall time seen by the client. */
  | { kind: 'done'; elapsedMs: number }
  /** Infrastructure failure on that builder. */
  | { kind: 'failed'; failure: InfraFailure }
  /**
   * The builder said at once that it had no free slot: not a failure (adverts are seconds old,
   * other clients race for the same slots), only a short back-off for that member.
   */
  | { kind: 'busy' }
  /** Not used (aborted, or superseded). */
  | { kind: 'unused' }

/** A compile slot the caller holds until it calls `release` (exactly once). */
export type Slot =
  | { kind: 'local'; release(outcome: SlotOutcome): void }
  | {
      kind: 'remote'
      peer: string
      /** What the builder's reservation reply carried. */
      lease: unknown
      release(outcome: SlotOutcome): void
    }
