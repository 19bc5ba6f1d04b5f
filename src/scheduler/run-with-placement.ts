/**
 * Runs one job where the placement says, applying the retry policy ({@link ./retry-policy.ts}):
 * the daemon's single entry point for a distributable compile.
 *
 * `local` runs the compile on this machine; `remote` sends it on a reserved slot and reports
 * either the compiler's verdict or an infrastructure failure (a thrown error counts as the
 * builder being cut off). Each remote attempt has a deadline on the injected clock; past it the
 * attempt is aborted and counts as a stall. Aborting `signal` ends everything and rejects with
 * its reason.
 *
 * @example
 * ```ts
 * const report = await runWithPlacement(job, { placement, local, remote, signal })
 * stats.count(report.where, report.attempts.length - 1, report.fallback)
 * ```
 */
import type { Placement } from './placement.ts'
import { decideAfter, type AttemptResult } from './retry-policy.ts'
import type { InfraFailure, PlacementJob, Slot } from './types.ts'

export type RemoteSlot = Extract<Slot, { kind: 'remote' }>

export type RemoteResult<R> =
  /** The compiler ran there; `suspect` when the failure may be the builder's doing. */
  | { kind: 'compiled'; result: R; suspect?: boolean }
  | { kind: 'infra'; failure: InfraFailure; detail?: string }

export type LocalRunner<R> = (job: PlacementJob, options: { signal: AbortSignal }) => Promise<R>
export type RemoteRunner<R> = (
  slot: RemoteSlot,
  job: PlacementJob,
  options: { signal: AbortSignal },
) => Promise<RemoteResult<R>>

export interface RunOptions<R> {
  placement: Placement
  local: LocalRunner<R>
  remote: RemoteRunner<R>
  signal?: AbortSignal
  /** Deadline of one remote attempt, ms. Default: 10 × the estimate (at least 30 s), or 10 min. */
  deadlineMs?: (job: PlacementJob, peer: string) => number
  /** Retries on another member after an infrastructure failure. Default 1. */
  maxRemoteRetries?: number
}

export interface AttemptRecord {
  where: 'local' | 'remote'
  peer?: string
  /** `compiled`, or the infrastructure failure. */
  outcome: 'compiled' | InfraFailure
  detail?: string
  elapsedMs: number
}

export interface RunReport<R> {
  result: R
  /** Where the returned result was made. */
  where: 'local' | 'remote'
  peer?: string
  attempts: AttemptRecord[]
  /** Why the job ended up local after trying members, if it did. */
  fallback?: 'retries-exhausted' | 'suspect-result'
}

/** Reason used to stop a timer; a constant, so that no exception object is built per job. */
const DONE = Symbol('done')

export function defaultDeadlineMs(job: PlacementJob): number {
  return job.estimateMs === undefined ? 600_000 : Math.max(30_000, 10 * job.estimateMs)
}

export async function runWithPlacement<R>(
  job: PlacementJob,
  options: RunOptions<R>,
): Promise<RunReport<R>> {
  const { placement, signal } = options
  const ctl = new AbortController()
  const onAbort = () => ctl.abort(signal?.reason)
  if (signal?.aborted) onAbort()
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    return await drive(job, options, ctl.signal, placement)
  } finally {
    signal?.removeEventListener('abort', onAbort)
  }
}

async function drive<R>(
  job: PlacementJob,
  options: RunOptions<R>,
  signal: AbortSignal,
  placement: Placement,
): Promise<RunReport<R>> {
  const attempts: AttemptRecord[] = []
  const exclude = new Set<string>()
  let remoteFailures = 0
  let fallback: RunReport<R>['fallback']
  let slot = await placement.acquire(job, { signal, exclude })
  for (;;) {
    if (slot.kind === 'local') {
      const result = await runLocal(job, slot, options, signal, attempts)
      const report: RunReport<R> = { result, where: 'local', attempts }
      if (fallback !== undefined) report.fallback = fallback
      return report
    }
    const peer = slot.peer
    const { result, outcome } = await runRemote(job, slot, options, signal, attempts)
    const decision = decideAfter(outcome, {
      remoteFailures: outcome.kind === 'infra' ? ++remoteFailures : remoteFailures,
      maxRemoteRetries: options.maxRemoteRetries ?? 1,
    })
    if (decision.action === 'return' && result !== undefined) {
      return { result: result.value, where: 'remote', peer, attempts }
    }
    if (decision.action === 'retry-elsewhere') {
      exclude.add(peer)
      slot = await placement.acquire(job, { signal, exclude })
    } else {
      fallback = decision.action === 'local' ? decision.reason : 'retries-exhausted'
      slot = await placement.acquireLocal(job, { signal })
    }
  }
}

async function runLocal<R>(
  job: PlacementJob,
  slot: Slot,
  options: RunOptions<R>,
  signal: AbortSignal,
  attempts: AttemptRecord[],
): Promise<R> {
  const clock = options.placement.clock
  const start = clock.now()
  try {
    const result = await options.local(job, { signal })
    const elapsedMs = clock.now() - start
    slot.release({ kind: 'done', elapsedMs })
    attempts.push({ where: 'local', outcome: 'compiled', elapsedMs })
    return result
  } catch (err) {
    slot.release({ kind: 'unused' })
    throw err
  }
}

async function runRemote<R>(
  job: PlacementJob,
  slot: RemoteSlot,
  options: RunOptions<R>,
  signal: AbortSignal,
  attempts: AttemptRecord[],
): Promise<{ result?: { value: R }; outcome: AttemptResult }> {
  const { placement } = options
  const clock = placement.clock
  const attempt = new AbortController()
  const both = AbortSignal.any([signal, attempt.signal])
  const deadline = (options.deadlineMs ?? defaultDeadlineMs)(job, slot.peer)
  const stopTimer = new AbortController()
  let timedOut = false
  const timer = clock
    .sleep(deadline, { signal: stopTimer.signal })
    .then(() => {
      timedOut = true
      attempt.abort(new Error(`no result from ${slot.peer} within ${deadline} ms`))
    })
    .catch(() => {})
  const start = clock.now()
  let res: RemoteResult<R>
  try {
    res = await Promise.race([
      options.remote(slot, job, { signal: both }),
      new Promise<never>((_, reject) => {
        both.addEventListener('abort', () => reject(both.reason), { once: true })
      }),
    ])
  } catch (err) {
    if (signal.aborted) {
      slot.release({ kind: 'unused' })
      throw signal.reason
    }
    res = {
      kind: 'infra',
      failure: timedOut ? 'deadline' : 'cut-off',
      detail: err instanceof Error ? err.message : String(err),
    }
  } finally {
    stopTimer.abort(DONE)
    await timer
  }
  const elapsedMs = clock.now() - start
  const record: AttemptRecord = {
    where: 'remote',
    peer: slot.peer,
    outcome: res.kind === 'compiled' ? 'compiled' : res.failure,
    elapsedMs,
  }
  if (res.kind === 'infra' && res.detail !== undefined) record.detail = res.detail
  attempts.push(record)
  if (res.kind === 'infra') {
    slot.release({ kind: 'failed', failure: res.failure })
    return { outcome: { kind: 'infra', where: 'remote', failure: res.failure } }
  }
  // A suspect result says nothing reliable about the builder's speed.
  slot.release(res.suspect === true ? { kind: 'unused' } : { kind: 'done', elapsedMs })
  const outcome: AttemptResult = { kind: 'compiled', where: 'remote' }
  if (res.suspect === true) outcome.suspect = true
  return { result: { value: res.result }, outcome }
}
