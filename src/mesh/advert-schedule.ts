/**
 * When adverts are published and how long a received one lives: the period and lifetime rules
 * of the `Adverts` service (`adverts.ts`), kept apart as pure functions so they can be read and
 * tuned without the gossip plumbing.
 *
 * Period: `intervalMs` (5 s) in a small mesh; in a larger one it grows so that a member receives
 * at most `maxAdvertRate` (5) adverts per second from the whole mesh (N members → N / rate
 * seconds: 5 s up to 25 members, 10 s at 50, 20 s at 100), up to `maxIntervalMs` (30 s). Each
 * period is jittered by ±10 %, so members that started together do not publish in lockstep.
 *
 * Expiry: each advert states its own lifetime (`ttl`, three of the sender's periods plus the
 * jitter), so a receiver expires it on the sender's promise, not on its own period; the lifetime
 * is capped at {@link MAX_ADVERT_TTL_MS} whatever the sender claims, and measured from arrival
 * (a lagging sender clock does not matter). Adverts of older senders without `ttl` live three of
 * this node's base periods.
 *
 * Changes: free slots move with every job, so publishing each change would make every busy member
 * flood the mesh once per job (and every receiver verify, decode and store it). A change is
 * published after a gap since the last publication that grows with the period, so the mesh-wide
 * rate stays bounded like the periodic one: half a period for a change of counts only (free slots
 * between 1 and n, load, queue, speed), a fifth of a period for a change that decides whether
 * clients should send here at all (full ↔ free, cores, toolchains, platform). Placement copes
 * with counts that lag: a builder that is full answers BUSY at once, and reservations count.
 */
import type { AdvertFields } from './types.ts'

/** Longest lifetime a received advert is given, whatever its `ttl` says. */
export const MAX_ADVERT_TTL_MS = 120_000
/** Jitter of each period: ±10 %. */
export const ADVERT_JITTER = 0.1

/**
 * The publish period for a mesh of `members` (this node included): the base interval, or longer
 * so that each member receives at most `maxAdvertRate` adverts per second, up to `maxIntervalMs`
 * (never below the base interval).
 */
export function advertPeriodMs(
  members: number,
  intervalMs: number,
  maxAdvertRate = 5,
  maxIntervalMs = 30_000,
): number {
  const byRate = (members / maxAdvertRate) * 1000
  const max = Math.max(maxIntervalMs, intervalMs)
  return Math.round(Math.min(max, Math.max(intervalMs, byRate)))
}

/** The lifetime a sender promises for its adverts: three periods, jitter included. */
export function advertExpiryMs(periodMs: number): number {
  return Math.round(3 * periodMs * (1 + ADVERT_JITTER))
}

/** One jittered period (±10 %); `random` is a number in [0, 1). */
export function jitteredDelayMs(periodMs: number, random: number): number {
  return periodMs * (1 - ADVERT_JITTER + 2 * ADVERT_JITTER * random)
}

/**
 * When an advert received at `now` expires: after the sender's `ttl`, or three of this node's
 * base periods (`intervalMs`) when the sender states none, capped at {@link MAX_ADVERT_TTL_MS}.
 */
export function receivedExpiresAt(
  now: number,
  ttl: number | undefined,
  intervalMs: number,
): number {
  return now + Math.min(ttl ?? 3 * intervalMs, MAX_ADVERT_TTL_MS)
}

/** How a member's advert fields moved: not at all, in counts only, or for placement. */
export type AdvertChange = 'none' | 'counts' | 'placement'

/**
 * Compares the fields last published (`prev`) with the current ones: `placement` when it matters
 * whether clients send jobs here at all (nothing published yet, host, platform, arch or cores
 * changed, the toolchain set changed, free slots went from none to some or back), `counts` when
 * only free slots, load, queue or speed moved, else `none`.
 */
export function advertChange(prev: AdvertFields | undefined, next: AdvertFields): AdvertChange {
  if (prev === undefined) return 'placement'
  if (
    prev.cores !== next.cores ||
    prev.freeSlots > 0 !== next.freeSlots > 0 ||
    prev.platform !== next.platform ||
    prev.arch !== next.arch ||
    prev.host !== next.host ||
    !sameSet(prev.toolchains, next.toolchains)
  ) {
    return 'placement'
  }
  return prev.freeSlots !== next.freeSlots ||
    prev.load !== next.load ||
    prev.queuedJobs !== next.queuedJobs ||
    prev.speed !== next.speed
    ? 'counts'
    : 'none'
}

/** Least time between the last publication and one triggered by a change of that kind. */
export function changeGapMs(periodMs: number, change: Exclude<AdvertChange, 'none'>): number {
  return Math.round(change === 'placement' ? periodMs / 5 : periodMs / 2)
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  if (a.every((x, i) => x === b[i])) return true
  const s = new Set(a)
  return b.every((x) => s.has(x))
}
