/**
 * The node's speed figure as the daemon composes it: one estimator (`speed-estimator.ts`) fed
 * by the misses compiled here (`miss-speed.ts`), the jobs built for members (preprocessed bytes
 * and the CPU time the builder measured), and seeded by a calibration compile run once in the
 * background. The calibration is scheduled by the first read of the figure (the first advert,
 * so only a node that joined a mesh spends the CPU on it, and never on a daemon started for one
 * local compile). When the advertised figure moves, `onChange` fires (the daemon publishes a
 * fresh advert).
 *
 * @example
 * ```ts
 * const speed = new NodeSpeed({ log, onChange: () => meshHost.changed() })
 * compileMiss: speed.observeMisses(remoteMissCompiler(...))
 * new RemoteHost({ ..., onBuilderJob: (e) => speed.builderJob(e) })
 * new MeshHost({ ..., speed: () => speed.advertised() })
 * ```
 */
import { cpus } from 'node:os'
import type { MissCompiler } from '../compile/miss-compiler.ts'
import type { BuilderJobEvent } from '../remote/builder-service.ts'
import type { Logger } from './logger.ts'
import { observeMissSpeed } from './miss-speed.ts'
import { calibrate } from './speed-calibration.ts'
import { SpeedEstimator, type SpeedSample } from './speed-estimator.ts'

export interface NodeSpeedInit {
  log: Logger
  /** The advertised figure moved. */
  onChange?: () => void
  estimator?: SpeedEstimator
  /** Runs the calibration (tests); default: compile the fixed unit with `cc`. */
  calibrate?: (options: { signal?: AbortSignal }) => Promise<SpeedSample>
  /** Delay between the first read of the figure and the calibration (default 2 s). */
  calibrateDelayMs?: number
  /** Cancels a calibration not yet run or under way (the daemon stops). */
  signal?: AbortSignal
}

export class NodeSpeed {
  readonly estimator: SpeedEstimator
  readonly #init: NodeSpeedInit
  #calibrating = false

  constructor(init: NodeSpeedInit) {
    this.#init = init
    this.estimator = init.estimator ?? new SpeedEstimator()
  }

  /** The figure to advertise; the first call schedules the calibration. */
  advertised(): number {
    if (!this.#calibrating) {
      this.calibrateLater({
        delayMs: this.#init.calibrateDelayMs ?? 2_000,
        ...(this.#init.signal === undefined ? {} : { signal: this.#init.signal }),
      })
    }
    return this.estimator.advertised()
  }

  /** `inner`, with the local compiles it runs observed. */
  observeMisses(inner: MissCompiler | undefined): MissCompiler {
    return observeMissSpeed(inner, {
      cores: Math.max(1, cpus().length),
      onSample: (s) => this.#sample(s, 'local'),
    })
  }

  /** A job built for a member. */
  builderJob(e: BuilderJobEvent): void {
    if (e.status !== 'compiled' || e.exitCode !== 0) return
    this.#sample({ bytes: e.inputBytes, cpuMs: e.cpuMs }, 'remote')
  }

  /**
   * Seeds the figure after `delayMs` (off the start path), once; failures are logged, not
   * fatal (the figure is then learned from compiles alone).
   */
  calibrateLater({ delayMs = 2_000, signal }: { delayMs?: number; signal?: AbortSignal } = {}) {
    if (this.#calibrating) return
    this.#calibrating = true
    const timer = setTimeout(() => {
      if (signal?.aborted) return
      ;(this.#init.calibrate ?? calibrate)(signal === undefined ? {} : { signal })
        .then((s) => {
          const moved = this.estimator.seed(s)
          this.#init.log.info('compile speed calibrated', {
            cpuMs: Math.round(s.cpuMs),
            speed: this.estimator.advertised(),
          })
          if (moved) this.#init.onChange?.()
        })
        .catch((err) => this.#init.log.debug('speed calibration failed', { err }))
    }, delayMs)
    timer.unref()
  }

  #sample(s: SpeedSample, from: 'local' | 'remote'): void {
    if (!this.estimator.observe(s)) return
    this.#init.log.debug('compile speed moved', { from, speed: this.estimator.advertised() })
    this.#init.onChange?.()
  }
}
