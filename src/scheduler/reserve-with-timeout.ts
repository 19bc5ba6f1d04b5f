/**
 * One reservation request with a deadline on the injected clock: a builder that does not answer
 * in time counts as unreachable, and the caller's signal (or the placement closing) ends the wait
 * at once even if the transport ignores its signal.
 */
import type { Clock, PlacementJob, ReserveFn, ReserveReply } from './types.ts'

export async function reserveWithTimeout(
  reserve: ReserveFn,
  clock: Clock,
  peer: string,
  job: PlacementJob,
  options: { timeoutMs: number; signals: readonly AbortSignal[] },
): Promise<ReserveReply> {
  const expired = new AbortController()
  const any = AbortSignal.any([expired.signal, ...options.signals])
  const stopTimer = new AbortController()
  const timer = clock
    .sleep(options.timeoutMs, { signal: AbortSignal.any([stopTimer.signal, any]) })
    .then(() => expired.abort(new Error(`reservation on ${peer} timed out`)))
    .catch(() => {})
  const request =
    job.estimateMs === undefined
      ? { toolchain: job.toolchain }
      : { toolchain: job.toolchain, estimateMs: job.estimateMs }
  try {
    return await Promise.race([
      reserve(peer, request, { signal: any }),
      new Promise<never>((_, reject) => {
        if (any.aborted) reject(any.reason)
        any.addEventListener('abort', () => reject(any.reason), { once: true })
      }),
    ])
  } finally {
    stopTimer.abort()
    await timer
  }
}
