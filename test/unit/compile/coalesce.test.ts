import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MissCoalescer } from '../../../src/compile/coalesce.ts'

describe('MissCoalescer', () => {
  it('the first request leads; the others wait until it releases', async () => {
    const c = new MissCoalescer(10_000)
    const lead = c.enter('k')
    assert.equal(lead.lead, true)
    const follow = c.enter('k')
    assert.equal(follow.lead, false)
    assert.equal(c.enter('other').lead, true, 'keys are independent')
    if (lead.lead !== true || follow.lead !== false) throw new Error('unreachable')
    let woke = false
    const waiting = c.wait(follow).then((r) => {
      woke = true
      return r
    })
    await new Promise((r) => setTimeout(r, 20))
    assert.equal(woke, false)
    lead.release()
    lead.release() // idempotent
    assert.equal(await waiting, 'done')
    assert.equal(c.enter('k').lead, true, 'released: the next request leads')
  })

  it('never waits forever: a bound, and the follower’s own abort', async () => {
    const c = new MissCoalescer(30)
    assert.equal(c.enter('k').lead, true)
    const follow = c.enter('k')
    if (follow.lead !== false) throw new Error('unreachable')
    const t0 = Date.now()
    assert.equal(await c.wait(follow), 'timeout')
    assert.ok(Date.now() - t0 < 5_000)
    const patient = new MissCoalescer(60_000)
    assert.equal(patient.enter('k').lead, true)
    const f2 = patient.enter('k')
    if (f2.lead !== false) throw new Error('unreachable')
    const ac = new AbortController()
    setTimeout(() => ac.abort(new Error('client gone')), 10)
    await assert.rejects(patient.wait(f2, { signal: ac.signal }), /client gone/)
  })
})
