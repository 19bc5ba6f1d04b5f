/**
 * Which members may take a job (eligibility) and how attractive each one is (scoring).
 *
 * A candidate must be an admitted builder with a fresh advert, the toolchain's host platform and
 * architecture, an open breaker and at least one core. Its attractiveness combines the free slots
 * the advert showed (corrected by this client's own jobs since), the learned speed, the round trip
 * relative to the job's expected length, whether it already holds the toolchain, and its recent
 * failures. Nothing here picks a winner: {@link ./pickers.ts} samples from these figures.
 */
import type { Known } from './in-flight.ts'
import type { BuilderView, PlacementJob } from './types.ts'

export type Ineligible =
  | 'not-builder'
  | 'not-admitted'
  | 'stale'
  | 'platform'
  | 'no-cores'
  | 'breaker-open'
  | 'excluded'
  | 'version'

export interface ScoredCandidate {
  view: BuilderView
  /** Free slots the advert showed, corrected by own jobs started or finished since. */
  headroom: number
  /**
   * The same before clamping at zero and before a BUSY back-off: -1 once our claims have used
   * the last slot we count on (a reservation that counts its own claim grants while ≥ 0).
   */
  room: number
  /** Learned speed relative to this machine. */
  speed: number
  /** Sampling weight (proportional share: headroom × attractiveness). */
  weight: number
  /** Attractiveness of one job there if a slot is free (orders the sampled few). */
  score: number
}

export interface ScoringContext {
  now: number
  job: PlacementJob
  maxAdvertAgeMs: number
  exclude: ReadonlySet<string>
  isOpen(peer: string): boolean
  versionOk(version: string): boolean
  /** The advert's free slots corrected by what this client did and heard since. */
  known(peer: string, advertAt: number, freeSlots: number): Known
  /** The member answered BUSY a moment ago (after its advert): no headroom there for now. */
  backingOff(peer: string, advertAt: number): boolean
  /**
   * Share of the slots that turned over since the last first-hand figure that this client may
   * count on (the other clients want them too). Default 0.5.
   */
  turnoverShare: number
  /** Relative speed for the job's toolchain given the advertised prior. */
  speed(view: BuilderView): number
  failureFactor(peer: string): number
  /** Expected job length here, ms, for weighing round trips. */
  expectedMs: number
  /** Length of a typical job here, ms: longer jobs weigh speed more. */
  typicalMs: number
  /**
   * Many jobs of this client are waiting (the bulk of a build, not its tail): shorter than
   * typical jobs then leave the fast members to the long ones.
   */
  bulk?: boolean
  /**
   * Share of an advert's free slots this client counts on for jobs that are not long (the other
   * clients read the same advert): lowered by BUSY answers, raised by accepted jobs. Default 1.
   */
  share?: number
  /** The job is long: it counts on every free slot (the fast ones are kept for such jobs). */
  long?: boolean
  /** Weight of a builder that must first fetch the toolchain. Default 0.25. */
  missingToolchainFactor: number
}

export function ineligibility(view: BuilderView, ctx: ScoringContext): Ineligible | undefined {
  if (!view.builder) return 'not-builder'
  if (!view.admitted) return 'not-admitted'
  if (ctx.exclude.has(view.peerId)) return 'excluded'
  if (ctx.now - view.advertAt > ctx.maxAdvertAgeMs) return 'stale'
  if (view.platform !== ctx.job.platform || view.arch !== ctx.job.arch) return 'platform'
  if (!(view.cores >= 1)) return 'no-cores'
  if (!ctx.versionOk(view.version)) return 'version'
  if (ctx.isOpen(view.peerId)) return 'breaker-open'
  return undefined
}

/** A stale advert showing no free slot may be out of date: such members keep a small weight. */
const FULL_WEIGHT = 0.1

export function scoreCandidate(view: BuilderView, ctx: ScoringContext): ScoredCandidate {
  const k = ctx.known(view.peerId, view.advertAt, view.freeSlots - view.queuedJobs)
  const speed = ctx.speed(view)
  // Information ages: slots busy at the last first-hand figure finish their jobs at about one
  // typical job length each, so an old "full" turns into "probably some free" (else waiting
  // jobs would leave those slots idle until the next advert).
  const busy = Math.max(0, view.cores - Math.max(0, k.base))
  const turnLength = ctx.typicalMs / Math.max(speed, 1e-3)
  const turned = busy * Math.min(1, Math.max(0, ctx.now - k.at) / turnLength) * ctx.turnoverShare
  // Adverts arrive after a gossip delay: one published before our latest jobs got there may
  // still show their slots free. Never more of our own jobs than the member has cores.
  const share = ctx.long === true ? 1 : (ctx.share ?? 1)
  const counted = k.free - k.base + Math.floor(Math.max(0, k.base) * share + turned)
  const room = Math.min(view.cores - k.running, counted, view.cores)
  const headroom = ctx.backingOff(view.peerId, view.advertAt) ? 0 : Math.max(0, room)
  // Two round trips per job (reservation, then job and result) against the job's length.
  const rtt = view.rttMs ?? 1
  const rttFactor = ctx.expectedMs / (ctx.expectedMs + 2 * rtt)
  const tc = view.toolchains.includes(ctx.job.toolchain) ? 1 : ctx.missingToolchainFactor
  // A typical job spreads by free capacity; a long one (a build's tail) needs a fast member
  // more than an empty one, so speed counts more the longer the job: beyond four typical jobs,
  // each doubling of the length adds one power of the quality, up to eight.
  const gamma = 1 + Math.min(7, Math.max(0, Math.log2(ctx.expectedMs / ctx.typicalMs) - 2))
  // Speed matching (the rule for machines of unequal speed: long jobs on fast machines, short
  // ones fill the slow): in the bulk of a build, where a short job runs barely matters, but a
  // fast slot it takes is one a long job of some client may need. Such jobs weigh speed less,
  // down to the inverse of speed for jobs of half the typical length or less. Only with an
  // estimate: a job of unknown length may be the longest of the build.
  const speedPower =
    ctx.bulk === true && ctx.job.estimateMs !== undefined
      ? Math.min(gamma, Math.max(-1, Math.log2(ctx.expectedMs / ctx.typicalMs)))
      : gamma
  const quality = speed ** speedPower * (rttFactor * tc * ctx.failureFactor(view.peerId)) ** gamma
  // Chance that a slot is really free: one free slot in an old advert is a gamble.
  const freeChance = 1 - 0.9 * Math.exp(-headroom)
  return {
    view,
    headroom,
    room,
    speed,
    // Long jobs care whether a slot is free, not how many: headroom's weight fades as speed's grows.
    weight: (headroom > 0 ? headroom ** (1 / gamma) : FULL_WEIGHT) * quality,
    score: quality * freeChance,
  }
}

/** Eligible members, scored. */
export function candidates(views: readonly BuilderView[], ctx: ScoringContext): ScoredCandidate[] {
  const out: ScoredCandidate[] = []
  for (const v of views) if (ineligibility(v, ctx) === undefined) out.push(scoreCandidate(v, ctx))
  return out
}
