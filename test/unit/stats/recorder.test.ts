import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { StatsRecorder } from '../../../src/stats/recorder.ts'

async function home() {
  const dir = await mkdtemp(join(tmpdir(), 'meshcc-stats-'))
  await mkdir(join(dir, 'run'))
  return {
    dir,
    file: join(dir, 'stats.json'),
    fallbackLog: join(dir, 'run', 'fallbacks.log'),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  }
}

describe('StatsRecorder', () => {
  it('counts every event into the snapshot', () => {
    const r = new StatsRecorder({ file: '/nonexistent/stats.json' })
    r.hit('direct', 100.4)
    r.hit('direct', 50)
    r.hit('preprocessed', 10)
    r.miss()
    r.uncacheable('linking')
    r.uncacheable('linking')
    r.uncacheable('-E')
    r.localCompile()
    r.remoteCompile()
    r.fallback('daemon-unavailable')
    r.compileFailure()
    r.corrupt()
    const s = r.snapshot({ bytes: 1000, entries: 3, maxBytes: 5000, corruptEntries: 1 })
    assert.equal(s.cache_hits, 3)
    assert.equal(s.cache_hits_direct, 2)
    assert.equal(s.cache_hits_preprocessed, 1)
    assert.equal(s.cache_misses, 1)
    assert.equal(s.uncacheable, 3)
    assert.deepEqual(s.uncacheable_reasons, { linking: 2, '-E': 1 })
    assert.equal(s.local_compiles, 1)
    assert.equal(s.remote_compiles, 1)
    assert.equal(s.local_fallbacks, 1)
    assert.deepEqual(s.local_fallback_reasons, { 'daemon-unavailable': 1 })
    assert.equal(s.compile_failures, 1)
    assert.equal(s.corrupt_entries, 1)
    assert.equal(s.time_saved_ms, 160)
    assert.equal(s.cache_bytes, 1000)
    assert.equal(s.cache_entries, 3)
    assert.equal(s.cache_max_bytes, 5000)
    assert.ok(!Number.isNaN(Date.parse(s.zeroed_at)))
  })

  it('persists across restarts and on the flush interval', async () => {
    const h = await home()
    const a = new StatsRecorder({ file: h.file, flushIntervalMs: 30 })
    await a.start()
    a.hit('direct', 5)
    a.uncacheable('multiple sources')
    await new Promise((r) => setTimeout(r, 120))
    const onDisk = JSON.parse(readFileSync(h.file, 'utf8'))
    assert.equal(onDisk.cache_hits_direct, 1, 'written by the timer, before stop')
    a.miss()
    await a.stop()
    const b = new StatsRecorder({ file: h.file })
    await b.start()
    const s = b.snapshot()
    assert.equal(s.cache_hits, 1)
    assert.equal(s.cache_misses, 1)
    assert.deepEqual(s.uncacheable_reasons, { 'multiple-sources': 1 })
    assert.equal(s.zeroed_at, a.snapshot().zeroed_at)
    await b.stop()
    await h.cleanup()
  })

  it('zeroes counters and records when', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z')
    const h = await home()
    const r = new StatsRecorder({ file: h.file, now: () => now })
    r.miss()
    r.fallback('x')
    now += 60_000
    r.zero()
    const s = r.snapshot()
    assert.equal(s.cache_misses, 0)
    assert.deepEqual(s.local_fallback_reasons, {})
    assert.equal(s.zeroed_at, '2026-01-01T00:01:00.000Z')
    await r.flush()
    assert.equal(JSON.parse(readFileSync(h.file, 'utf8')).zeroed_at, s.zeroed_at)
    await h.cleanup()
  })

  it('counts builder jobs and reservations, persists and zeroes them like the others', async () => {
    const h = await home()
    const a = new StatsRecorder({ file: h.file })
    await a.start()
    for (const e of ['reserved', 'accepted', 'compiled', 'reserved', 'accepted'] as const) {
      a.builder(e)
    }
    a.builder('failed')
    a.builder('reserveBusy')
    a.builder('busy')
    a.builder('busy')
    a.builder('refused')
    a.reservation('granted')
    a.reservation('busy')
    a.reservation('busy')
    a.reservation('failed')
    a.builderSlots(4)
    const s = a.snapshot()
    assert.equal(s.builder_jobs_compiled, 1)
    assert.equal(s.builder_jobs_failed, 1)
    assert.equal(s.builder_busy, 2)
    assert.equal(s.builder_refused, 1)
    assert.equal(s.builder_reservations, 2)
    assert.equal(s.builder_reservations_busy, 1)
    assert.equal(s.remote_reservations, 1)
    assert.equal(s.remote_reservations_busy, 2)
    assert.equal(s.remote_reservations_failed, 1)
    assert.equal(s.builder_slots, 4)
    await a.stop()
    const onDisk = JSON.parse(readFileSync(h.file, 'utf8'))
    assert.equal(onDisk.builder_jobs_compiled, 1)
    assert.equal('builder_slots' in onDisk, false, 'a state, not a counter: not persisted')

    const b = new StatsRecorder({ file: h.file })
    await b.start()
    const t = b.snapshot()
    assert.equal(t.builder_jobs_compiled, 1)
    assert.equal(t.builder_reservations_busy, 1)
    assert.equal(t.remote_reservations_busy, 2)
    assert.equal(t.builder_slots, undefined, 'out of the mesh until told otherwise')
    b.builderSlots(4)
    b.zero()
    const z = b.snapshot()
    for (const k of [
      'builder_jobs_compiled',
      'builder_jobs_failed',
      'builder_busy',
      'builder_refused',
      'builder_reservations',
      'builder_reservations_busy',
      'remote_reservations',
      'remote_reservations_busy',
      'remote_reservations_failed',
    ] as const) {
      assert.equal(z[k], 0, k)
    }
    assert.equal(z.builder_slots, 4, 'zeroing leaves the state alone')
    await b.stop()
    assert.equal(JSON.parse(readFileSync(h.file, 'utf8')).builder_jobs_compiled, 0)
    await h.cleanup()
  })

  it('starts from zero on a corrupt stats file', async () => {
    const h = await home()
    await writeFile(h.file, '{"cache_misses": 3, trunc')
    const r = new StatsRecorder({ file: h.file })
    await r.start()
    assert.equal(r.snapshot().cache_misses, 0)
    await r.stop()
    assert.equal(JSON.parse(readFileSync(h.file, 'utf8')).cache_misses, 0)
    await h.cleanup()
  })

  it('ignores nonsense values in the stats file', async () => {
    const h = await home()
    await writeFile(
      h.file,
      JSON.stringify({
        cache_misses: -4,
        cache_hits_direct: 'x',
        local_compiles: 7,
        uncacheable_reasons: { a: 2, b: 'no' },
      }),
    )
    const r = new StatsRecorder({ file: h.file })
    await r.load()
    const s = r.snapshot()
    assert.equal(s.cache_misses, 0)
    assert.equal(s.cache_hits_direct, 0)
    assert.equal(s.local_compiles, 7)
    assert.deepEqual(s.uncacheable_reasons, { a: 2 })
    await h.cleanup()
  })

  it('keeps reasons short and bounded', () => {
    const r = new StatsRecorder({ file: '/nonexistent' })
    r.uncacheable('a reason with spaces\nand "quotes"')
    for (let i = 0; i < 300; i++) r.uncacheable(`r${i}`)
    const reasons = r.snapshot().uncacheable_reasons
    assert.ok('a-reason-with-spaces-and-quotes-' in reasons)
    assert.equal(Object.keys(reasons).length, 201)
    assert.equal(reasons['other'], 101)
    assert.equal(r.snapshot().uncacheable, 301)
  })

  describe('fallback log', () => {
    it('counts complete lines by reason, then removes the log', async () => {
      const h = await home()
      const r = new StatsRecorder({ file: h.file })
      await writeFile(
        h.fallbackLog,
        '1764230000 daemon-unavailable\n1764230001 daemon-unavailable\n1764230002 protocol-error\n\nnonsense\n1764230003 torn-li',
      )
      assert.equal(await r.ingestFallbackLog(h.fallbackLog, { graceMs: 0 }), 4)
      const s = r.snapshot()
      assert.equal(s.local_fallbacks, 4)
      assert.deepEqual(s.local_fallback_reasons, {
        'daemon-unavailable': 2,
        'protocol-error': 1,
        unknown: 1,
      })
      assert.deepEqual(readdirSync(join(h.dir, 'run')), [], 'log and taken-over copies removed')
      assert.equal(JSON.parse(readFileSync(h.file, 'utf8')).local_fallbacks, 4, 'persisted')
      assert.equal(await r.ingestFallbackLog(h.fallbackLog, { graceMs: 0 }), 0)
      await h.cleanup()
    })

    it('loses and double-counts nothing while a client keeps appending', async () => {
      const h = await home()
      const r = new StatsRecorder({ file: h.file })
      const lines = 400
      // A separate process appending one line per open/write/close, like the native client.
      const writer = spawn(
        'sh',
        [
          '-c',
          `i=0; while [ $i -lt ${lines} ]; do echo "1764230000 reason$((i % 3))" >> "$0"; i=$((i+1)); done`,
          h.fallbackLog,
        ],
        { stdio: 'ignore' },
      )
      const exited = new Promise((resolve) => writer.on('exit', resolve))
      let done = false
      void exited.then(() => {
        done = true
      })
      let counted = 0
      while (!done) counted += await r.ingestFallbackLog(h.fallbackLog, { graceMs: 5 })
      counted += await r.ingestFallbackLog(h.fallbackLog, { graceMs: 5 })
      assert.equal(counted, lines)
      assert.equal(r.snapshot().local_fallbacks, lines)
      const reasons = r.snapshot().local_fallback_reasons
      assert.equal(
        (reasons['reason0'] ?? 0) + (reasons['reason1'] ?? 0) + (reasons['reason2'] ?? 0),
        lines,
      )
      assert.equal(existsSync(h.fallbackLog), false)
      await h.cleanup()
    })

    it('does not count again a log counted before a crash', async () => {
      const h = await home()
      const name = 'fallbacks.log.1000.1.0.ingest'
      await writeFile(join(h.dir, 'run', name), '1 daemon-unavailable\n')
      await writeFile(join(h.dir, 'run', 'fallbacks.log.2000.1.1.ingest'), '1 protocol-error\n')
      await writeFile(
        h.file,
        JSON.stringify({
          local_fallbacks: 1,
          local_fallback_reasons: { 'daemon-unavailable': 1 },
          fallback_logs_counted: [name],
        }),
      )
      const r = new StatsRecorder({ file: h.file })
      await r.start()
      assert.equal(await r.ingestFallbackLog(h.fallbackLog, { graceMs: 0 }), 1)
      assert.deepEqual(r.snapshot().local_fallback_reasons, {
        'daemon-unavailable': 1,
        'protocol-error': 1,
      })
      assert.deepEqual(readdirSync(join(h.dir, 'run')), [])
      await r.stop()
      assert.deepEqual(JSON.parse(readFileSync(h.file, 'utf8')).fallback_logs_counted, [])
      await h.cleanup()
    })

    it('stops promptly during a grace period and counts the log on the next start', async () => {
      const h = await home()
      const opts = {
        file: h.file,
        fallbackLog: h.fallbackLog,
        flushIntervalMs: 10,
        fallbackGraceMs: 60_000,
      }
      const a = new StatsRecorder(opts)
      await a.start()
      appendFileSync(h.fallbackLog, '1764230000 socket-error\n')
      await new Promise((res) => setTimeout(res, 50))
      const t0 = Date.now()
      await a.stop()
      assert.ok(Date.now() - t0 < 1000, 'stop did not wait for the grace period')
      assert.equal(a.snapshot().local_fallbacks, 0)
      const b = new StatsRecorder(opts)
      await b.start()
      assert.equal(await b.ingestFallbackLog(h.fallbackLog, { graceMs: 0 }), 1)
      await b.stop()
      await h.cleanup()
    })

    it('is ingested periodically when started with a fallback log', async () => {
      const h = await home()
      const r = new StatsRecorder({
        file: h.file,
        fallbackLog: h.fallbackLog,
        flushIntervalMs: 20,
        fallbackGraceMs: 0,
      })
      await r.start()
      appendFileSync(h.fallbackLog, '1764230000 socket-error\n')
      for (let i = 0; i < 50 && r.snapshot().local_fallbacks === 0; i++) {
        await new Promise((res) => setTimeout(res, 20))
      }
      assert.equal(r.snapshot().local_fallbacks, 1)
      await r.stop()
      await h.cleanup()
    })
  })
})
