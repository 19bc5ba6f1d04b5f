import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { formatStats } from '../../../src/stats/format.ts'
import type { StatsSnapshot } from '../../../src/stats/types.ts'

const base: StatsSnapshot = {
  cache_hits: 75,
  cache_hits_direct: 60,
  cache_hits_preprocessed: 15,
  cache_misses: 25,
  uncacheable: 9,
  uncacheable_reasons: { linking: 2, 'configure-probe': 6, '-E': 1 },
  local_compiles: 25,
  remote_compiles: 0,
  local_fallbacks: 3,
  local_fallback_reasons: { 'daemon-unavailable': 3 },
  compile_failures: 1,
  corrupt_entries: 0,
  cache_bytes: 1.5 * 1024 ** 3,
  cache_entries: 1234,
  cache_max_bytes: 5 * 1024 ** 3,
  time_saved_ms: 192_000,
  zeroed_at: '2026-11-27T07:00:00.000Z',
}

const line = (text: string, label: string) =>
  text.split('\n').find((l) => l.trim().startsWith(label))

describe('formatStats', () => {
  it('shows rates, reasons by count, sizes and time saved', () => {
    const out = formatStats(base)
    assert.match(line(out, 'Hits')!, /\b75\b.*\(75\.00 %\)/)
    assert.match(line(out, 'Direct')!, /\b60\b.*\(80\.00 %\)/)
    assert.match(line(out, 'Misses')!, /\b25\b.*\(25\.00 %\)/)
    assert.match(line(out, 'Cacheable calls')!, /\b100\b/)
    const rows = out.split('\n')
    const at = (l: string) => rows.findIndex((r) => r.trim().startsWith(l))
    assert.ok(at('configure-probe') < at('linking') && at('linking') < at('-E'), 'sorted by count')
    assert.match(line(out, 'daemon-unavailable')!, /\b3\b/)
    assert.match(line(out, 'Cache size')!, /1\.5 GiB \/ 5\.0 GiB.*\(30\.00 %\)/)
    assert.match(line(out, 'Cache entries')!, /1234/)
    assert.match(line(out, 'Time saved')!, /3 min 12 s/)
    assert.match(out, /since 2026-11-27T07:00:00.000Z/)
  })

  it('prints no rates when nothing happened', () => {
    const out = formatStats({
      ...base,
      cache_hits: 0,
      cache_hits_direct: 0,
      cache_hits_preprocessed: 0,
      cache_misses: 0,
      uncacheable: 0,
      uncacheable_reasons: {},
      cache_max_bytes: 0,
      cache_bytes: 0,
      time_saved_ms: 0,
    })
    assert.doesNotMatch(out, /NaN|Infinity/)
    assert.match(line(out, 'Time saved')!, /0 s/)
  })

  it('shows an unlimited cache as such', () => {
    const out = formatStats({ ...base, cache_max_bytes: Number.MAX_SAFE_INTEGER })
    assert.match(line(out, 'Cache size')!, /1\.5 GiB \/ no limit$/)
  })
})
