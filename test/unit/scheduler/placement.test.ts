import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Placement, type PlacementInit } from '../../../src/scheduler/placement.ts'
import { seededRandom } from '../../../src/scheduler/random.ts'
import type { BuilderView, Slot } from '../../../src/scheduler/types.ts'
import { VirtualClock } from '../../../src/scheduler/virtual-clock.ts'
import { FakeBuilders, JOB, view } from './fixtures.ts'

function setup(
  views: BuilderView[],
  slots: Record<string, number>,
  over: Partial<PlacementInit> = {},
) {
  const clock = new VirtualClock()
  const builders = new FakeBuilders(clock, slots)
  let members = views
  const placement = new Placement({
    clock,
    reserve: builders.reserve,
    members: () => members,
    localSlots: 0,
    random: seededRandom(1),
    exploration: 0,
    ...over,
  })
  const setMembers = (v: BuilderView[]) => {
    members = v
    placement.viewChanged()
  }
  return { clock, builders, placement, setMembers }
}

/** Runs the virtual clock, a millisecond at a time, until `p` settles (at most a minute). */
async function settle<T>(clock: VirtualClock, p: Promise<T>): Promise<T> {
  let done = false
  p.then(
    () => {
      done = true
    },
    () => {
      done = true
    },
  )
  for (let i = 0; i < 60_000 && !done; i++) await clock.advance(1)
  return p
}

const peerOf = (s: Slot) => (s.kind === 'remote' ? s.peer : 'local')

describe('placement', () => {
  it('keeps local slots busy first, then overflows to members', async () => {
    const { clock, builders, placement } = setup([view('a')], { a: 8 }, { localSlots: 2 })
    const slots = await settle(clock, Promise.all([1, 2, 3].map(() => placement.acquire(JOB))))
    assert.deepEqual(slots.map(peerOf), ['local', 'local', 'a'])
    assert.deepEqual(builders.asked, ['a'])
    assert.equal(placement.counters.local, 2)
    assert.equal(placement.counters.remote, 1)
  })

  it('asks the next member when one says busy', async () => {
    const views = [view('a'), view('b'), view('c')]
    const answers: string[] = []
    const { clock, builders, placement } = setup(
      views,
      { a: 0, b: 0, c: 1 },
      { onReserve: (a) => answers.push(a) },
    )
    const slot = await settle(clock, placement.acquire(JOB))
    assert.equal(peerOf(slot), 'c')
    assert.equal(builders.asked.at(-1), 'c')
    assert.equal(placement.counters.busy, builders.asked.length - 1)
    assert.equal(placement.counters.reserveBusy, builders.asked.length - 1)
    assert.deepEqual(answers, [...builders.asked.slice(0, -1).map(() => 'busy'), 'granted'])
    // Members that said busy count as full until a newer advert.
    for (const c of placement.candidates(JOB)) {
      if (c.view.peerId === 'c') assert.equal(c.headroom, 7, 'one slot taken by us')
      else if (builders.asked.includes(c.view.peerId)) assert.equal(c.headroom, 0, c.view.peerId)
    }
  })

  it('leaves a member that said busy alone for the back-off, then asks it again', async () => {
    const { clock, builders, placement } = setup([view('a')], { a: 0 }, { busyBackoffMs: 400 })
    const p = placement.acquire(JOB)
    await clock.advance(300)
    // One refusal; the periodic retry (250 ms) does not ask again while backing off.
    assert.deepEqual(builders.asked, ['a'])
    builders.release('a')
    const slot = await settle(clock, p)
    assert.equal(peerOf(slot), 'a')
    assert.deepEqual(builders.asked, ['a', 'a'])
    assert.ok(clock.now() >= 400)
  })

  it('a long job waiting for a fast member does not hold up short jobs behind it', async () => {
    const views = [view('fast', { speed: 2, freeSlots: 0 }), view('slow', { speed: 0.5 })]
    const { clock, placement } = setup(views, { fast: 0, slow: 4 }, { maxParallelProbes: 1 })
    const long = placement.acquire({ ...JOB, estimateMs: 20_000 })
    const short = await settle(clock, placement.acquire({ ...JOB, estimateMs: 100 }))
    assert.equal(peerOf(short), 'slow')
    assert.ok(clock.now() < 50, `short job placed at once, not after ${clock.now()} ms`)
    assert.equal(placement.waiting, 1, 'the long job still waits for the fast member')
    placement.close()
    await long.catch(() => {})
  })

  it('after k refusals waits, and takes the first local slot that frees', async () => {
    const views = [view('a'), view('b'), view('c'), view('d')]
    const { clock, builders, placement } = setup(
      views,
      { a: 0, b: 0, c: 0, d: 0 },
      { localSlots: 1, maxAttempts: 2 },
    )
    const first = await settle(clock, placement.acquire(JOB))
    assert.equal(first.kind, 'local')
    let second: Slot | undefined
    placement.acquire(JOB).then((s) => {
      second = s
    })
    await clock.advance(100)
    assert.equal(second, undefined)
    assert.equal(placement.waiting, 1)
    assert.ok(builders.asked.length >= 2, `asked ${builders.asked}`)
    first.release({ kind: 'done', elapsedMs: 500 })
    await clock.advance(1)
    assert.equal((second as Slot | undefined)?.kind, 'local')
    assert.equal(placement.waiting, 0)
  })

  it('a waiting job tries members again when a new advert shows free slots', async () => {
    const { clock, builders, placement, setMembers } = setup([view('a', { freeSlots: 0 })], {
      a: 0,
    })
    let slot: Slot | undefined
    placement.acquire(JOB).then((s) => {
      slot = s
    })
    await clock.advance(5)
    assert.equal(slot, undefined)
    builders.release('a')
    setMembers([view('a', { freeSlots: 1, advertAt: clock.now() })])
    await clock.advance(5)
    assert.equal(slot === undefined ? 'none' : peerOf(slot), 'a')
  })

  it('does not pile its own concurrent jobs onto one member between adverts', async () => {
    const views = [view('a', { freeSlots: 1 }), view('b', { freeSlots: 1 })]
    const { clock, placement } = setup(views, { a: 1, b: 1 })
    const slots = await settle(clock, Promise.all([placement.acquire(JOB), placement.acquire(JOB)]))
    assert.deepEqual(slots.map(peerOf).sort(), ['a', 'b'])
    assert.equal(placement.counters.busy, 0)
    assert.equal(placement.inFlight.running('a'), 1)
    slots[0]!.release({ kind: 'done', elapsedMs: 10 })
    slots[0]!.release({ kind: 'done', elapsedMs: 10 }) // twice is harmless
    assert.equal(placement.inFlight.running(peerOf(slots[0]!)), 0)
  })

  it('counts an unanswered reservation as unreachable and moves on', async () => {
    const views = [view('a', { speed: 4 }), view('b')]
    const answers: string[] = []
    const { clock, builders, placement } = setup(
      views,
      { a: 1, b: 1 },
      { reserveTimeoutMs: 100, onReserve: (a) => answers.push(a) },
    )
    builders.silent.add('a')
    const slot = await settle(clock, placement.acquire(JOB))
    assert.equal(peerOf(slot), 'b')
    assert.deepEqual(builders.asked, ['a', 'b'])
    assert.equal(placement.counters.reserveErrors, 1)
    assert.deepEqual(answers, ['failed', 'granted'])
    assert.ok(placement.failures.penalty('a') > 0.99)
    assert.ok(clock.now() >= 100)
  })

  it('learns from released slots: speed on success, a penalty on failure', async () => {
    const { clock, placement } = setup([view('a')], { a: 5 })
    for (let i = 0; i < 5; i++) {
      const s = await settle(clock, placement.acquire({ ...JOB, estimateMs: 1_000 }))
      assert.equal(peerOf(s), 'a')
      s.release({ kind: 'done', elapsedMs: 4_000 })
    }
    const a = placement.speeds.relative('a', 'tc1', 1)
    assert.ok(Math.abs(a - 0.25) < 0.01, `a learned ${a}`)

    const b = setup([view('b')], { b: 5 }, { localSlots: 1 })
    for (let i = 0; i < 3; i++) {
      b.placement.local.tryAcquire() // keep the local slot busy so that b is asked
      const s = await settle(b.clock, b.placement.acquire(JOB))
      assert.equal(peerOf(s), 'b')
      s.release({ kind: 'failed', failure: 'cut-off' })
      b.placement.local.release()
    }
    assert.equal(b.placement.failures.isOpen('b'), true)
    assert.deepEqual(b.placement.candidates(JOB), [])
    // With the only member's breaker open, the job stays here.
    const s = await settle(b.clock, b.placement.acquire(JOB))
    assert.equal(s.kind, 'local')
  })

  it('mode local never asks members; mode remote never takes a local slot while members exist', async () => {
    const local = setup([view('a')], { a: 1 }, { mode: 'local', localSlots: 1 })
    const s1 = await settle(local.clock, local.placement.acquire(JOB))
    assert.equal(s1.kind, 'local')
    assert.deepEqual(local.builders.asked, [])

    const remote = setup([view('a')], { a: 1 }, { mode: 'remote', localSlots: 4 })
    const s2 = await settle(remote.clock, remote.placement.acquire(JOB))
    assert.equal(peerOf(s2), 'a')
    // Nobody can take it: compiled here rather than waiting forever.
    const nobody = setup([view('a', { platform: 'darwin' })], {}, { mode: 'remote', localSlots: 1 })
    const s3 = await settle(nobody.clock, nobody.placement.acquire(JOB))
    assert.equal(s3.kind, 'local')
  })

  it('mode remote compiles here once every member that could take the job is gone', async () => {
    const { clock, placement, setMembers } = setup(
      [view('a')],
      { a: 0 },
      {
        mode: 'remote',
        localSlots: 1,
      },
    )
    let slot: Slot | undefined
    placement.acquire(JOB).then((s) => {
      slot = s
    })
    await clock.advance(50)
    assert.equal(slot, undefined, 'waits for the member while it is there')
    setMembers([])
    await clock.advance(1)
    assert.equal((slot as Slot | undefined)?.kind, 'local')
  })

  it('an aborted wait rejects with the reason and leaves the queue', async () => {
    const { clock, placement } = setup([view('a')], { a: 0 })
    const ctl = new AbortController()
    const p = placement.acquire(JOB, { signal: ctl.signal })
    await clock.advance(10)
    assert.equal(placement.waiting, 1)
    ctl.abort(new Error('build interrupted'))
    await assert.rejects(p, /build interrupted/)
    assert.equal(placement.waiting, 0)
    placement.close()
  })

  it('hands a fresh grant to a longer waiting job (late binding)', async () => {
    const views = [view('a', { speed: 2 }), view('d', { speed: 1.8 }), view('b'), view('c')]
    const { clock, builders, placement } = setup(
      views,
      { a: 0, b: 0, c: 0, d: 1 },
      { maxAttempts: 1 },
    )
    builders.latency.set('d', 5)
    const long = placement.acquire({ ...JOB, estimateMs: 60_000 })
    const short = placement.acquire(
      { ...JOB, estimateMs: 100 },
      { exclude: new Set(['a', 'b', 'c']) },
    )
    let shortDone = false
    short.then(
      () => {
        shortDone = true
      },
      () => {},
    )
    await clock.advance(10)
    assert.equal(peerOf(await long), 'd')
    assert.equal(shortDone, false)
    assert.equal(placement.waiting, 1)
    placement.close(new Error('done'))
    await assert.rejects(short, /done/)
  })

  it('disposes of a lease when its slot is released, used or not, once', async () => {
    let disposed = 0
    const lease = {
      dispose() {
        disposed++
      },
    }
    const { clock, placement } = setup(
      [view('a')],
      { a: 8 },
      {
        reserve: async () => ({ granted: true, lease }),
      },
    )
    const slot = await settle(clock, placement.acquire(JOB))
    assert.equal(slot.kind, 'remote')
    assert.equal(slot.kind === 'remote' && slot.lease, lease)
    assert.equal(disposed, 0, 'held while the slot is')
    slot.release({ kind: 'unused' })
    slot.release({ kind: 'unused' })
    assert.equal(disposed, 1)
    const second = await settle(clock, placement.acquire(JOB))
    second.release({ kind: 'done', elapsedMs: 5 })
    assert.equal(disposed, 2)
  })
})
