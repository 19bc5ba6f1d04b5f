/**
 * The placement in the farm simulation (bench/scheduling/): under stale adverts, power-of-two
 * choices beats every client sending to the member that looked emptiest (herding).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { leastLoadedPicker } from '../../../bench/scheduling/baselines.ts'
import { simulate } from '../../../bench/scheduling/simulator.ts'
import { idealBound, makeWorkload } from '../../../bench/scheduling/workload.ts'

// Sixteen members, eight clients, short jobs of similar length: placement quality, not the tail,
// decides the makespan. Adverts are 2 s apart and take 0.2–1.5 s to arrive.
const farm = (seed: number) =>
  makeWorkload({ seed, members: 16, clients: 8, jobs: 600, sigma: 0.3 })
const stale = { gossipDelayMs: [200, 1_500] as const }

describe('scheduling simulation', () => {
  it('power-of-two beats least-loaded-from-stale-adverts (herding)', async () => {
    for (const seed of [1, 2]) {
      const w = farm(seed)
      const p2 = await simulate(w, { ...stale, seed })
      const herd = await simulate(w, { ...stale, seed, picker: leastLoadedPicker })
      assert.equal(p2.picker, 'power-of-2')
      assert.equal(herd.picker, 'least-loaded')
      // The BUSY back-off (a member that refused is not asked again for a moment) works for
      // every picker and takes away much of herding's cost; power-of-2 still does better.
      assert.ok(
        p2.makespanMs < 0.95 * herd.makespanMs,
        `seed ${seed}: power-of-2 ${p2.makespanMs} ms vs least-loaded ${herd.makespanMs} ms`,
      )
      assert.ok(p2.busy < 3 * 600, `busy answers per job ${p2.busy / 600}`)
    }
  })

  it('is deterministic and never beats the ideal bound', async () => {
    const w = farm(3)
    const a = await simulate(w, { seed: 3 })
    const b = await simulate(w, { seed: 3 })
    assert.equal(a.makespanMs, b.makespanMs)
    assert.equal(a.local + a.remote, 600)
    const bound = idealBound(w)
    assert.ok(a.makespanMs >= bound.boundMs, `${a.makespanMs} < bound ${bound.boundMs}`)
    assert.ok(a.utilisation > 0 && a.utilisation <= 1)
  })
})
