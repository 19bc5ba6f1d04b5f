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

  it('shows no builder block and no reservations out of a mesh with nothing built', () => {
    const out = formatStats({ ...base, builder_jobs_compiled: 0, remote_reservations: 0 })
    assert.equal(line(out, 'Builder'), undefined)
    assert.equal(line(out, 'Reservations asked'), undefined)
  })

  it('shows the builder block and the reservations of a node in the mesh, zeros included', () => {
    const out = formatStats({ ...base, builder_slots: 8 })
    assert.match(line(out, 'Builder (jobs for members)')!, /8 slots$/)
    assert.match(line(out, 'Jobs compiled')!, /\b0$/)
    assert.match(line(out, 'Reservations asked')!, /\b0$/)
    const idle = formatStats({ ...base, builder_slots: 0 })
    assert.match(line(idle, 'Builder (jobs for members)')!, /not building$/)
  })

  it('shows what was built for members and how reservations were answered', () => {
    const out = formatStats({
      ...base,
      remote_reservations: 6,
      remote_reservations_busy: 3,
      remote_reservations_failed: 1,
      builder_jobs_compiled: 30,
      builder_jobs_failed: 10,
      builder_busy: 12,
      builder_refused: 2,
      builder_reservations: 40,
      builder_reservations_busy: 10,
    })
    const rows = out.split('\n')
    const at = (l: string) => rows.findIndex((r) => r.trim().startsWith(l))
    assert.match(line(out, 'Reservations asked')!, /\b10$/)
    assert.match(rows[at('Reservations asked') + 1]!, /Granted\s+6\s+\(60\.00 %\)/)
    assert.match(rows[at('Reservations asked') + 2]!, /Busy\s+3\s+\(30\.00 %\)/)
    assert.match(rows[at('Reservations asked') + 3]!, /Failed\s+1\s+\(10\.00 %\)/)
    // Not in the mesh now (no builder_slots), but it built for members since the zeroing.
    assert.ok(at('Builder (jobs for members)') > at('Time saved'))
    assert.match(line(out, 'Builder (jobs for members)')!, /members\)$/)
    assert.match(line(out, 'Jobs compiled')!, /\b30\s+\(75\.00 %\)/)
    assert.match(line(out, 'Jobs failed')!, /\b10\s+\(25\.00 %\)/)
    assert.match(line(out, 'Busy answers')!, /\b12$/)
    assert.match(line(out, 'Refused')!, /\b2$/)
    assert.match(line(out, 'Reservations granted')!, /\b40\s+\(80\.00 %\)/)
    assert.match(line(out, 'Reservations busy')!, /\b10\s+\(20\.00 %\)/)
  })

  it('shows an unlimited cache as such', () => {
    const out = formatStats({ ...base, cache_max_bytes: Number.MAX_SAFE_INTEGER })
    assert.match(line(out, 'Cache size')!, /1\.5 GiB \/ no limit$/)
  })
})
