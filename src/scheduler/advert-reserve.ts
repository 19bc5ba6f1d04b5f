/**
 * Reservations without a round trip: the client grants itself a slot on a member when what it
 * knows of that member (the latest advert, corrected by its own jobs since, and by the slots
 * that have probably turned over since: {@link ./candidates.ts}) shows one free. Nothing is asked
 * over the network; a builder that is full after all answers BUSY when the job arrives, and the
 * job goes to another member at once ({@link ./retry-policy.ts}). The job itself is the probe:
 * one request per job, no extra round trip, and a freed slot is used long before the next
 * advert shows it. This is how the daemon reserves, and what the scheduling simulation runs by
 * default.
 */
import type { Placement } from './placement.ts'
import type { ReserveFn } from './types.ts'

/** A `ReserveFn` for `placement`, read at call time (the placement needs the function first). */
export function advertReserve(placement: () => Placement | undefined): ReserveFn {
  return async (peer, request) => {
    const p = placement()
    // The claim being decided is already counted by the placement: room ≥ 0 means one was free.
    return p?.hasRoom(peer, request.toolchain) === true
      ? { granted: true }
      : { granted: false, reason: 'no-room' }
  }
}
