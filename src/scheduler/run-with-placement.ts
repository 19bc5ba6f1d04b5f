/**
 * Runs one job where the placement says, applying the retry policy ({@link ./retry-policy.ts}):
 * the daemon's single entry point for a distributable compile.
 *
 * `local` runs the compile on this machine; `remote` sends it on a reserved slot and reports
 * either the compiler's verdict or an infrastructure failure (a thrown error counts as the
 * builder being cut off) or a BUSY answer (the builder had no free slot when the job arrived:
 * the job goes to another member at once, without using up its retry). Each remote attempt has
 * a deadline on the injected clock; past it the attempt is aborted and counts as a stall. Aborting `signal` ends everything and rejects with
 * its reason.
 *
 * @example
 * ```ts
 * const report = await runWithPlacement(job, { placement, local, remote, signal })
 * stats.count(report.where, report.attempts.length - 1, report.fallback)
 * ```
 */
import { type HedgeOptions, watchForHedge } from './hedge.ts'
import type { Placement } from './placement.ts'
import { type AttemptResult, decideAfter } from './retry-policy.ts'
import type { InfraFailure, PlacementJob, Slot } from './types.ts'

export type RemoteSlot = Extract<Slot, { kind: 'remote' }>

export type RemoteResult<R> =
  /** The compiler ran there; `suspect` when the failure may be the builder's doing. */
  | { kind: 'compiled'; result: R; suspect?: boolean }
  | { kind: 'infra'; failure: InfraFailure; detail?: string }
  /** The builder had no free slot when the job arrived (it did not run): try another member. */
  | { kind: 'busy'; detail?: string }

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
  /**
   * Other members tried at once after BUSY answers (which never use up the retry); past that
   * the job waits for the next free slot. Default 4.
   */
  maxBusyTries?: number
  /** Hedge stragglers near the end of a build ({@link ./hedge.ts}). Default off. */
  hedge?: boolean | HedgeOptions
}

export interface AttemptRecord {
  where: 'local' | 'remote'
  peer?: string
  /** `compiled`, `busy` (refused at once, did not run), or the infrastructure failure. */
  outcome: 'compiled' | 'busy' | InfraFailure
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

/** One attempt's end: where it ran, the compiler's result if it ran, and the policy input. */
interface Attempt<R> {
  where: 'local' | 'remote'
  peer?: string
  result?: { value: R }
  outcome: AttemptResult
}

async function drive<R>(
  job: PlacementJob,
  options: RunOptions<R>,
  signal: AbortSignal,
  placement: Placement,
): Promise<RunReport<R>> {
  const attempts: AttemptRecord[] = []
  // Members that failed this job: not asked again for it. A member that answered BUSY stays a
  // candidate: its back-off keeps it out for a moment, and a long job may still wait for it
  // (excluding it would make the next fastest member look like the fastest).
  const exclude = new Set<string>()
  // The job keeps its place in the placement's queue across BUSY answers and retries.
  const ticket = {}
  let remoteFailures = 0
  let busyAnswers = 0
  let fallback: RunReport<R>['fallback']
  const run = (slot: Slot, sig: AbortSignal) => attempt(job, slot, options, sig, attempts)
  let slot = await placement.acquire(job, { signal, exclude, ticket })
  for (;;) {
    const a =
      options.hedge === undefined || options.hedge === false || placement.mode === 'local'
        ? await run(slot, signal)
        : await hedged(job, slot, run, options, signal, exclude)
    if (a.where === 'local' && a.result !== undefined) {
      const report: RunReport<R> = { result: a.result.value, where: 'local', attempts }
      if (fallback !== undefined) report.fallback = fallback
      return report
    }
    const decision = decideAfter(a.outcome, {
      remoteFailures: a.outcome.kind === 'infra' ? ++remoteFailures : remoteFailures,
      maxRemoteRetries: options.maxRemoteRetries ?? 1,
      busyAnswers: a.outcome.kind === 'busy' ? ++busyAnswers : busyAnswers,
      maxBusyTries: options.maxBusyTries ?? 4,
    })
    if (decision.action === 'return' && a.result !== undefined) {
      const report: RunReport<R> = { result: a.result.value, where: a.where, attempts }
      if (a.peer !== undefined) report.peer = a.peer
      if (fallback !== undefined) report.fallback = fallback
      return report
    }
    if (decision.action === 'retry-elsewhere') {
      if (a.peer !== undefined && a.outcome.kind === 'infra') exclude.add(a.peer)
      slot = await placement.acquire(job, { signal, exclude, ticket })
    } else if (decision.action === 'wait') {
      busyAnswers = 0
      slot = await placement.acquire(job, { signal, exclude, ticket, wait: true })
    } else {
      fallback = decision.action === 'local' ? decision.reason : 'retries-exhausted'
      slot = await placement.acquireLocal(job, { signal })
    }
  }
}

async function attempt<R>(
  job: PlacementJob,
  slot: Slot,
  options: RunOptions<R>,
  signal: AbortSignal,
  attempts: AttemptRecord[],
): Promise<Attempt<R>> {
  if (slot.kind === 'local') {
    const value = await runLocal(job, slot, options, signal, attempts)
    return { where: 'local', result: { value }, outcome: { kind: 'compiled', where: 'local' } }
  }
  const { result, outcome } = await runRemote(job, slot, options, signal, attempts)
  const a: Attempt<R> = { where: 'remote', peer: slot.peer, outcome }
  if (result !== undefined) a.result = result
  return a
}

/**
 * Runs `slot`'s attempt and, while it runs, watches for a hedge ({@link ./hedge.ts}); with one
 * started, the first compiler verdict wins and the other attempt is aborted (its slot released
 * unused). When both fail, the first attempt's failure is what the policy sees.
 */
async function hedged<R>(
  job: PlacementJob,
  slot: Slot,
  run: (slot: Slot, signal: AbortSignal) => Promise<Attempt<R>>,
  options: RunOptions<R>,
  signal: AbortSignal,
  exclude: ReadonlySet<string>,
): Promise<Attempt<R>> {
  const { placement } = options
  const first = new AbortController()
  const primary = run(slot, AbortSignal.any([signal, first.signal]))
  let done = false
  const finished = primary.then(
    () => {
      done = true
    },
    () => {
      done = true
    },
  )
  const stop = new AbortController()
  const watch = watchForHedge(
    placement,
    job,
    { peer: slot.kind === 'remote' ? slot.peer : undefined, startedAt: placement.clock.now() },
    {
      hedge: options.hedge === true || options.hedge === undefined ? {} : options.hedge || {},
      exclude,
      done: () => done,
      signal: AbortSignal.any([signal, stop.signal]),
    },
  ).catch(() => undefined)
  const hedgeSlot = await Promise.race([finished.then(() => undefined), watch])
  if (hedgeSlot === undefined) {
    stop.abort(DONE)
    const late = await watch
    late?.release({ kind: 'unused' })
    return primary
  }
  const second = new AbortController()
  const backup = run(hedgeSlot, AbortSignal.any([signal, second.signal]))
  return firstVerdict(primary, backup, first, second, signal)
}

/** The first of two attempts to bring a compiler verdict; the other is aborted. */
async function firstVerdict<R>(
  a: Promise<Attempt<R>>,
  b: Promise<Attempt<R>>,
  abortA: AbortController,
  abortB: AbortController,
  signal: AbortSignal,
): Promise<Attempt<R>> {
  type Settled =
    | { which: 'a' | 'b'; ok: true; v: Attempt<R> }
    | { which: 'a' | 'b'; ok: false; e: unknown }
  const wrap = (p: Promise<Attempt<R>>, which: 'a' | 'b'): Promise<Settled> =>
    p.then(
      (v) => ({ which, ok: true, v }),
      (e) => ({ which, ok: false, e }),
    )
  const pending = new Map<'a' | 'b', Promise<Settled>>([
    ['a', wrap(a, 'a')],
    ['b', wrap(b, 'b')],
  ])
  const results: Settled[] = []
  while (pending.size > 0) {
    const s = await Promise.race(pending.values())
    pending.delete(s.which)
    results.push(s)
    if (signal.aborted) break
    if (s.ok && s.v.result !== undefined) {
      // A verdict: stop the other attempt; it gives its slot back as it unwinds.
      const other = s.which === 'a' ? abortB : abortA
      other.abort(DONE)
      return s.v
    }
  }
  abortA.abort(DONE)
  abortB.abort(DONE)
  for (const p of pending.values()) await p
  if (signal.aborted) throw signal.reason
  const firstAttempt = results.find((r) => r.which === 'a')!
  if (firstAttempt.ok) return firstAttempt.v
  throw firstAttempt.e
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
  // The listener goes when the job ends: a combined signal (from `hedged`) that keeps a listener
  // stays alive, and with it this job's context, until it aborts (found as a leak per job).
  let onAbort: (() => void) | undefined
  try {
    const result = await Promise.race([
      options.local(job, { signal }),
      new Promise<never>((_, reject) => {
        if (signal.aborted) reject(signal.reason)
        onAbort = () => reject(signal.reason)
        signal.addEventListener('abort', onAbort, { once: true })
      }),
    ])
    const elapsedMs = clock.now() - start
    slot.release({ kind: 'done', elapsedMs })
    attempts.push({ where: 'local', outcome: 'compiled', elapsedMs })
    return result
  } catch (err) {
    slot.release({ kind: 'unused' })
    throw err
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort)
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
  // Removed in `finally`: `AbortSignal.any` keeps a signal with listeners (and everything they
  // reach: the job's preprocessed text, its request) alive until it aborts, which was ~1.7 MB of
  // old space per remote job.
  let onBoth: (() => void) | undefined
  try {
    res = await Promise.race([
      options.remote(slot, job, { signal: both }),
      new Promise<never>((_, reject) => {
        onBoth = () => reject(both.reason)
        both.addEventListener('abort', onBoth, { once: true })
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
    if (onBoth) both.removeEventListener('abort', onBoth)
    stopTimer.abort(DONE)
    await timer
  }
  const elapsedMs = clock.now() - start
  const record: AttemptRecord = {
    where: 'remote',
    peer: slot.peer,
    outcome: res.kind === 'infra' ? res.failure : res.kind,
    elapsedMs,
  }
  if (res.kind !== 'compiled' && res.detail !== undefined) record.detail = res.detail
  attempts.push(record)
  if (res.kind === 'busy') {
    slot.release({ kind: 'busy' })
    return { outcome: { kind: 'busy', where: 'remote' } }
  }
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
