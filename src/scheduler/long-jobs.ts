/**
 * Rules for long jobs, the ones that make or break a build's tail. On machines of unequal speed
 * the classic rule holds: long jobs belong on fast machines and short jobs fill the slow ones, so
 * a long job waits a little for a fast member rather than take a slow slot that would finish it
 * later. A job is long when its estimate is at least `longJobMs`.
 */
import type { ScoredCandidate } from './candidates.ts'
import type { PlacementJob } from './types.ts'

export function isLong(job: PlacementJob, longJobMs: number): boolean {
  return job.estimateMs !== undefined && job.estimateMs >= longJobMs
}

/** Relative speed of the fastest candidate (0 when there is none). */
export function bestSpeed(candidates: readonly ScoredCandidate[]): number {
  let best = 0
  for (const c of candidates) best = Math.max(best, c.speed)
  return best
}

/**
 * The candidates fast enough for the job (speed matching). A long job only goes to members at
 * least 85 % as fast as the fastest eligible one, relaxing to 50 % as it waits (by the fraction of
 * its own length it has waited). A shorter job with an estimate of several typical jobs (given
 * `typicalMs`) is held to a lower floor that grows with its length: 30 % of the fastest at four
 * typical jobs, 60 % at eight (a job that would run three times longer on a slow member than
 * on a fast one is better off waiting a moment for the fast one), relaxing to 60 % of that
 * floor as it waits. Other jobs may go anywhere.
 */
export function fastEnough(
  job: PlacementJob,
  candidates: ScoredCandidate[],
  longJobMs: number,
  waitedMs: number,
  typicalMs?: number,
): ScoredCandidate[] {
  const e = job.estimateMs
  if (e === undefined) return candidates
  let ratio: number
  if (isLong(job, longJobMs)) {
    ratio = Math.max(0.5, 0.85 - waitedMs / e)
  } else {
    if (typicalMs === undefined) return candidates
    const floor = Math.min(0.85, 0.3 * (Math.log2(e / typicalMs) - 1))
    if (floor <= 0) return candidates
    ratio = Math.max(0.6 * floor, floor - waitedMs / e)
  }
  const best = bestSpeed(candidates)
  return candidates.filter((c) => c.speed >= best * ratio)
}

/**
 * Whether a long job waiting for a member `best` times as fast as this machine should pass a free
 * local slot by: yes while it has waited less than half the time a fast member would save it.
 */
export function patient(
  job: PlacementJob,
  best: number,
  fasterThanLocal: number,
  waitedMs: number,
): boolean {
  const e = job.estimateMs
  if (e === undefined || best < fasterThanLocal) return false
  return waitedMs < (e * (1 - 1 / best)) / 2
}
