import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { roundSpeed, SpeedEstimator } from '../../../src/daemon/speed-estimator.ts'

const REF = 1000 // bytes per CPU-ms that read as speed 1 in these tests

/** A sample at `speed` times the reference, taking `ms` of CPU. */
const at = (speed: number, ms = 100) => ({ bytes: speed * REF * ms, cpuMs: ms })

describe('SpeedEstimator', () => {
  it('advertises 1 until measured, then the seed at once', () => {
    const e = new SpeedEstimator({ referenceBytesPerMs: REF })
    assert.equal(e.advertised(), 1)
    assert.equal(e.value(), undefined)
    assert.equal(e.seed(at(2.5)), true)
    assert.equal(e.advertised(), 2.5)
    assert.equal(e.samples(), 0)
  })

  it('takes a first measurement close to the placeholder without republishing', () => {
    const e = new SpeedEstimator({ referenceBytesPerMs: REF })
    assert.equal(e.seed(at(1.04)), false) // rounds to the figure already advertised
    assert.equal(e.advertised(), 1)
    // …and counts as measured: the next small move does not republish.
    assert.equal(e.observe(at(1.1)), false)
  })

  it('converges to the observed rate with the configured half-life', () => {
    const e = new SpeedEstimator({ referenceBytesPerMs: REF, halfLife: 5, maxStep: 100 })
    e.seed(at(1))
    // After one half-life the log-distance to the new rate has halved: sqrt(4) = 2.
    for (let i = 0; i < 5; i++) e.observe(at(4))
    assert.ok(Math.abs((e.value() ?? 0) - 2) < 1e-9, `value ${e.value()}`)
    for (let i = 0; i < 100; i++) e.observe(at(4))
    assert.ok(Math.abs((e.value() ?? 0) - 4) < 0.01)
    // The published figure follows within the 10 % that does not republish.
    assert.ok(Math.abs(e.advertised() / 4 - 1) <= 0.1, `advertised ${e.advertised()}`)
  })

  it('lets one outlier move the estimate only a little', () => {
    const e = new SpeedEstimator({ referenceBytesPerMs: REF, halfLife: 20 })
    for (let i = 0; i < 50; i++) e.observe(at(2))
    const before = e.value() ?? 0
    e.observe(at(200)) // a giant generated file, say
    e.observe(at(0.002)) // a compile that stalled on I/O
    const after = e.value() ?? 0
    assert.ok(Math.abs(after / before - 1) < 0.05, `${before} -> ${after}`)
    assert.equal(e.advertised(), 2)
  })

  it('ignores compiles too short to time and nonsense samples', () => {
    const e = new SpeedEstimator({ referenceBytesPerMs: REF, minCpuMs: 20 })
    assert.equal(e.observe({ bytes: 1e9, cpuMs: 5 }), false)
    assert.equal(e.observe({ bytes: 0, cpuMs: 100 }), false)
    assert.equal(e.observe({ bytes: Number.NaN, cpuMs: 100 }), false)
    assert.equal(e.samples(), 0)
    assert.equal(e.value(), undefined)
  })

  it('republishes only when the estimate moved by more than 10 %', () => {
    const e = new SpeedEstimator({ referenceBytesPerMs: REF, halfLife: 1, maxStep: 100 })
    e.seed(at(2))
    assert.equal(e.observe(at(2.1)), false) // half-way: 2.05
    assert.equal(e.advertised(), 2)
    let moves = 0
    for (let i = 0; i < 20; i++) if (e.observe(at(3))) moves++
    assert.ok(moves >= 1 && moves <= 4, `moves ${moves}`)
    assert.ok(e.advertised() > 2.7 && e.advertised() <= 3)
  })

  it('treats a seed after real samples as one sample, not a reset', () => {
    const e = new SpeedEstimator({ referenceBytesPerMs: REF, halfLife: 20 })
    for (let i = 0; i < 30; i++) e.observe(at(3))
    e.seed(at(0.5))
    assert.ok((e.value() ?? 0) > 2.5, `value ${e.value()}`)
  })
})

describe('roundSpeed', () => {
  it('keeps two significant digits', () => {
    assert.equal(roundSpeed(1.2345), 1.2)
    assert.equal(roundSpeed(0.04567), 0.046)
    assert.equal(roundSpeed(12.6), 13)
    assert.equal(roundSpeed(0), 0.01)
  })
})
