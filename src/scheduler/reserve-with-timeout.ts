/**
 * One reservation request with a deadline on the injected clock: a builder that does not answer
 * in time counts as unreachable, and the caller's signal (or the placement closing) ends the wait
 * at once even if the transport ignores its signal.
 */
import type { Clock, PlacementJob, ReserveFn, ReserveReply } from './types.ts'

/** Reason used to stop the timer; a constant, so that no exception object is built per call. */
const DONE = Symbol('done')

export async function reserveWithTimeout(
  reserve: ReserveFn,
  clock: Clock,
  peer: string,
  job: PlacementJob,
  options: { timeoutMs: number; signals: readonly AbortSignal[] },
): Promise<ReserveReply> {
  // One controller for the request, aborted by the deadline or any of the caller's signals.
  const ctl = new AbortController()
  const forward = (e: Event) => ctl.abort((e.target as AbortSignal).reason)
  for (const s of options.signals) {
    if (s.aborted) ctl.abort(s.reason)
    else s.addEventListener('abort', forward, { once: true })
  }
  const stop = new AbortController()
  const timer = clock
    .sleep(options.timeoutMs, { signal: stop.signal })
    .then(() => ctl.abort(new Error(`reservation on ${peer} timed out`)))
    .catch(() => {})
  const request: Parameters<ReserveFn>[1] = { toolchain: job.toolchain }
  if (job.estimateMs !== undefined) request.estimateMs = job.estimateMs
  if (job.ahead !== undefined) request.ahead = job.ahead
  try {
    return await Promise.race([
      reserve(peer, request, { signal: ctl.signal }),
      new Promise<never>((_, reject) => {
        if (ctl.signal.aborted) reject(ctl.signal.reason)
        ctl.signal.addEventListener('abort', () => reject(ctl.signal.reason), { once: true })
      }),
    ])
  } finally {
    for (const s of options.signals) s.removeEventListener('abort', forward)
    stop.abort(DONE)
    await timer
  }
}
