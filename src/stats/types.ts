/**
 * Counters shown by `meshcc stats`. The JSON field names are a public interface
 * (`meshcc stats --json`): add fields, never rename them.
 */
export interface StatsSnapshot {
  /** Results served from the cache (direct + preprocessor mode). */
  cache_hits: number
  cache_hits_direct: number
  cache_hits_preprocessed: number
  /** Cacheable invocations that had to be compiled. */
  cache_misses: number
  /** Invocations meshcc did not try to cache, in total and by reason. */
  uncacheable: number
  uncacheable_reasons: Record<string, number>
  /** Compiles run on this machine by the daemon, and on other members of the mesh. */
  local_compiles: number
  remote_compiles: number
  /** Times meshcc stood aside because of its own trouble and the real compiler ran as is. */
  local_fallbacks: number
  local_fallback_reasons: Record<string, number>
  /** Cacheable invocations whose compile failed (not cached, output passed through). */
  compile_failures: number
  /** Corrupt cache entries detected (and dropped) on read. */
  corrupt_entries: number
  /** Cache contents. */
  cache_bytes: number
  cache_entries: number
  cache_max_bytes: number
  /** Compile time avoided by hits: sum of the recorded compile durations of the entries hit. */
  time_saved_ms: number
  /** When the counters were last zeroed (ISO 8601). */
  zeroed_at: string
  /** (Always set by the daemon; optional for readers of older stats.) Remote attempts that failed for infrastructure reasons and were tried on another member. */
  remote_retries?: number
  /** Distributable compiles that tried members and ended up compiled here, in total and why. */
  remote_fallbacks?: number
  remote_fallback_reasons?: Record<string, number>
  /**
   * (Client side, optional like the above.) Reservations of a slot this node asked of members:
   * granted, answered busy (the member was full: the next one is asked), and unanswered
   * (unreachable, timed out, or refused because its sandbox does not work).
   */
  remote_reservations?: number
  remote_reservations_busy?: number
  remote_reservations_failed?: number
  /**
   * (Builder side: jobs this node built for other members.) Jobs it ran that returned the
   * compiler's result (whatever its exit code), and jobs that did not (no toolchain, deadline,
   * sandbox failure, client gone before the answer).
   */
  builder_jobs_compiled?: number
  builder_jobs_failed?: number
  /** Every BUSY answer: reservations refused for want of a slot, and jobs past their hold. */
  builder_busy?: number
  /** Reservations refused outright: no working sandbox here, or a malformed request. */
  builder_refused?: number
  /** Reservations granted, and refused because no slot was free (also in `builder_busy`). */
  builder_reservations?: number
  builder_reservations_busy?: number
  /**
   * Slots this node offers to members while it is in the mesh (0: it does not build, see the
   * daemon's log for why); absent when the node is not in a mesh. A state, not a counter:
   * neither persisted nor zeroed.
   */
  builder_slots?: number
}
