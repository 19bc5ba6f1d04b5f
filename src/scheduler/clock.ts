/**
 * The real clock for placement: monotonic milliseconds (`performance.now()`, immune to wall-clock
 * jumps, which would otherwise make decayed penalties jump too) and abortable timers.
 */
import { setTimeout as delay } from 'node:timers/promises'
import type { Clock } from './types.ts'

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: async (ms, options = {}) => {
    // Placement timers must never keep the daemon alive on their own.
    await delay(Math.max(0, ms), undefined, { ref: false, ...options })
  },
}
