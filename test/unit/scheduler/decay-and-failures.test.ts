import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DecayingValue, decayFactor } from '../../../src/scheduler/decay.ts'
import { FailureTracker } from '../../../src/scheduler/failure-tracker.ts'
import { VirtualClock } from '../../../src/scheduler/virtual-clock.ts'

describe('decay', () => {
  it('halves every half-life and ignores future times', () => {
    assert.equal(decayFactor(0, 1000), 1)
    assert.equal(decayFactor(1000, 1000), 0.5)
    assert.equal(decayFactor(3000, 1000), 0.125)
    assert.equal(decayFactor(-5, 1000), 1)
  })

  it('folds new evidence into the decayed old value', () => {
    const v = new DecayingValue()
    v.add(4, 0, 1000)
    assert.equal(v.get(1000, 1000), 2)
    v.add(1, 1000, 1000)
    assert.equal(v.get(2000, 1000), 1.5)
  })
})

describe('failure tracker', () => {
  it('opens after repeated failures and closes once the penalty has decayed', async () => {
    const clock = new VirtualClock()
    const f = new FailureTracker({ clock, halfLifeMs: 10_000, openAt: 3, closeAt: 1 })
    f.failure('a', 'cut-off')
    f.failure('a', 'deadline')
    assert.equal(f.isOpen('a'), false)
    assert.equal(f.factor('a'), 0.25)
    f.failure('a', 'unreachable')
    assert.equal(f.isOpen('a'), true)
    // 3 → 1 takes log2(3) ≈ 1.58 half-lives.
    await clock.advance(15_000)
    assert.equal(f.isOpen('a'), true)
    await clock.advance(1_000)
    assert.equal(f.isOpen('a'), false)
    assert.equal(f.isOpen('b'), false)
  })

  it('keeps a builder out longer the more it failed (no fixed back-off)', async () => {
    const closeAfter = async (failures: number) => {
      const clock = new VirtualClock()
      const f = new FailureTracker({ clock, halfLifeMs: 10_000 })
      for (let i = 0; i < failures; i++) f.failure('a', 'cut-off')
      let t = 0
      while (f.isOpen('a')) {
        await clock.advance(500)
        t += 500
      }
      return t
    }
    const three = await closeAfter(3)
    const twelve = await closeAfter(12)
    assert.ok(three > 10_000 && three < 20_000, `3 failures: ${three}`)
    assert.ok(twelve >= three + 15_000, `12 failures: ${twelve} vs ${three}`)
  })

  it('opens at once on a sandbox refusal, and successes halve the penalty', () => {
    const clock = new VirtualClock()
    const f = new FailureTracker({ clock })
    f.failure('a', 'sandbox-refused')
    assert.equal(f.isOpen('a'), true)
    f.failure('b', 'cut-off')
    f.success('b')
    assert.equal(f.penalty('b'), 0.5)
  })
})
