/**
 * Glue between the executor and the scheduler's `runWithPlacement`: a `RemoteRunner` that
 * preprocesses once (on the first remote attempt, so a job placed locally never pays for it) and
 * turns the executor's typed errors into the retry policy's vocabulary:
 *
 * | executor                         | RemoteResult                                   |
 * |----------------------------------|------------------------------------------------|
 * | outcome                          | `compiled` (`suspect` for gcc diagnostics, signals) |
 * | BuilderBusyError                 | `busy` (another member at once; not a failure) |
 * | BuilderFailedError(kind)         | `infra: kind`                                  |
 * | RemoteIneligibleError (prepare)  | `infra: protocol` (detail `ineligible: …`)     |
 *
 * Call `remoteIneligibility()` before placement so that ineligible compiles never get here.
 */
import { BuilderBusyError, BuilderFailedError, RemoteIneligibleError } from '../errors.ts'
import type { RemoteRunner } from '../scheduler/run-with-placement.ts'
import type { InfraFailure } from '../scheduler/types.ts'
import { JobChannel } from './job-protocol.ts'
import type {
  JobHead,
  PreparedJob,
  RemoteExecutor,
  RemoteJobInput,
  RemoteOutcome,
} from './remote-executor.ts'

export interface RemoteRunnerHandle {
  runner: RemoteRunner<RemoteOutcome>
  /**
   * Starts preprocessing now, before a slot is placed, so that the slot reservation's round
   * trip overlaps it (the first remote attempt then awaits the same work).
   */
  prepareEarly(signal: AbortSignal): Promise<unknown>
  /** The prepared job, once a remote attempt made it (for `commit`). */
  prepared(): PreparedJob | undefined
  /** The job's head, once preparing has started (for the reservation to send ahead). */
  head(): Promise<JobHead | undefined> | undefined
}

export function remoteRunner(exec: RemoteExecutor, input: RemoteJobInput): RemoteRunnerHandle {
  let begun: { head: Promise<JobHead | undefined>; job: Promise<PreparedJob> } | undefined
  let done: PreparedJob | undefined
  const start = (signal: AbortSignal) => {
    if (begun === undefined) {
      const b = exec.begin(input, { signal })
      begun = {
        head: b.head,
        job: b.job.then((p) => {
          done = p
          return p
        }),
      }
    }
    return begun
  }
  const runner: RemoteRunner<RemoteOutcome> = async (slot, _job, { signal }) => {
    try {
      const begin = start(signal)
      // A builder that starts compiles early gets the job's head now, its input when ready.
      if (slot.lease instanceof JobChannel) {
        const head = await begin.head
        if (head !== undefined) slot.lease.sendHead(head.jobId, head.bytes)
      }
      const job = await begin.job
      // The lease is the stream that reserved the slot: the job goes on it.
      const out = await exec.send(job, slot.peer, { signal, lease: slot.lease })
      return out.suspect === undefined
        ? { kind: 'compiled', result: out }
        : { kind: 'compiled', result: out, suspect: true }
    } catch (err) {
      if (signal.aborted) throw err
      if (err instanceof BuilderBusyError) return { kind: 'busy', detail: 'busy' }
      if (err instanceof BuilderFailedError)
        return { kind: 'infra', failure: err.failure as InfraFailure, detail: err.message }
      if (err instanceof RemoteIneligibleError)
        return { kind: 'infra', failure: 'protocol', detail: `ineligible: ${err.reason}` }
      throw err
    }
  }
  return {
    runner,
    prepared: () => done,
    head: () => begun?.head,
    prepareEarly: (signal) => start(signal).job.catch(() => {}),
  }
}
