/**
 * The builder's side of `/meshcc/job/2.0.0`: admits a job against its free slots, gets the
 * toolchain, runs the compiler in the sandbox at the client's own paths, returns what it
 * printed and wrote. Only admitted members whose certificate has the `client` role reach it
 * (`requireMember`), and nothing runs unless the sandbox probe says this machine can isolate
 * a job (level ≥ 2); otherwise every reservation is refused at once.
 *
 * Slots: free = configured slots − running − reserved. Every job stream (`job-protocol.ts`)
 * opens with a reservation, answered at once: granted (a slot is held for that stream, bound to
 * that member, for a few seconds: `slot-reservations.ts`), busy, or refused. The job that then
 * arrives on the stream runs in the held slot; past the hold it runs only if a slot is free, and
 * is answered BUSY otherwise. A stream that closes or resets before its job gives the slot back
 * at once. Keepalive frames flow from the moment the request is read until the response,
 * covering a toolchain fetch and the compile.
 *
 * A granted reservation already names the job's toolchain, so the work that does not need the
 * job (the toolchain's lookup, its mounts, a fresh job directory) is done while the client still
 * preprocesses, and the job directory is removed only after the response went out: the job's
 * critical path is the request, the sandboxed compile and the response.
 *
 * @example
 * ```ts
 * const builder = new BuilderService({ store, slots: 8, workDir: join(home, 'jobs'),
 *   ensureToolchain: (id, o) => transfer.fetch(id, o), onChange: () => mesh.changed() })
 * await builder.register(mesh)
 * advert.freeSlots = builder.freeSlots()
 * ```
 */
import { setImmediate as nextTurn } from 'node:timers/promises'
import type { Connection, Stream } from '@libp2p/interface'
import { JobCodecError, SandboxUnavailableError } from '../errors.ts'
import type { Mesh } from '../mesh/mesh-service.ts'
import { requireMember } from '../mesh/require-member.ts'
import { widenReceiveWindow } from '../mesh/stream-window.ts'
import { probeSandbox, type SandboxProbe } from '../sandbox/probe.ts'
import { runSandboxed } from '../sandbox/run-sandboxed.ts'
import { toolchainMounts } from '../sandbox/toolchain-mounts.ts'
import type { SandboxMount } from '../sandbox/types.ts'
import type { ToolchainStore } from '../toolchain/store.ts'
import { runBuilderJob, type SandboxRunner } from './builder-job.ts'
import {
  cleanUpJob,
  newJobDir,
  prepareJob,
  type ReservedJobPrep,
  type ToolchainEntry,
} from './builder-prepare.ts'
import { IncludeGate } from './gcc-input-include.ts'
import {
  type Blob,
  emptyResponse,
  type JobRequest,
  type JobResponse,
  type JobStatus,
} from './job-codec.ts'
import { JOB_STREAM_WINDOW_BYTES } from './job-limits.ts'
import { JOB_PROTOCOL, jobServerStream, KEEPALIVE_MS } from './job-protocol.ts'
import { EARLY_START, type ReserveRequest, type ReserveResponse } from './reserve-codec.ts'
import { SlotReservations } from './slot-reservations.ts'

export type EnsureToolchain = (
  id: string,
  options: { from: string; signal: AbortSignal },
) => Promise<void>

export interface BuilderOptions {
  store: ToolchainStore
  /** Compile slots offered to the mesh. */
  slots: number
  /** Where job directories are made (one per job, removed afterwards). */
  workDir: string
  /** Fetches a toolchain this node lacks from the mesh (`from`: the client, which holds it). */
  ensureToolchain?: EnsureToolchain
  /** The sandbox helper (default: the project's build). */
  sandboxHelper?: string
  /** Overrides the probe (tests). */
  probe?: () => Promise<SandboxProbe>
  /** Overrides the sandbox runner (tests of slow or dying builders). */
  run?: SandboxRunner
  keepaliveMs?: number
  /** Upper bound on any job's deadline, whatever the client asks. Default 10 min. */
  maxDeadlineMs?: number
  /** How long the request may take to arrive. Default 30 s. */
  readTimeoutMs?: number
  /** Called whenever the number of free slots changes (publish a fresh advert). */
  onChange?: () => void
  /**
   * Offer `early-start` in grants (default true): a job's head may come first, and its compile
   * starts before its input arrives (`job-protocol.ts`).
   */
  earlyStart?: boolean
  /**
   * A gcc job started before its input gets it behind `-include` where that is safe (default
   * true; `gcc-input-include.ts`).
   */
  includeInput?: boolean
  /** How long a reserved slot waits for its job. Default 3 s (`slot-reservations.ts`). */
  reservationTtlMs?: number
  onJob?: (event: BuilderJobEvent) => void
  /** Each time one of `counters` goes up (the daemon's `meshcc stats` keeps them persisted). */
  onCount?: (counter: keyof BuilderCounters) => void
}

export interface BuilderJobEvent {
  jobId: string
  peer: string
  status: JobStatus
  exitCode: number | null
  wallMs: number
  detail: string
  /** Size of the (preprocessed) input the client sent; 0 if none was read. */
  inputBytes: number
  /** CPU time of the compile on this node, as the response reports it (0 if none ran). */
  cpuMs: number
  /** The job came as a head first: how long its input came after it (ms; -1: never came). */
  inputWaitMs?: number
}

export interface BuilderCounters {
  /** Jobs admitted; once they ended, each is either `compiled` or `failed`. */
  accepted: number
  busy: number
  refused: number
  /** Jobs that returned the compiler's result (whatever its exit code). */
  compiled: number
  /** Admitted jobs that did not: an error status, or the client gone before the answer. */
  failed: number
  /**
   * Reservations granted, and refused because no slot was free (these are also counted in
   * `busy`, which counts every BUSY answer: at the reservation, or to a job whose hold expired).
   */
  reserved: number
  reserveBusy: number
}

export class BuilderService {
  readonly #o: BuilderOptions
  #running = 0
  /** Whether jobs get their input behind `-include`: only while it pays (gcc-input-include.ts). */
  readonly #includeGate = new IncludeGate()
  readonly #toolchains = new Map<
    string,
    { tree: string; drivers: Record<string, string | undefined>; mounts: SandboxMount[] }
  >()
  readonly counters: BuilderCounters = {
    accepted: 0,
    busy: 0,
    refused: 0,
    compiled: 0,
    failed: 0,
    reserved: 0,
    reserveBusy: 0,
  }
  readonly reservations: SlotReservations

  constructor(options: BuilderOptions) {
    if (!Number.isSafeInteger(options.slots) || options.slots < 0)
      throw new RangeError(`builder slots must be a non-negative integer: ${options.slots}`)
    this.#o = options
    this.reservations = new SlotReservations({
      ...(options.reservationTtlMs === undefined ? {} : { ttlMs: options.reservationTtlMs }),
      onExpire: () => options.onChange?.(),
    })
  }

  get slots(): number {
    return this.#o.slots
  }
  get running(): number {
    return this.#running
  }
  freeSlots(): number {
    return Math.max(0, this.#o.slots - this.#running - this.reservations.size)
  }

  /** Serves the job protocol on the mesh node, to admitted members with the `client` role. */
  async register(mesh: Pick<Mesh, 'node' | 'admission'>): Promise<void> {
    const handler = requireMember(mesh.admission, (s, c) => this.handle(s, c), { role: 'client' })
    // Each job holds one stream from its reservation on: room for every slot twice over.
    await mesh.node.handle(JOB_PROTOCOL, handler, {
      maxInboundStreams: Math.max(32, this.#o.slots * 2 + 8),
    })
  }

  /**
   * The verdict on one reservation of `peer`: the answer sent and, on a grant, the reservation
   * table's token for it, kept here (the stream is the lease: the client never needs the token).
   */
  reserve(peer: string, _req: ReserveRequest): { answer: ReserveResponse; token?: string } {
    const token = this.reservations.grant(peer, { free: this.#o.slots - this.#running })
    if (token === undefined) {
      this.#count('reserveBusy')
      this.#count('busy')
      return { answer: { v: 1, status: 'busy' } }
    }
    this.#count('reserved')
    this.#o.onChange?.()
    return {
      answer: {
        v: 1,
        status: 'granted',
        ttlMs: this.reservations.ttlMs,
        features: this.#o.earlyStart === false ? [] : [EARLY_START],
      },
      token,
    }
  }

  #count(counter: keyof BuilderCounters): void {
    this.counters[counter]++
    this.#o.onCount?.(counter)
  }

  async #probe(): Promise<SandboxProbe> {
    if (this.#o.probe) return this.#o.probe()
    return probeSandbox(
      this.#o.sandboxHelper === undefined ? {} : { helper: this.#o.sandboxHelper },
    )
  }

  /**
   * One job stream (already gated by membership): the reservation is answered at once (granted,
   * busy, or refused when the sandbox does not work); a granted slot is held until the job
   * arrives on the stream, the reservation expires, or the stream closes.
   */
  async handle(stream: Stream, connection: Connection): Promise<void> {
    const srv = jobServerStream(stream)
    const peer = connection.remotePeer.toString()
    const gone = new AbortController()
    const onClose = () => gone.abort(new Error('job stream closed'))
    stream.addEventListener('close', onClose)
    // From the reservation's arrival: a client may open its next job's stream ahead of time.
    let started = performance.now()
    let admitted = false
    let token: string | undefined
    let response: JobResponse | undefined
    let jobId = '-'
    let inputBytes = 0
    let inputWaitMs: number | undefined
    // Job directories to remove once the answer is out (the response holds the outputs).
    const dirs: string[] = []
    let prepared: Promise<ReservedJobPrep | undefined> | undefined
    // The reservation must come within the read timeout of the stream's opening (a client may
    // open it ahead of its job), and the job's request (head and input) within the read timeout
    // of the reservation.
    const readTimeoutMs = this.#o.readTimeoutMs ?? 30_000
    let readSignal = AbortSignal.any([gone.signal, AbortSignal.timeout(readTimeoutMs)])
    try {
      let verdict: { answer: ReserveResponse; token?: string }
      let ask: ReserveRequest
      try {
        const probe = await this.#probe()
        ask = await srv.readReserve({ signal: readSignal })
        started = performance.now()
        readSignal = AbortSignal.any([gone.signal, AbortSignal.timeout(readTimeoutMs)])
        if (probe.ok) verdict = this.reserve(peer, ask)
        else {
          this.#count('refused')
          verdict = { answer: { v: 1, status: 'refused' } }
        }
      } catch (err) {
        if (err instanceof JobCodecError) {
          this.#count('refused')
          await this.#turnAway(stream, srv, { v: 1, status: 'refused' })
        } else stream.abort(err instanceof Error ? err : new Error(String(err)))
        return
      }
      if (verdict.token === undefined) {
        await this.#turnAway(stream, srv, verdict.answer)
        return
      }
      token = verdict.token
      // Room for the input, announced with the grant (the same socket write).
      widenReceiveWindow(stream, JOB_STREAM_WINDOW_BYTES)
      // The grant leaves first: the client's input waits for it. Its bytes go out when this
      // turn of the event loop ends (tcp-write-batching.ts), and a head that came with the
      // reservation would otherwise start its compile in the same turn, holding the grant back
      // for milliseconds (5 ms seen on this 2-core machine).
      const granted = srv.answerReserve(verdict.answer)
      granted.catch(() => {}) // awaited below, after the turn
      await nextTurn()
      // While the client preprocesses: the toolchain's lookup and a job directory, off the
      // job's critical path (`builder-prepare.ts`).
      prepared = prepareJob(
        ask.toolchain,
        {
          has: (id) => this.#o.store.hasSync(id),
          toolchain: (id, signal) => this.#toolchain(id, signal),
          workDir: this.#o.workDir,
        },
        gone.signal,
      )
      await granted
      let req: JobRequest
      // After a head (`early-start`), the input still to come: the compile starts without it.
      let input: Promise<Blob> | undefined
      try {
        ;({ req, input } = await srv.readRequest({ signal: readSignal }))
      } catch (err) {
        if (err instanceof JobCodecError) {
          response = emptyResponse('-', 'bad-request', err.message)
          await srv.respond(response).catch(() => {})
        } else if (stream.status === 'open')
          stream.abort(new Error('no job came for the reservation'))
        return
      }
      // The reserved slot becomes the job's; past its TTL the job needs a free slot.
      const reserved = this.reservations.take(token, peer)
      token = undefined
      if (!reserved && this.freeSlots() <= 0) {
        this.#count('busy')
        response = emptyResponse('-', 'busy', `all ${this.#o.slots} slots in use`)
        await srv.respond(response).catch(() => {})
        return
      }
      admitted = true
      this.#running++
      this.#count('accepted')
      this.#o.onChange?.()
      jobId = req.jobId
      inputBytes = req.input.size
      if (input !== undefined) {
        const headAt = performance.now()
        inputWaitMs = -1
        input.then(
          (blob) => {
            inputBytes = blob.size
            inputWaitMs = Math.round(performance.now() - headAt)
          },
          () => {},
        )
      }
      const stopKeepalive = srv.keepalive(this.#o.keepaliveMs ?? KEEPALIVE_MS)
      try {
        response = await this.#runJob(req, input, peer, gone.signal, await prepared, dirs, ask)
      } finally {
        stopKeepalive()
      }
      if (gone.signal.aborted) return
      await srv.respond(response).catch(() => {})
    } catch {
      // The stream failed under us (reset while answering): nothing to tell the client.
      if (stream.status === 'open') stream.abort(new Error('job stream failed'))
    } finally {
      stream.removeEventListener('close', onClose)
      void cleanUpJob(prepared, dirs)
      // A reservation whose stream ended without a job gives its slot back at once.
      if (token !== undefined && this.reservations.cancel(token)) this.#o.onChange?.()
      if (admitted) this.#ended(peer, jobId, response, started, inputBytes, inputWaitMs)
    }
  }

  #ended(
    peer: string,
    jobId: string,
    response: JobResponse | undefined,
    started: number,
    inputBytes: number,
    inputWaitMs: number | undefined,
  ): void {
    this.#running--
    this.#count(response?.status === 'compiled' ? 'compiled' : 'failed')
    this.#o.onChange?.()
    this.#o.onJob?.({
      jobId,
      peer,
      status: response?.status ?? 'failed',
      exitCode: response?.exitCode ?? null,
      wallMs: Math.round(performance.now() - started),
      detail: response?.detail ?? 'stream closed before the response',
      inputBytes,
      cpuMs: response?.cpuMs ?? 0,
      ...(inputWaitMs === undefined ? {} : { inputWaitMs }),
    })
  }

  /**
   * Answers the reservation busy or refused without reading further. The client stops sending
   * and resets the stream when it reads the answer; a client that keeps sending anyway is cut off
   * shortly after, so an unread request never sits in memory.
   */
  async #turnAway(
    stream: Stream,
    srv: ReturnType<typeof jobServerStream>,
    answer: ReserveResponse,
  ): Promise<void> {
    await srv.answerReserve(answer).catch(() => {})
    await stream.close().catch(() => {})
    if (stream.status === 'open')
      setTimeout(() => stream.abort(new Error(`job turned away: ${answer.status}`)), 2_000).unref()
  }

  /**
   * A toolchain's drivers and mount table, read once per toolchain rather than per job (its
   * manifest is immutable for its id). The tree is still checked (and materialised again if it
   * was removed) for every job, at its reservation.
   */
  async #toolchain(id: string, signal: AbortSignal): Promise<ToolchainEntry> {
    const tree = await this.#o.store.materialize(id, { signal })
    const known = this.#toolchains.get(id)
    if (known !== undefined && known.tree === tree) return known
    const { manifest } = await this.#o.store.getManifest(id)
    const entry = {
      tree,
      drivers: manifest.drivers as Record<string, string | undefined>,
      mounts: await toolchainMounts(tree, { signal }),
    }
    this.#toolchains.set(id, entry)
    return entry
  }

  async #runJob(
    req: JobRequest,
    input: Promise<Blob> | undefined,
    peer: string,
    signal: AbortSignal,
    prepared: ReservedJobPrep | undefined,
    dirs: string[],
    ask: ReserveRequest,
  ): Promise<JobResponse> {
    const o = this.#o
    const store = o.store
    try {
      // Prepared at the reservation for this toolchain: the lookup is done, the directory made.
      const ready = prepared?.toolchain === req.toolchain ? prepared : undefined
      if (ready !== undefined) {
        dirs.push(ready.jobDir)
        return await this.#runIn(req, input, ready.jobDir, ready.tc, signal, ask.estimateMs)
      }
      if (!(await store.has(req.toolchain))) {
        if (o.ensureToolchain === undefined)
          return emptyResponse(req.jobId, 'toolchain-missing', `no toolchain ${req.toolchain}`)
        try {
          await o.ensureToolchain(req.toolchain, { from: peer, signal })
        } catch (err) {
          return emptyResponse(req.jobId, 'toolchain-missing', `cannot get toolchain: ${text(err)}`)
        }
      }
      const tc = await this.#toolchain(req.toolchain, signal)
      const jobDir = await newJobDir(o.workDir)
      dirs.push(jobDir)
      return await this.#runIn(req, input, jobDir, tc, signal, ask.estimateMs)
    } catch (err) {
      if (err instanceof SandboxUnavailableError)
        return emptyResponse(req.jobId, 'refused', text(err))
      if (err instanceof JobCodecError) return emptyResponse(req.jobId, 'bad-request', text(err))
      return emptyResponse(req.jobId, 'failed', text(err))
    }
  }

  /** Runs the job in `jobDir` with toolchain `tc` (the caller removes the directory). */
  #runIn(
    req: JobRequest,
    input: Promise<Blob> | undefined,
    jobDir: string,
    tc: ToolchainEntry,
    signal: AbortSignal,
    estimateMs: number | undefined,
  ): Promise<JobResponse> {
    const o = this.#o
    const driver = tc.drivers[req.driver]
    if (driver === undefined)
      return Promise.resolve(
        emptyResponse(req.jobId, 'toolchain-missing', `toolchain has no ${req.driver} driver`),
      )
    return runBuilderJob(req, {
      ...(input === undefined ? {} : { input }),
      includeInput: o.includeInput !== false && this.#includeGate.allow(estimateMs),
      onIncluded: (ranAgain) => this.#includeGate.record(ranAgain),
      jobDir,
      driver: `/${driver}`,
      toolchainMounts: tc.mounts,
      maxDeadlineMs: o.maxDeadlineMs ?? 600_000,
      run:
        o.run ??
        ((spec, opts) =>
          runSandboxed(spec, {
            ...opts,
            ...(o.sandboxHelper === undefined ? {} : { helper: o.sandboxHelper }),
          })),
      signal,
    })
  }
}

function text(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
