import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { advertReserve } from '../../../src/scheduler/advert-reserve.ts'
import { Placement } from '../../../src/scheduler/placement.ts'
import { seededRandom } from '../../../src/scheduler/random.ts'
import { VirtualClock } from '../../../src/scheduler/virtual-clock.ts'
import { JOB, view } from './fixtures.ts'

function setup(freeSlots: number, cores = 4) {
  const clock = new VirtualClock()
  let placement: Placement | undefined
  const members = [view('a', { cores, freeSlots, advertAt: 0 })]
  placement = new Placement({
    clock,
    reserve: advertReserve(() => placement),
    members: () => members,
    localSlots: 0,
    mode: 'remote',
    random: seededRandom(1),
  })
  return { clock, placement }
}

describe('advertReserve', () => {
  it('grants exactly the free slots the advert showed, less our own jobs', async () => {
    const { placement } = setup(2)
    const a = await placement.tryRemote(JOB)
    const b = await placement.tryRemote(JOB)
    const c = await placement.tryRemote(JOB)
    assert.equal(a?.kind, 'remote')
    assert.equal(b?.kind, 'remote')
    assert.equal(c, undefined, 'a third job would only earn a BUSY answer')
    a!.release({ kind: 'done', elapsedMs: 1_000 })
    const d = await placement.tryRemote(JOB)
    assert.equal(d?.kind, 'remote', 'the slot we freed is ours again')
  })

  it('counts on slots of a full member turning over as time passes', async () => {
    const { clock, placement } = setup(0, 4)
    assert.equal(await placement.tryRemote(JOB), undefined)
    assert.equal(placement.counters.heldBack, 1, 'refused by our own accounting, nothing asked')
    assert.equal(placement.counters.busy, 0)
    // Four busy slots, typical job 1 s, half the turnover ours: one slot after 500 ms.
    await clock.advance(600)
    assert.equal((await placement.tryRemote(JOB))?.kind, 'remote')
  })

  it('never counts more of its own jobs on a member than it has cores', async () => {
    const clock = new VirtualClock()
    let placement: Placement | undefined
    let members = [view('a', { cores: 4, freeSlots: 4, advertAt: 0 })]
    placement = new Placement({
      clock,
      reserve: advertReserve(() => placement),
      members: () => members,
      localSlots: 0,
      mode: 'remote',
      random: seededRandom(1),
    })
    for (let i = 0; i < 4; i++) assert.equal((await placement.tryRemote(JOB))?.kind, 'remote')
    await clock.advance(10)
    // An advert published before our four jobs got there, received after we sent them.
    members = [view('a', { cores: 4, freeSlots: 4, advertAt: clock.now() })]
    assert.equal(await placement.tryRemote(JOB), undefined)
  })

  it('grants nothing during a BUSY back-off', async () => {
    const { clock, placement } = setup(4)
    const s = await placement.tryRemote(JOB)
    s!.release({ kind: 'busy' })
    assert.equal(await placement.tryRemote(JOB), undefined)
    await clock.advance(1_000)
    assert.equal((await placement.tryRemote(JOB))?.kind, 'remote')
  })
})
