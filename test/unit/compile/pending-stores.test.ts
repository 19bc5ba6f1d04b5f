import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises'
import { PendingStores } from '../../../src/compile/pending-stores.ts'

/** A store write the test finishes by hand. */
function gate() {
  const { promise, resolve, reject } = Promise.withResolvers<void>()
  let started = false
  let signal: AbortSignal | undefined
  return {
    work: (s: AbortSignal) => {
      started = true
      signal = s
      return promise
    },
    open: () => resolve(),
    fail: (err: Error) => reject(err),
    started: () => started,
    signal: () => signal,
  }
}

/** Whether `p` has settled by the next turn of the event loop. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false
  void p.then(
    () => (done = true),
    () => (done = true),
  )
  await nextTurn()
  await nextTurn()
  return done
}

describe('PendingStores', () => {
  it('a write is findable by its keys at once, starts on the next turn, and is forgotten once done', async () => {
    const stores = new PendingStores()
    const g = gate()
    const done = stores.run(['a', 'b'], g.work)
    assert.equal(g.started(), false, 'not started in the turn that sends the reply')
    assert.ok(stores.has('a') && stores.has('b'))
    assert.equal(stores.has('c'), false)
    assert.equal(stores.size, 1)
    await nextTurn()
    assert.equal(g.started(), true)
    const waiting = stores.waitFor('a')
    assert.equal(await settled(waiting), false, 'waits for the write of its key')
    g.open()
    await done
    await waiting
    assert.equal(stores.has('a'), false)
    assert.equal(stores.size, 0)
    await stores.waitFor('nothing') // no write of that key: at once
  })

  it('a failed write is settled, not rethrown (the work reports it)', async () => {
    const stores = new PendingStores()
    const g = gate()
    const done = stores.run(['k'], g.work)
    await nextTurn()
    g.fail(new Error('disk full'))
    await done
    assert.equal(stores.size, 0)
    await stores.flush()
  })

  it('a newer write of the same key stays findable when the older one ends', async () => {
    const stores = new PendingStores()
    const first = gate()
    const second = gate()
    const one = stores.run(['k'], first.work)
    stores.run(['k'], second.work)
    await nextTurn()
    first.open()
    await one
    assert.equal(stores.has('k'), true)
    assert.equal(await settled(stores.waitFor('k')), false)
    second.open()
    await stores.flush()
    assert.equal(stores.has('k'), false)
  })

  it('flush waits for the writes started before it, not for later ones', async () => {
    const stores = new PendingStores()
    const early = gate()
    const late = gate()
    stores.run(['e'], early.work)
    const flushed = stores.flush()
    stores.run(['l'], late.work)
    assert.equal(await settled(flushed), false)
    early.open()
    await flushed
    assert.equal(stores.size, 1, 'the later write still runs')
    late.open()
    await stores.flush()
    assert.equal(stores.size, 0)
  })

  it('waitFor and flush end with their signal', async () => {
    const stores = new PendingStores()
    const g = gate()
    stores.run(['k'], g.work)
    const ac = new AbortController()
    const waiting = stores.waitFor('k', { signal: ac.signal })
    const flushing = stores.flush({ signal: AbortSignal.timeout(20) })
    ac.abort(new Error('client gone'))
    await assert.rejects(waiting, /client gone/)
    await assert.rejects(flushing, { name: 'TimeoutError' })
    assert.equal(stores.size, 1, 'the write itself goes on')
    g.open()
    await stores.flush()
  })

  it('close lets writes finish until its signal, then aborts the rest and every later one', async () => {
    const stores = new PendingStores()
    const quick = gate()
    const stuck = gate()
    stores.run(['q'], quick.work)
    stores.run(['s'], stuck.work)
    await nextTurn()
    assert.equal(stuck.signal()?.aborted, false, 'not the request’s signal: alive after replies')
    setTimeout(() => quick.open(), 5)
    const t0 = performance.now()
    await stores.close({ signal: AbortSignal.timeout(60) })
    assert.ok(performance.now() - t0 >= 50, 'waited for the bound')
    assert.equal(stores.has('q'), false, 'the quick write finished')
    assert.equal(stuck.signal()?.aborted, true, 'the stuck one is told to stop')
    const later = gate()
    stores.run(['x'], later.work)
    await sleep(1)
    assert.equal(later.signal()?.aborted, true)
  })
})
