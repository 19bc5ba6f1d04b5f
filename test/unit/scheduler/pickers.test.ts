import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ScoredCandidate } from '../../../src/scheduler/candidates.ts'
import { powerOfD, weightedSample } from '../../../src/scheduler/pickers.ts'
import { seededRandom } from '../../../src/scheduler/random.ts'
import { view } from './fixtures.ts'

function cand(peerId: string, weight: number, score = weight, headroom = 1): ScoredCandidate {
  return { view: view(peerId), weight, score, headroom, room: headroom, speed: 1 }
}

describe('weighted sampling', () => {
  it('draws in proportion to weight and never draws weight 0', () => {
    const items = [cand('a', 1), cand('b', 3), cand('z', 0)]
    const rnd = seededRandom(42)
    const counts = { a: 0, b: 0, z: 0 }
    for (let i = 0; i < 20_000; i++) {
      const [first] = weightedSample(items, 1, rnd)
      counts[first!.view.peerId as 'a' | 'b' | 'z']++
    }
    assert.equal(counts.z, 0)
    const share = counts.b / (counts.a + counts.b)
    assert.ok(Math.abs(share - 0.75) < 0.02, `b drawn ${share}`)
    assert.equal(weightedSample(items, 5, rnd).length, 2)
  })
})

describe('power of d', () => {
  it('tries the best of d random members first, then draws again, all distinct', () => {
    const pool = Array.from({ length: 10 }, (_, i) => cand(`m${i}`, 1, i))
    const picker = powerOfD({ d: 2, exploration: 0 })
    const rnd = seededRandom(3)
    for (let i = 0; i < 200; i++) {
      const order = picker.pick(pool, 3, rnd)
      assert.equal(order.length, 3)
      assert.equal(new Set(order).size, 3)
      assert.ok(order[0]!.score >= order[1]!.score, 'best of the first pair first')
    }
  })

  it('spreads clients over members instead of all choosing the same best one', () => {
    // Ten members, one slightly better in the shared view: argmax would send everyone there.
    const pool = Array.from({ length: 10 }, (_, i) => cand(`m${i}`, i === 0 ? 1.2 : 1))
    const picker = powerOfD({ d: 2, exploration: 0 })
    const rnd = seededRandom(9)
    const first = new Map<string, number>()
    for (let i = 0; i < 1_000; i++) {
      const id = picker.pick(pool, 1, rnd)[0]!.view.peerId
      first.set(id, (first.get(id) ?? 0) + 1)
    }
    assert.ok((first.get('m0') ?? 0) < 350, `m0 chosen ${first.get('m0')} times out of 1000`)
    assert.equal(first.size, 10)
  })

  it('explores members of low weight now and then, but not for long jobs', () => {
    const pool = [cand('good', 1_000), cand('good2', 1_000), cand('low', 0.001)]
    const picker = powerOfD({ d: 2, exploration: 0.2 })
    const rnd = seededRandom(5)
    let explored = 0
    let exploredLong = 0
    for (let i = 0; i < 1_000; i++) {
      if (picker.pick(pool, 2, rnd).some((c) => c.view.peerId === 'low')) explored++
      const long = picker.pick(pool, 2, rnd, { explore: false })
      if (long.some((c) => c.view.peerId === 'low')) exploredLong++
    }
    assert.ok(explored > 100 && explored < 300, `explored ${explored}`)
    assert.equal(exploredLong, 0)
  })
})
