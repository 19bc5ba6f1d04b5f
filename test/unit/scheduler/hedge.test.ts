import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { hedgeSpeedNeeded } from '../../../src/scheduler/hedge.ts'
import { Placement } from '../../../src/scheduler/placement.ts'
import { seededRandom } from '../../../src/scheduler/random.ts'
import { type RemoteSlot, runWithPlacement } from '../../../src/scheduler/run-with-placement.ts'
import { VirtualClock } from '../../../src/scheduler/virtual-clock.ts'
import { FakeBuilders, JOB, view } from './fixtures.ts'

const base = { waiting: 0, typicalMs: 1_000, primarySpeed: 1, margin: 1.25 }

describe('hedge decision', () => {
  it('asks for a member fast enough to finish well before the running attempt', () => {
    // 10 s job, 2 s in, on this machine: 8 s left; a hedge must do 10 s of work in 8 / 1.25.
    assert.equal(hedgeSpeedNeeded({ ...base, elapsedMs: 2_000, estimateMs: 10_000 }), 1.5625)
    // Nearly done: only an absurdly fast member would help.
    assert.ok(hedgeSpeedNeeded({ ...base, elapsedMs: 9_900, estimateMs: 10_000 })! > 100)
  })

  it('never hedges while jobs wait for slots', () => {
    const h = { ...base, waiting: 1, elapsedMs: 2_000, estimateMs: 10_000 }
    assert.equal(hedgeSpeedNeeded(h), undefined)
  })

  it('without a usable estimate, waits for the job to age and then wants twice the speed', () => {
    assert.equal(hedgeSpeedNeeded({ ...base, elapsedMs: 500 }), undefined)
    assert.equal(hedgeSpeedNeeded({ ...base, elapsedMs: 4_000 }), 2.5)
    // Outran its estimate: treated like a job without one.
    assert.equal(hedgeSpeedNeeded({ ...base, elapsedMs: 4_000, estimateMs: 3_000 }), 2.5)
  })
})

describe('hedged runs', () => {
  function setup() {
    const clock = new VirtualClock()
    const builders = new FakeBuilders(clock, { fast: 1, slow: 1 })
    const placement = new Placement({
      clock,
      reserve: builders.reserve,
      members: () => [view('fast', { speed: 4 }), view('slow', { speed: 0.5 })],
      localSlots: 1,
      random: seededRandom(4),
      exploration: 0,
    })
    return { clock, placement }
  }

  it('starts a slow local job again on a much faster free member; the first verdict wins', async () => {
    const { clock, placement } = setup()
    let localAborted = false
    // Just short of a long job, so it starts locally.
    const job = { ...JOB, estimateMs: 4_900 }
    const p = runWithPlacement(job, {
      placement,
      hedge: true,
      local: async (_j, { signal }) => {
        signal.addEventListener('abort', () => {
          localAborted = true
        })
        await clock.sleep(4_900, { signal })
        return 'local'
      },
      remote: async (slot: RemoteSlot, _j, { signal }) => {
        await clock.sleep(slot.peer === 'fast' ? 1_225 : 20_000, { signal })
        return { kind: 'compiled', result: slot.peer }
      },
    })
    await clock.advance(20_000)
    const report = await p
    assert.equal(report.result, 'fast')
    assert.equal(report.where, 'remote')
    assert.equal(report.peer, 'fast')
    assert.equal(localAborted, true)
    assert.equal(placement.local.used, 0, 'the local slot was given back')
    assert.equal(placement.inFlight.running('fast'), 0)
    // The hedge started at the first check (500 ms) and took 1.225 s.
    assert.equal(report.attempts.length, 1)
    assert.ok(Math.abs(report.attempts[0]!.elapsedMs - 1_225) < 1)
  })

  it('keeps the first attempt when the hedge fails, and never hedges onto slow members', async () => {
    const { clock, placement } = setup()
    const asked: string[] = []
    const p = runWithPlacement(
      { ...JOB, estimateMs: 4_000 },
      {
        placement,
        hedge: { checkMs: 200 },
        local: async (_j, { signal }) => {
          await clock.sleep(4_000, { signal })
          return 'local'
        },
        remote: async (slot: RemoteSlot) => {
          asked.push(slot.peer)
          return { kind: 'infra', failure: 'cut-off' }
        },
      },
    )
    await clock.advance(10_000)
    const report = await p
    assert.equal(report.result, 'local')
    assert.deepEqual(asked, ['fast'])
    assert.deepEqual(
      report.attempts.map((a) => a.outcome),
      ['cut-off', 'compiled'],
    )
  })
})
