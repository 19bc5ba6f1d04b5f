/**
 * Candidate pickers: the order in which a client asks members for a slot.
 *
 * The default is power-of-d choices (Mitzenmacher, "How useful is old information?", 2000): draw
 * `d` members at random, weighted by their share of the free capacity, and ask the best of those
 * first, then the others, then draw again. With adverts that are seconds old, sending everyone to
 * the apparently least-loaded member (argmax over the shared view) makes all clients herd onto the
 * same few builders; a small random sample breaks the tie between clients while still favouring
 * free, fast members. A small exploration share replaces one draw by a uniform pick, so members
 * rated low are measured again.
 */
import type { ScoredCandidate } from './candidates.ts'
import type { Random } from './types.ts'

export interface CandidatePicker {
  readonly name: string
  /**
   * Up to `max` distinct candidates, in the order to try them. `explore: false` for jobs too
   * long to risk on a member picked only to measure it.
   */
  pick(
    candidates: readonly ScoredCandidate[],
    max: number,
    random: Random,
    options?: { explore?: boolean },
  ): ScoredCandidate[]
}

export interface PowerOfDOptions {
  /** Members drawn per round. Default 2. */
  d?: number
  /** Probability that one draw of a round is uniform rather than weighted. Default 0.05. */
  exploration?: number
}

export function powerOfD(options: PowerOfDOptions = {}): CandidatePicker {
  const d = Math.max(1, options.d ?? 2)
  const exploration = options.exploration ?? 0.05
  return {
    name: `power-of-${d}`,
    pick(candidates, max, random, options = {}) {
      const explore = options.explore === false ? 0 : exploration
      const pool = [...candidates]
      const out: ScoredCandidate[] = []
      while (out.length < max && pool.length > 0) {
        const round = weightedSample(pool, Math.min(d, max - out.length), random)
        if (round.length > 0 && random() < explore) {
          const rest = pool.filter((c) => !round.includes(c) && c.headroom > 0)
          const alt = rest[Math.floor(random() * rest.length)]
          if (alt !== undefined) round[round.length - 1] = alt
        }
        round.sort((a, b) => b.score - a.score)
        for (const c of round) {
          out.push(c)
          pool.splice(pool.indexOf(c), 1)
        }
      }
      return out
    },
  }
}

/**
 * `k` distinct items drawn with probability proportional to weight, without replacement
 * (Efraimidis–Spirakis: keep the `k` largest `u^(1/w)`). Items of weight 0 are never drawn.
 */
export function weightedSample<T extends { weight: number }>(
  items: readonly T[],
  k: number,
  random: Random,
): T[] {
  const keyed: { item: T; key: number }[] = []
  for (const item of items) {
    if (!(item.weight > 0)) continue
    // log(u)/w orders like u^(1/w) and keeps precision for small weights.
    keyed.push({ item, key: Math.log(random() || Number.MIN_VALUE) / item.weight })
  }
  keyed.sort((a, b) => b.key - a.key)
  return keyed.slice(0, k).map((x) => x.item)
}
