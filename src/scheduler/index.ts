/**
 * Client-side placement of compile jobs, without a central scheduler.
 *
 * - {@link Placement}: local first (a pool of local slots, default one per core, which the
 *   builder side may share), then members drawn by power-of-d sampling from the gossip view
 *   (eligible: admitted builder, fresh advert, the toolchain's platform and architecture, breaker
 *   closed), weighted by free slots (corrected by this client's own jobs and by "busy" answers),
 *   learned speed, round trip and whether they hold the toolchain. The chosen member is asked to
 *   reserve a slot; busy → the next one; after `maxAttempts` the job waits for a local slot or a
 *   later round. Long jobs go to fast members (and wait a little for one rather than take a slow
 *   slot); waiting jobs are served longest first, and a fresh grant goes to the longest waiting
 *   job that would take that member (late binding).
 * - {@link SpeedModel} (EWMA of log speed ratios per builder and toolchain, with confidence that
 *   decays so ratings recover) and {@link FailureTracker} (decaying penalty, circuit breaker).
 * - {@link decideAfter} (pure retry policy) and {@link runWithPlacement} (the driver the daemon
 *   calls: compile errors are final, an infrastructure failure costs one retry elsewhere and then
 *   a local compile, each remote attempt has a deadline). With `hedge` on, a straggler near the
 *   end of a build is started again on a much faster free member and the first verdict wins
 *   ({@link hedgeSpeedNeeded}); the losing attempt is aborted, so runners must write outputs
 *   only once they are known to have won (a local compile into a private directory).
 * - {@link viewsFromDirectory}: the member view from the mesh's peer directory.
 *
 * Time and randomness are injected ({@link Clock}, {@link Random}); {@link VirtualClock} runs the
 * same code in virtual time for tests and the simulation in `bench/scheduling/`.
 *
 * @example
 * ```ts
 * const placement = new Placement({
 *   clock: systemClock,
 *   localSlots: availableParallelism(),
 *   members: () => viewsFromDirectory(directory.snapshot().peers, systemClock.now()),
 *   reserve: (peer, request, { signal }) => jobs.reserve(peer, request, { signal }),
 *   mode: settings.mode,
 * })
 * adverts.onAdvert = () => placement.viewChanged()
 * const report = await runWithPlacement(job, { placement, local, remote, signal })
 * ```
 *
 * @packageDocumentation
 */
export type { ScoredCandidate } from './candidates.ts'
export { systemClock } from './clock.ts'
export { FailureTracker } from './failure-tracker.ts'
export { type HedgeOptions, hedgeSpeedNeeded } from './hedge.ts'
export { InFlight } from './in-flight.ts'
export { LocalPool } from './local-pool.ts'
export { type CandidatePicker, powerOfD } from './pickers.ts'
export {
  type AcquireOptions,
  Placement,
  type PlacementCounters,
  type PlacementInit,
  type PlacementMode,
} from './placement.ts'
export { seededRandom } from './random.ts'
export { type AttemptResult, decideAfter, type RetryDecision } from './retry-policy.ts'
export {
  type AttemptRecord,
  type LocalRunner,
  type RemoteResult,
  type RemoteRunner,
  type RemoteSlot,
  type RunOptions,
  type RunReport,
  runWithPlacement,
} from './run-with-placement.ts'
export { SpeedModel } from './speed-model.ts'
export type * from './types.ts'
export { viewFromAdvert, viewsFromDirectory } from './views-from-directory.ts'
export { VirtualClock } from './virtual-clock.ts'
