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

  it('backs off a member that said BUSY, and never counts more own jobs than it has cores', () => {
    const f = new InFlight()
    f.backOff('a', 100, 600)
    assert.equal(f.backingOff('a', 599), true)
    assert.equal(f.backingOff('a', 600), false)
    // The BUSY answer also marks it full, even for an advert received at that very instant.
    assert.equal(f.correctedFree('a', 100, 6), 0)
    const k = f.known('b', 200, 8)
    assert.equal(k.running, 0)
    for (let i = 0; i < 3; i++) f.start('b', 100)
    // An advert published before our three jobs got there, received after we sent them.
    assert.deepEqual(f.known('b', 200, 8), { base: 8, at: 200, free: 8, running: 3 })
  })
})
