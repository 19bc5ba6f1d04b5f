import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { InFlight } from '../../../src/scheduler/in-flight.ts'

describe('own jobs in flight', () => {
  it('corrects an advert by the jobs started and finished since', () => {
    const f = new InFlight()
    const before = f.start('a', 100) // running when the advert was made: already counted
    const after1 = f.start('a', 300)
    f.start('a', 400)
    assert.equal(f.correctedFree('a', 200, 5), 3)
    assert.equal(f.running('a'), 3)
    before.end(500) // it was counted busy, now free
    assert.equal(f.correctedFree('a', 200, 5), 4)
    after1.end(600) // started and ended after the advert: no net change
    assert.equal(f.correctedFree('a', 200, 5), 5)
    // A newer advert already reflects everything.
    assert.equal(f.correctedFree('a', 700, 5), 5)
    assert.equal(f.correctedFree('b', 200, 5), 5)
  })

  it('forgets a refused reservation entirely', () => {
    const f = new InFlight()
    const c = f.start('a', 300)
    c.cancel()
    assert.equal(f.correctedFree('a', 200, 5), 5)
    assert.equal(f.running('a'), 0)
  })

  it('treats a busy answer newer than the advert as a full builder', () => {
    const f = new InFlight()
    const mine = f.start('a', 100)
    f.markFull('a', 300)
    assert.equal(f.correctedFree('a', 200, 6), 0)
    mine.end(400) // we freed one after it said busy
    assert.equal(f.correctedFree('a', 200, 6), 1)
    // An advert newer than the busy answer wins again.
    assert.equal(f.correctedFree('a', 500, 6), 6)
  })
})
