/**
 * Hedging stragglers: near the end of a build, when this client has no job waiting and a much
 * faster member is free, a job still running on a slow slot (local or remote) is started a second
 * time there; the first compiler verdict wins and the other attempt is aborted. This is what makes
 * a build's tail follow the fast members instead of the slowest slot that happened to be free.
 *
 * Without an estimate, or once a job has outrun it, its total length is guessed as twice what it
 * has run so far (the expected remaining time of a heavy-tailed job grows with its age), so such
 * jobs are only hedged onto members more than twice as fast.
 */
import type { Placement } from './placement.ts'
import type { PlacementJob, Slot } from './types.ts'

export interface HedgeOptions {
  /** How often a running job is looked at. Default 500 ms. */
  checkMs?: number
  /** The hedge must be expected to finish this many times sooner. Default 1.25. */
  margin?: number
}

export interface HedgeInputs {
  /** Jobs of this client waiting for a slot: with any, capacity is better spent on them. */
  waiting: number
  elapsedMs: number
  /** Predicted local run time, if known. */
  estimateMs?: number
  /** Typical local job length. */
  typicalMs: number
  /** Speed of the running attempt's slot relative to this machine (1 for local). */
  primarySpeed: number
  margin: number
}

/**
 * The relative speed a free member needs for a hedge to pay off now, or undefined when no hedge
 * should start (jobs waiting, job still young, or no gain possible).
 */
export function hedgeSpeedNeeded(h: HedgeInputs): number | undefined {
  if (h.waiting > 0) return undefined
  // Past its estimate (or without one), a job is guessed to be half way through.
  const e = h.estimateMs
  const onTrack = e !== undefined && e / h.primarySpeed > h.elapsedMs
  // Without a usable estimate, a young job tells nothing yet.
  if (!onTrack && h.elapsedMs < h.typicalMs / h.primarySpeed) return undefined
  const work = onTrack ? e : 2 * h.elapsedMs * h.primarySpeed
  const remaining = work / h.primarySpeed - h.elapsedMs
  if (remaining <= 0) return undefined
  return (work * h.margin) / remaining
}

/** Where the running attempt is: its member (undefined for local). */
export interface Primary {
  peer: string | undefined
  startedAt: number
}

/**
 * Watches a running attempt until `done()` and returns a slot on a fast member once a hedge pays
 * off, or undefined (attempt over, aborted, or never worth it).
 */
export async function watchForHedge(
  placement: Placement,
  job: PlacementJob,
  primary: Primary,
  options: {
    hedge: HedgeOptions
    exclude: ReadonlySet<string>
    done: () => boolean
    signal: AbortSignal
  },
): Promise<Slot | undefined> {
  const clock = placement.clock
  const primarySpeed = primary.peer === undefined ? 1 : placement.speedOf(primary.peer, job)
  const exclude = new Set(options.exclude)
  if (primary.peer !== undefined) exclude.add(primary.peer)
  while (!options.done()) {
    await clock.sleep(options.hedge.checkMs ?? 500, { signal: options.signal })
    if (options.done()) return undefined
    const inputs: HedgeInputs = {
      waiting: placement.waiting,
      elapsedMs: clock.now() - primary.startedAt,
      typicalMs: placement.speeds.localMs(job.toolchain) ?? 1_000,
      primarySpeed,
      margin: options.hedge.margin ?? 1.25,
    }
    if (job.estimateMs !== undefined) inputs.estimateMs = job.estimateMs
    const minSpeed = hedgeSpeedNeeded(inputs)
    if (minSpeed === undefined) continue
    const free = placement
      .candidates(job, exclude)
      .some((c) => c.headroom > 0 && c.speed >= minSpeed)
    if (!free) continue
    const slot = await placement.tryRemote(job, { signal: options.signal, exclude, minSpeed })
    if (slot === undefined) continue
    if (options.done()) {
      slot.release({ kind: 'unused' })
      return undefined
    }
    return slot
  }
  return undefined
}
