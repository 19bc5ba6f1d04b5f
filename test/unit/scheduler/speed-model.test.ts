import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SpeedModel } from '../../../src/scheduler/speed-model.ts'
import { VirtualClock } from '../../../src/scheduler/virtual-clock.ts'

const close = (a: number, b: number, tol: number, what = '') =>
  assert.ok(Math.abs(a - b) <= tol, `${what} ${a} not within ${tol} of ${b}`)

describe('speed model', () => {
  it('uses the advertised prior until it has observations', () => {
    const m = new SpeedModel({ clock: new VirtualClock() })
    assert.equal(m.relative('a', 'tc', 1.5), 1.5)
    assert.equal(m.confidence('a', 'tc'), 0)
  })

  it('learns a builder that is slower than advertised, per toolchain', () => {
    const m = new SpeedModel({ clock: new VirtualClock() })
    // Jobs estimated at 1 s locally take 2 s there: half our speed, although it claims 2×.
    for (let i = 0; i < 10; i++) m.observeRemote('a', 'tc', 2_000, 1_000)
    close(m.relative('a', 'tc', 2), 0.5, 0.01, 'learned')
    assert.equal(m.relative('a', 'other', 2), 2)
    assert.equal(m.relative('b', 'tc', 2), 2)
  })

  it('falls back on the local average when jobs carry no estimate', () => {
    const m = new SpeedModel({ clock: new VirtualClock() })
    m.observeRemote('a', 'tc', 500) // no local baseline yet: ignored
    assert.equal(m.confidence('a', 'tc'), 0)
    for (const ms of [800, 1_250, 1_000]) m.observeLocal('tc', ms)
    close(m.localMs('tc')!, 1_000, 100, 'local baseline')
    for (let i = 0; i < 6; i++) m.observeRemote('a', 'tc', 400)
    close(m.relative('a', 'tc', 1), 2.5, 0.3, 'relative')
  })

  it('bounds the effect of one outlier', () => {
    const m = new SpeedModel({ clock: new VirtualClock(), alpha: 0.2 })
    for (let i = 0; i < 20; i++) m.observeRemote('a', 'tc', 1_000, 1_000)
    m.observeRemote('a', 'tc', 100_000, 1_000)
    const r = m.relative('a', 'tc', 1)
    assert.ok(r > 0.3 && r < 1, `one 100× slower job moved speed to ${r}`)
  })

  it('forgets with time, so a builder that was slow once recovers', async () => {
    const clock = new VirtualClock()
    const m = new SpeedModel({ clock, halfLifeMs: 60_000 })
    for (let i = 0; i < 5; i++) m.observeRemote('a', 'tc', 4_000, 1_000)
    close(m.relative('a', 'tc', 1), 0.25, 0.01)
    await clock.advance(300_000)
    const later = m.relative('a', 'tc', 1)
    assert.ok(later > 0.8, `after five half-lives: ${later}`)
    // The first fast job after the silence counts almost fully.
    m.observeRemote('a', 'tc', 1_000, 1_000)
    assert.ok(m.relative('a', 'tc', 1) > 0.6, `${m.relative('a', 'tc', 1)}`)
  })
})
