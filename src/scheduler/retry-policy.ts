/**
 * What to do after one attempt of a job: a pure function, so that every branch is tested
 * without networks or timers.
 *
 * - The compiler ran (any exit code): its verdict is final and returned as is: a compile error
 *   compiles the same way anywhere, and running it again would only double its cost. The
 *   exception is a remote result the transport marks as suspect (a crash that the builder's
 *   limits may have caused): that one is compiled locally before anything is reported.
 * - BUSY (the builder had no free slot when the job arrived): not a failure, the job goes to
 *   another member at once, up to `maxBusyTries` times; past that it waits in the placement's
 *   queue for the next slot, here or on any member (the adverts were too old to trust). A BUSY
 *   never uses up the retry below.
 * - Infrastructure failure on a builder (it died, stalled past its deadline, was cut off,
 *   its sandbox refused, it lacked the toolchain…): one retry on another member, then local.
 *   A failed build is never the cost of a failed builder.
 */
import type { InfraFailure } from './types.ts'

export type AttemptResult =
  | { kind: 'compiled'; where: 'local' | 'remote'; suspect?: boolean }
  | { kind: 'infra'; where: 'remote'; failure: InfraFailure }
  | { kind: 'busy'; where: 'remote' }

export type RetryDecision =
  /** Return the result of this attempt. */
  | { action: 'return' }
  /** Try again on a member other than the ones that failed this job (or just refused it). */
  | { action: 'retry-elsewhere' }
  /** Too many BUSY answers in a row: wait for the next free slot, local or remote. */
  | { action: 'wait' }
  /** Compile on this machine. */
  | { action: 'local'; reason: 'retries-exhausted' | 'suspect-result' }

export interface RetryState {
  /** Remote infrastructure failures of this job so far, this attempt included. */
  remoteFailures: number
  /** Retries on another member allowed after a failure. Default 1. */
  maxRemoteRetries?: number
  /** BUSY answers to this job so far, this attempt included. Default 0. */
  busyAnswers?: number
  /** Members tried after BUSY answers before compiling here. Default 4. */
  maxBusyTries?: number
}

export function decideAfter(result: AttemptResult, state: RetryState): RetryDecision {
  if (result.kind === 'compiled') {
    if (result.where === 'remote' && result.suspect === true) {
      return { action: 'local', reason: 'suspect-result' }
    }
    return { action: 'return' }
  }
  if (result.kind === 'busy') {
    if ((state.busyAnswers ?? 1) <= (state.maxBusyTries ?? 4)) return { action: 'retry-elsewhere' }
    return { action: 'wait' }
  }
  if (state.remoteFailures <= (state.maxRemoteRetries ?? 1)) return { action: 'retry-elsewhere' }
  return { action: 'local', reason: 'retries-exhausted' }
}
