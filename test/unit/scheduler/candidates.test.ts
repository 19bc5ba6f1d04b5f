import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  candidates,
  ineligibility,
  type ScoringContext,
  scoreCandidate,
} from '../../../src/scheduler/candidates.ts'
import type { PlacementJob } from '../../../src/scheduler/types.ts'
import { JOB, view } from './fixtures.ts'

function ctx(over: Partial<ScoringContext> = {}, job: PlacementJob = JOB): ScoringContext {
  return {
    now: 0,
    job,
    maxAdvertAgeMs: 6_000,
    exclude: new Set(),
    isOpen: () => false,
    versionOk: () => true,
    known: (_p, at, free) => ({ base: free, at, free, running: 0 }),
    backingOff: () => false,
    turnoverShare: 0.5,
    speed: (v) => v.speed,
    failureFactor: () => 1,
    expectedMs: 1_000,
    typicalMs: 1_000,
    missingToolchainFactor: 0.25,
    ...over,
  }
}

describe('eligibility', () => {
  it('admits only fresh, admitted builders of the right platform with an open breaker', () => {
    const c = ctx({ exclude: new Set(['x']), isOpen: (p) => p === 'open' })
    assert.equal(ineligibility(view('ok'), c), undefined)
    assert.equal(ineligibility(view('a', { builder: false }), c), 'not-builder')
    assert.equal(ineligibility(view('a', { admitted: false }), c), 'not-admitted')
    assert.equal(ineligibility(view('x'), c), 'excluded')
    assert.equal(ineligibility(view('a', { advertAt: -6_001 }), c), 'stale')
    assert.equal(ineligibility(view('a', { platform: 'darwin' }), c), 'platform')
    assert.equal(ineligibility(view('a', { arch: 'arm64' }), c), 'platform')
    assert.equal(ineligibility(view('a', { cores: 0 }), c), 'no-cores')
    assert.equal(ineligibility(view('open'), c), 'breaker-open')
    assert.equal(ineligibility(view('a'), ctx({ versionOk: () => false })), 'version')
    const all = [view('ok'), view('x'), view('a', { platform: 'win32' })]
    assert.deepEqual(
      candidates(all, c).map((s) => s.view.peerId),
      ['ok'],
    )
  })
})

describe('scoring', () => {
  it('weighs free slots, speed, toolchain, round trip and failures', () => {
    const base = scoreCandidate(view('a', { freeSlots: 4 }), ctx())
    assert.equal(base.headroom, 4)
    const more = scoreCandidate(view('a', { freeSlots: 8 }), ctx())
    assert.ok(more.weight > base.weight * 1.9)
    const fast = scoreCandidate(view('a', { freeSlots: 4, speed: 2 }), ctx())
    assert.ok(fast.weight > base.weight * 1.9 && fast.score > base.score * 1.9)
    const noTc = scoreCandidate(view('a', { freeSlots: 4, toolchains: [] }), ctx())
    assert.ok(Math.abs(noTc.weight / base.weight - 0.25) < 1e-9)
    const far = scoreCandidate(view('a', { freeSlots: 4, rttMs: 250 }), ctx())
    assert.ok(far.weight < base.weight * 0.7)
    const failed = scoreCandidate(view('a', { freeSlots: 4 }), ctx({ failureFactor: () => 0.5 }))
    assert.ok(failed.weight < base.weight * 0.6)
  })

  it('uses the corrected free slots and keeps a small weight for members shown full', () => {
    const c = ctx({ known: (_p, at, free) => ({ base: free, at, free: free - 3, running: 3 }) })
    const s = scoreCandidate(view('a', { freeSlots: 2, queuedJobs: 1 }), c)
    assert.equal(s.headroom, 0)
    assert.ok(s.weight > 0 && s.weight < 0.2)
    const capped = scoreCandidate(view('a', { cores: 4, freeSlots: 9 }), ctx())
    assert.equal(capped.headroom, 4)
  })

  it('expects slots to turn over as the information ages', () => {
    const full = view('a', { cores: 8, freeSlots: 0, advertAt: 0 })
    assert.equal(scoreCandidate(full, ctx({ now: 0 })).headroom, 0)
    // Half a typical job later, half the slots finished a job; we count on half of those.
    assert.equal(scoreCandidate(full, ctx({ now: 500 })).headroom, 2)
    assert.equal(scoreCandidate(full, ctx({ now: 5_000 })).headroom, 4)
    // On a member twice as fast, turnover is twice as quick.
    const fast = view('a', { cores: 8, freeSlots: 0, advertAt: 0, speed: 2 })
    assert.equal(scoreCandidate(fast, ctx({ now: 250 })).headroom, 2)
  })

  it('makes speed count more for long jobs than for typical ones', () => {
    const slowBig = view('big', { freeSlots: 32, cores: 32, speed: 1 })
    const fastSmall = view('fast', { freeSlots: 4, speed: 2 })
    const short = ctx()
    assert.ok(
      scoreCandidate(slowBig, short).weight > scoreCandidate(fastSmall, short).weight,
      'a typical job spreads by free capacity',
    )
    const long = ctx({ expectedMs: 60_000 }, { ...JOB, estimateMs: 60_000 })
    assert.ok(
      scoreCandidate(fastSmall, long).weight > 4 * scoreCandidate(slowBig, long).weight,
      'a long job seeks speed',
    )
  })

  it('in the bulk of a build, leaves fast members to longer jobs (speed matching)', () => {
    const slow = view('slow', { freeSlots: 4, speed: 0.5 })
    const fast = view('fast', { freeSlots: 4, speed: 2 })
    const w = (v: typeof slow, c: ScoringContext) => scoreCandidate(v, c).weight
    const shortJob = { ...JOB, estimateMs: 300 }
    const tail = ctx({ expectedMs: 300 }, shortJob)
    const bulk = ctx({ expectedMs: 300, bulk: true }, shortJob)
    assert.ok(w(fast, tail) > 3 * w(slow, tail), 'at the end, even a short job seeks speed')
    assert.ok(w(slow, bulk) > 3 * w(fast, bulk), 'in the bulk, a short job takes the slow slot')
    // Long jobs, and jobs of unknown length, keep seeking speed in the bulk.
    const long = ctx({ expectedMs: 20_000, bulk: true }, { ...JOB, estimateMs: 20_000 })
    assert.ok(w(fast, long) > 3 * w(slow, long))
    const unknown = ctx({ bulk: true })
    assert.ok(w(fast, unknown) > 3 * w(slow, unknown))
  })

  it('never counts more own jobs on a member than it has cores', () => {
    const c = ctx({ known: (_p, at, free) => ({ base: free, at, free, running: 6 }) })
    const s = scoreCandidate(view('a', { cores: 8, freeSlots: 8 }), c)
    assert.equal(s.headroom, 2)
    const full = ctx({ known: (_p, at, free) => ({ base: free, at, free: free - 1, running: 9 }) })
    assert.equal(scoreCandidate(view('a', { cores: 8, freeSlots: 8 }), full).room, -1)
  })
})
