/**
 * Distributed compilation as a joined daemon hosts it, beside the mesh (`mesh-host.ts`):
 *
 * - the toolchain transfer service: serves this node's toolchains, announces them, pulls
 *   missing ones from members (`src/toolchain-transfer/`);
 * - the builder (`BuilderService`), when the sandbox works and the certificate has the
 *   `builder` role; otherwise the log says why this node refuses to build;
 * - the client side for the pipeline (`remote-miss.ts`): the executor, the local toolchain ids,
 *   and one placement per mode (`auto`, `remote`) over one shared pool of local slots;
 * - the advert fields it owns: free builder slots and the toolchains held;
 * - the mesh's share of `meshcc stats`: what the builder did for members, how members answered
 *   this node's reservations, and the slots offered while attached;
 * - the toolchain transfers under way (for `meshcc toolchain list`, through the `transfers`
 *   control command), each logged at most once a second while it lasts.
 *
 * `attach(mesh)` after each mesh start, `detach()` before it stops.
 *
 * @example
 * ```ts
 * const remote = new RemoteHost({ paths, log })
 * const handler = createLocalCompileHandler({ ..., compileMiss: remoteMissCompiler({ client: () => remote.client(), stats, log }) })
 * const meshHost = new MeshHost({ ..., onStarted: (m) => remote.attach(m), onStopping: () => remote.detach(), advertExtra: (a) => remote.advert(a) })
 * ```
 */
import { cpus } from 'node:os'
import { join } from 'node:path'
import type { RemoteClient } from '../compile/remote-miss.ts'
import type { NodePaths } from '../config/paths.ts'
import type { HomeMesh } from '../mesh/start-from-home.ts'
import type { AdvertFields } from '../mesh/types.ts'
import { type BuilderJobEvent, BuilderService } from '../remote/builder-service.ts'
import { GccDriverCommands } from '../remote/gcc-driver-commands.ts'
import { type JobDialer, RemoteExecutor } from '../remote/remote-executor.ts'
import { remoteReserve } from '../remote/remote-reserve.ts'
import { probeSandbox } from '../sandbox/probe.ts'
import { systemClock } from '../scheduler/clock.ts'
import { LocalPool } from '../scheduler/local-pool.ts'
import { Placement } from '../scheduler/placement.ts'
import type { BuilderView } from '../scheduler/types.ts'
import { viewsFromDirectory } from '../scheduler/views-from-directory.ts'
import type { StatsRecorder } from '../stats/recorder.ts'
import { LocalToolchains } from '../toolchain/local-toolchains.ts'
import type { ToolchainLanguage } from '../toolchain/manifest.ts'
import { ToolchainStore } from '../toolchain/store.ts'
import { startToolchainTransfer, type ToolchainTransfer } from '../toolchain-transfer/service.ts'
import type { TransferProgressEvent } from '../toolchain-transfer/transfer-progress.ts'
import type { Logger } from './logger.ts'
import { TransferBoard } from './transfer-board.ts'

export interface RemoteHostInit {
  paths: NodePaths
  log: Logger
  /** Compile slots: local (own jobs) and offered to builders. Default: the number of cores. */
  slots?: number
  /** Each job built for a member, when it ends (the speed estimator learns from them). */
  onBuilderJob?: (event: BuilderJobEvent) => void
  /** Where the builder's counters and the reservations' answers are counted (`meshcc stats`). */
  stats?: Pick<StatsRecorder, 'builder' | 'reservation' | 'builderSlots'>
}

interface Attached {
  mesh: HomeMesh
  transfer: ToolchainTransfer
  builder: BuilderService | undefined
  client: RemoteClient
  placements: Map<'auto' | 'remote', Placement>
  local: LocalToolchains
}

/** The member view is rebuilt at most this often (every placement decision reads it). */
const VIEW_TTL_MS = 50

export class RemoteHost {
  readonly #init: RemoteHostInit
  readonly #slots: number
  #on: Attached | undefined
  /** Toolchain transfers under way, with their latest progress. */
  readonly #transfers: TransferBoard

  constructor(init: RemoteHostInit) {
    this.#init = init
    this.#slots = init.slots ?? Math.max(1, cpus().length)
    this.#transfers = new TransferBoard(init.log.child({ component: 'remote' }))
  }

  /** The client side for the pipeline, while attached. */
  client(): RemoteClient | undefined {
    return this.#on?.client
  }

  /** Builder counters, while this node builds. */
  builder(): BuilderService | undefined {
    return this.#on?.builder
  }

  /** Toolchain transfers under way (those that lasted more than a moment), oldest first. */
  transfers(): TransferProgressEvent[] {
    return this.#transfers.list()
  }

  /** The advert fields this host owns, over the mesh host's defaults. */
  advert(base: AdvertFields): AdvertFields {
    const on = this.#on
    if (on === undefined) return base
    return {
      ...base,
      freeSlots:
        on.builder === undefined
          ? 0
          : Math.max(0, Math.min(base.freeSlots, on.builder.freeSlots())),
      toolchains: on.transfer.held(),
    }
  }

  async attach(mesh: HomeMesh): Promise<void> {
    await this.detach()
    const { paths } = this.#init
    const log = this.#init.log.child({ component: 'remote' })
    const store = new ToolchainStore(join(paths.home, 'toolchains'))
    const transfer = await startToolchainTransfer({
      mesh,
      store,
      onAdvertChange: () => mesh.changed(),
      onError: (what, err) => log.debug('toolchain transfer', { what, err }),
    })
    const builder = await this.#startBuilder(mesh, store, transfer, log)
    // Re-checked (a few hundred lstats) at most every 2 s, not for every job of a build, and
    // not at all while the compiler's directories stay quiet (up to a minute).
    const local = new LocalToolchains(store, {
      configFile: paths.configFile,
      env: process.env,
      recheckMs: 2000,
      watch: true,
    })
    const announced = new Set<string>()
    // Ids known to be ready, by compiler, so `auto` never waits for a first packaging.
    const ready = new Map<string, string>()
    const packaging = new Map<string, Promise<string>>()
    const executor = new RemoteExecutor({
      node: mesh.node,
      tempDir: join(paths.home, 'tmp'),
      // MESHCC_PREPROCESS_DRIVER=1: gcc's driver preprocesses every job (for diagnosis).
      ...(process.env.MESHCC_PREPROCESS_DRIVER === '1'
        ? {}
        : {
            driverCommands: new GccDriverCommands({
              onLearnt: (flagSet, outcome) =>
                log.debug('gcc preprocessing command learnt', { outcome, flagSet }),
            }),
          }),
    })
    const members = memberView(mesh)
    const placements = new Map<'auto' | 'remote', Placement>()
    const pool = new LocalPool(this.#slots)
    // Ids by compiler and language set (a C job's toolchain is the C set: a third of the bytes).
    const keyOf = (compiler: string, languages?: readonly ToolchainLanguage[]) =>
      languages === undefined ? compiler : `${compiler}\0${languages.join(',')}`
    const toolchainFor = async (
      compiler: string,
      { signal, languages }: { signal: AbortSignal; languages?: readonly ToolchainLanguage[] },
    ) => {
      const t0 = performance.now()
      const id = await local.idFor(compiler, { signal, ...(languages ? { languages } : {}) })
      ready.set(keyOf(compiler, languages), id)
      if (!announced.has(id)) {
        announced.add(id)
        const ms = Math.round(performance.now() - t0)
        log.info('local toolchain ready for builders', { compiler, id, ms })
        void transfer.announce(id).catch((err) => log.debug('announce failed', { id, err }))
        mesh.changed()
      }
      return id
    }
    const client: RemoteClient = {
      executor,
      toolchainFor,
      toolchainIfReady: (compiler, languages) => {
        const key = keyOf(compiler, languages)
        const id = ready.get(key)
        if (id !== undefined || packaging.has(key)) return id
        // Package in the background (once); this job compiles here meanwhile.
        const signal = AbortSignal.timeout(600_000)
        const p = toolchainFor(compiler, { signal, ...(languages ? { languages } : {}) })
          .catch((err) => {
            log.warn('cannot package the compiler for builders', { compiler, err })
            ready.set(key, '') // not again in this attachment: compile here
            return ''
          })
          .finally(() => packaging.delete(key))
        packaging.set(key, p)
        return undefined
      },
      tryLocalSlot: () => (pool.tryAcquire() ? () => pool.release() : undefined),
      placement: (mode) => {
        let p = placements.get(mode)
        if (p === undefined) {
          p = placement(mode, pool, members, mesh.node, this.#init.stats)
          placements.set(mode, p)
        }
        return p
      },
    }
    this.#on = { mesh, transfer, builder, client, placements, local }
    this.#init.stats?.builderSlots(builder?.slots ?? 0)
    mesh.changed()
  }

  async detach(): Promise<void> {
    const on = this.#on
    this.#on = undefined
    if (on === undefined) return
    this.#init.stats?.builderSlots(undefined)
    // Jobs waiting for a slot compile here (remote-miss.ts falls back on the rejection).
    for (const p of on.placements.values()) p.close(new Error('the mesh stopped'))
    this.#transfers.clear()
    on.local.close()
    await on.transfer.stop().catch(() => {})
  }

  async #startBuilder(
    mesh: HomeMesh,
    store: ToolchainStore,
    transfer: ToolchainTransfer,
    log: Logger,
  ): Promise<BuilderService | undefined> {
    const roles = mesh.identity().cert.roles
    if (!roles.includes('builder')) {
      log.info('not building for the mesh: the certificate has no builder role', { roles })
      return undefined
    }
    const probe = await probeSandbox()
    if (!probe.ok) {
      log.warn('not building for the mesh: the sandbox does not work here', {
        reason: probe.reason,
        hint: probe.hint,
      })
      return undefined
    }
    const fetched = new Set<string>()
    const builder = new BuilderService({
      store,
      slots: this.#slots,
      workDir: join(this.#init.paths.home, 'jobs'),
      // MESHCC_EARLY_START=0: grants do not offer early start (every job waits for its input).
      earlyStart: process.env.MESHCC_EARLY_START !== '0',
      // MESHCC_INCLUDE_INPUT=0: a job started early waits for its input in its main file.
      includeInput: process.env.MESHCC_INCLUDE_INPUT !== '0',
      ensureToolchain: async (id, { from, signal }) => {
        const r = await this.#transfers.track(id, (onProgress) =>
          transfer.ensureToolchain(id, { signal, hintPeers: [from], onProgress }),
        )
        // Concurrent jobs share one transfer: log it once.
        if (r.transfer !== undefined && !fetched.has(id)) {
          fetched.add(id)
          log.info('toolchain fetched from members', {
            id,
            seconds: r.transfer.seconds,
            fetchSeconds: r.transfer.fetchSeconds,
            marksMs: r.transfer.marksMs,
            bytes: r.transfer.bytes,
            wireBytes: r.transfer.wireBytes,
            holders: Object.keys(r.transfer.peers).length,
            from,
          })
        }
      },
      onChange: () => mesh.changed(),
      onCount: (counter) => this.#init.stats?.builder(counter),
      onJob: (e) => {
        this.#init.onBuilderJob?.(e)
        log.debug('remote job', {
          jobId: e.jobId,
          peer: e.peer,
          status: e.status,
          exitCode: e.exitCode,
          wallMs: e.wallMs,
          ...(e.inputWaitMs === undefined ? {} : { inputWaitMs: e.inputWaitMs }),
          ...(e.status === 'compiled' ? {} : { detail: e.detail }),
        })
      },
    })
    await builder.register(mesh)
    log.info('building for the mesh', { slots: this.#slots, sandboxLevel: probe.level })
    return builder
  }
}

/**
 * A placement for `mode` over `pool`. A reservation first checks our own bookkeeping (the
 * advert's free slots, less our jobs there since: a member that is full by those figures is not
 * asked), then asks the builder to hold a slot (`remote-reserve.ts`); a full builder says busy at
 * once and the next candidate is asked. The job carries the slot's token.
 */
function placement(
  mode: 'auto' | 'remote',
  pool: LocalPool,
  members: () => readonly BuilderView[],
  node: JobDialer,
  stats: RemoteHostInit['stats'],
): Placement {
  let p: Placement | undefined
  const reserve = remoteReserve(node, () => p)
  // Both modes share the pool, and each placement hooks `onFree`: chain them.
  const before = pool.onFree
  p = new Placement({
    clock: systemClock,
    reserve,
    members,
    localSlots: pool,
    mode,
    ...(stats === undefined ? {} : { onReserve: (answer) => stats.reservation(answer) }),
  })
  const mine = pool.onFree
  pool.onFree = () => {
    before?.()
    mine?.()
  }
  return p
}

/** Members as the placement sees them, from the mesh's directory. */
function memberView(mesh: HomeMesh): () => readonly BuilderView[] {
  let at = -Infinity
  let view: BuilderView[] = []
  return () => {
    const now = systemClock.now()
    if (now - at < VIEW_TTL_MS) return view
    at = now
    view = viewsFromDirectory(mesh.directory.peers(), now)
    return view
  }
}
