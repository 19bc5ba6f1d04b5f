/**
 * Seeded pseudo-random numbers (mulberry32) for tests and the scheduling simulation, so that a
 * run can be repeated exactly. Placement uses `Math.random` unless given one of these.
 */
import type { Random } from './types.ts'

export function seededRandom(seed: number): Random {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
