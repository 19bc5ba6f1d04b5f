/**
 * The human-readable table of `meshcc stats`, in the spirit of `ccache -s` and
 * `sccache --show-stats`: cacheable calls with hit and miss rates, why the others were not
 * cacheable (most frequent first), where compiles ran and how members answered this node's
 * reservations, when meshcc stood aside, the cache's size against its limit, and, like a
 * distributed-compile server's monitor, the jobs this node built for other members (shown when
 * the node is in a mesh or built something since the counters were zeroed).
 *
 * @example
 * ```ts
 * process.stdout.write(formatStats(snapshot))
 * ```
 */
import { formatBytes, formatDuration } from '../config/units.ts'
import type { StatsSnapshot } from './types.ts'

const LABEL = 28
const VALUE = 18

export function formatStats(s: StatsSnapshot): string {
  const cacheable = s.cache_hits + s.cache_misses
  const rows: string[] = []
  const row = (indent: number, label: string, value: string | number, extra = '') => {
    const left = `${' '.repeat(indent)}${label}`.padEnd(LABEL)
    rows.push(
      `${left}${String(value).padStart(VALUE)}${extra === '' ? '' : `  ${extra}`}`.trimEnd(),
    )
  }
  const pct = (n: number, of: number) => (of > 0 ? `(${((100 * n) / of).toFixed(2)} %)` : '')

  rows.push(`meshcc statistics (since ${s.zeroed_at})`)
  row(0, 'Cacheable calls', cacheable)
  row(2, 'Hits', s.cache_hits, pct(s.cache_hits, cacheable))
  row(4, 'Direct', s.cache_hits_direct, pct(s.cache_hits_direct, s.cache_hits))
  row(4, 'Preprocessed', s.cache_hits_preprocessed, pct(s.cache_hits_preprocessed, s.cache_hits))
  row(2, 'Misses', s.cache_misses, pct(s.cache_misses, cacheable))
  row(0, 'Uncacheable calls', s.uncacheable, pct(s.uncacheable, cacheable + s.uncacheable))
  for (const [reason, n] of byCount(s.uncacheable_reasons)) row(2, reason, n)
  row(0, 'Compile failures', s.compile_failures)
  row(0, 'Compiles', s.local_compiles + s.remote_compiles)
  row(2, 'Local', s.local_compiles)
  row(2, 'Remote', s.remote_compiles)
  row(2, 'Remote retries', s.remote_retries ?? 0)
  row(2, 'Remote fallbacks', s.remote_fallbacks ?? 0)
  for (const [reason, n] of byCount(s.remote_fallback_reasons ?? {})) row(4, reason, n)
  const granted = s.remote_reservations ?? 0
  const busy = s.remote_reservations_busy ?? 0
  const failed = s.remote_reservations_failed ?? 0
  const asked = granted + busy + failed
  if (asked > 0 || s.builder_slots !== undefined) {
    row(2, 'Reservations asked', asked)
    row(4, 'Granted', granted, pct(granted, asked))
    row(4, 'Busy', busy, pct(busy, asked))
    row(4, 'Failed', failed, pct(failed, asked))
  }
  row(0, 'Local fallbacks', s.local_fallbacks)
  for (const [reason, n] of byCount(s.local_fallback_reasons)) row(2, reason, n)
  row(0, 'Corrupt entries dropped', s.corrupt_entries)
  // loadConfig maps "no limit" (cache_size = 0) to MAX_SAFE_INTEGER.
  const unlimited = s.cache_max_bytes >= Number.MAX_SAFE_INTEGER
  const max = unlimited ? 'no limit' : formatBytes(s.cache_max_bytes)
  const used = `${formatBytes(s.cache_bytes)} / ${max}`
  row(0, 'Cache size', used, unlimited ? '' : pct(s.cache_bytes, s.cache_max_bytes))
  row(0, 'Cache entries', s.cache_entries)
  row(0, 'Time saved', formatDuration(s.time_saved_ms))
  builderRows(s, row, pct)
  return `${rows.join('\n')}\n`
}

/** The jobs this node built for other members, when in a mesh or when there were any. */
function builderRows(
  s: StatsSnapshot,
  row: (indent: number, label: string, value: string | number, extra?: string) => void,
  pct: (n: number, of: number) => string,
): void {
  const compiled = s.builder_jobs_compiled ?? 0
  const failed = s.builder_jobs_failed ?? 0
  const granted = s.builder_reservations ?? 0
  const reserveBusy = s.builder_reservations_busy ?? 0
  const busy = s.builder_busy ?? 0
  const refused = s.builder_refused ?? 0
  if (s.builder_slots === undefined && compiled + failed + busy + refused + granted === 0) return
  const slots = s.builder_slots
  const state = slots === undefined ? '' : slots > 0 ? `${slots} slots` : 'not building'
  row(0, 'Builder (jobs for members)', state)
  row(2, 'Jobs compiled', compiled, pct(compiled, compiled + failed))
  row(2, 'Jobs failed', failed, pct(failed, compiled + failed))
  row(2, 'Busy answers', busy)
  row(2, 'Refused', refused)
  row(2, 'Reservations granted', granted, pct(granted, granted + reserveBusy))
  row(2, 'Reservations busy', reserveBusy, pct(reserveBusy, granted + reserveBusy))
}

/** Most frequent first; ties by name, so the output is stable. */
function byCount(reasons: Record<string, number>): Array<[string, number]> {
  return Object.entries(reasons).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
}
