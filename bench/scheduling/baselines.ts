/**
 * Baseline pickers the simulation compares power-of-d against. They plug into the same
 * Placement (local first, reservations, busy → next, waiting), so only the choice differs.
 *
 * - `random`: uniform among eligible members, ignoring load and speed.
 * - `least-loaded`: the members with the most free slots in the (stale) view, best first —
 *   what every client computes from the same adverts, so they all herd onto the same members.
 * - `round-robin`: eligible members in turn, per client.
 */
import type { ScoredCandidate } from '../../src/scheduler/candidates.ts'
import type { CandidatePicker } from '../../src/scheduler/pickers.ts'

export function randomPicker(): CandidatePicker {
  return {
    name: 'random',
    pick(candidates, max, random) {
      const pool = [...candidates]
      const out: ScoredCandidate[] = []
      while (out.length < max && pool.length > 0) {
        out.push(pool.splice(Math.floor(random() * pool.length), 1)[0]!)
      }
      return out
    },
  }
}

export function leastLoadedPicker(): CandidatePicker {
  return {
    name: 'least-loaded',
    pick(candidates, max) {
      // The naive reading: the advert's own figure, as every client sees it.
      return [...candidates]
        .sort(
          (a, b) => b.view.freeSlots - a.view.freeSlots || (a.view.peerId < b.view.peerId ? -1 : 1),
        )
        .slice(0, max)
    },
  }
}

export function roundRobinPicker(): CandidatePicker {
  let next = 0
  return {
    name: 'round-robin',
    pick(candidates, max) {
      const sorted = [...candidates].sort((a, b) => (a.view.peerId < b.view.peerId ? -1 : 1))
      const out: ScoredCandidate[] = []
      for (let i = 0; i < Math.min(max, sorted.length); i++) {
        out.push(sorted[(next + i) % sorted.length]!)
      }
      next = (next + 1) % Math.max(1, sorted.length)
      return out
    },
  }
}
