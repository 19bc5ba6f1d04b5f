import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ScoredCandidate } from '../../../src/scheduler/candidates.ts'
import { bestSpeed, fastEnough, isLong, patient } from '../../../src/scheduler/long-jobs.ts'
import { JOB, view } from './fixtures.ts'

const c = (peerId: string, speed: number): ScoredCandidate => ({
  view: view(peerId),
  speed,
  headroom: 1,
  room: 1,
  weight: 1,
  score: 1,
})
const all = [c('fast', 2), c('near', 1.8), c('mid', 1.2), c('slow', 0.5)]
const long = { ...JOB, estimateMs: 20_000 }

describe('long jobs', () => {
  it('are the ones estimated at least longJobMs', () => {
    assert.equal(isLong(long, 5_000), true)
    assert.equal(isLong({ ...JOB, estimateMs: 4_999 }, 5_000), false)
    assert.equal(isLong(JOB, 5_000), false)
    assert.equal(bestSpeed(all), 2)
    assert.equal(bestSpeed([]), 0)
  })

  it('go only to members nearly as fast as the fastest, less picky as they wait', () => {
    const names = (xs: ScoredCandidate[]) => xs.map((x) => x.view.peerId)
    assert.deepEqual(names(fastEnough(long, all, 5_000, 0)), ['fast', 'near'])
    // After waiting 5 s of a 20 s job: 60 % of the fastest.
    assert.deepEqual(names(fastEnough(long, all, 5_000, 5_000)), ['fast', 'near', 'mid'])
    // Never below 50 %.
    assert.deepEqual(names(fastEnough(long, all, 5_000, 60_000)), ['fast', 'near', 'mid'])
    assert.equal(fastEnough({ ...JOB, estimateMs: 100 }, all, 5_000, 0).length, 4)
  })

  it('hold jobs of several typical lengths to a speed floor that grows with their length', () => {
    const names = (xs: ScoredCandidate[]) => xs.map((x) => x.view.peerId)
    const job = (estimateMs: number) => ({ ...JOB, estimateMs })
    // Typical job 1 s; up to twice that, anywhere.
    assert.equal(fastEnough(job(2_000), all, 5_000, 0, 1_000).length, 4)
    // Four typical jobs: at least 30 % of the fastest (0.6): the 0.5 member is out.
    assert.deepEqual(names(fastEnough(job(4_000), all, 5_000, 0, 1_000)), ['fast', 'near', 'mid'])
    // Eight would be 60 % (1.2), but eight typical jobs here is already long (5 s).
    assert.deepEqual(names(fastEnough(job(4_900), all, 2_500, 0, 600)), ['fast', 'near'])
    // Waiting relaxes the floor to 60 % of itself (0.18 of the fastest: 0.36).
    assert.equal(fastEnough(job(4_000), all, 5_000, 4_000, 1_000).length, 4)
    // Without a typical length, only long jobs are filtered (as before).
    assert.equal(fastEnough(job(4_000), all, 5_000, 0).length, 4)
  })

  it('pass a slow local slot by for a while when a member is clearly faster', () => {
    // 20 s here, 10 s on a member twice as fast: worth waiting up to 5 s.
    assert.equal(patient(long, 2, 1.2, 4_000), true)
    assert.equal(patient(long, 2, 1.2, 6_000), false)
    assert.equal(patient(long, 1.1, 1.2, 0), false, 'not clearly faster')
    assert.equal(patient(JOB, 2, 1.2, 0), false, 'no estimate')
  })
})
