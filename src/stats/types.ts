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
}
