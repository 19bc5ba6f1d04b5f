/**
 * The client's side of a remote compile, in three steps so that a retry elsewhere does not
 * preprocess again:
 *
 * 1. `prepare`: check the compile can be reproduced remotely (`remote-eligibility.ts`),
 *    preprocess locally (`preprocess.ts`), compress, encode the request. A preprocessing failure
 *    or a gcc preprocessing diagnostic (`#warning`) makes it ineligible: the local compile
 *    reports it exactly.
 * 2. `send`: one stream on the open connection to the chosen member, checked to be that member
 *    (results are accepted only from the peer the job was sent to, whose identity Noise proved),
 *    one request, keepalives, one response for this job id. BUSY → `BuilderBusyError`; anything
 *    the builder or the network did wrong → `BuilderFailedError` with the scheduler's failure
 *    kind (retry elsewhere, then local).
 * 3. `commit`: write the outputs (and the depfile) atomically, with the client's umask; after a
 *    compile error, remove stale outputs as the compiler would have.
 *
 * A compiled result says whether its diagnostics are exact: clang's are; gcc's lack (or
 * misplace) the source excerpts under each diagnostic, so a gcc result that printed anything is
 * `suspect` and the caller compiles locally (`toRemoteResult` feeds that into the retry policy).
 *
 * @example
 * ```ts
 * const exec = new RemoteExecutor({ node: mesh.node, tempDir })
 * const job = await exec.prepare({ compiler, inv, cwd, env, toolchain: await local.idFor(compiler) }, { signal })
 * const out = await exec.send(job, peerId, { signal })      // throws BuilderBusyError / BuilderFailedError
 * if (!out.suspect) await exec.commit(job, out, { umask })
 * ```
 */
import { randomUUID } from 'node:crypto'
import { unlink } from 'node:fs/promises'
import { basename, isAbsolute, resolve } from 'node:path'
import type { Connection, PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { writeOutputAtomic } from '../compile/write-outputs.ts'
import type { CacheableInvocation, DepfileRequest } from '../compilers/types.ts'
import { BuilderBusyError, BuilderFailedError, JobCodecError, RemoteIneligibleError } from '../errors.ts'
import type { InfraFailure } from '../scheduler/types.ts'
import { builderArgs } from './builder-args.ts'
import {
  encodeRequest,
  JOB_MESSAGE_VERSION,
  type JobDriver,
  type JobLanguage,
  type JobOutputRequest,
  type JobResponse,
} from './job-codec.ts'
import { packBlob, unpackBlob } from './job-compress.ts'
import { jobEnv } from './job-env.ts'
import { JOB_LIMITS } from './job-limits.ts'
import { exchangeJob, JOB_PROTOCOL, KEEPALIVE_MS } from './job-protocol.ts'
import { preprocess } from './preprocess.ts'
import { remoteIneligibility } from './remote-eligibility.ts'

/** What the executor needs of the libp2p node. */
export interface JobDialer {
  dial(peer: PeerId, options?: { signal?: AbortSignal }): Promise<Connection>
}

export interface RemoteJobInput {
  /** The real compiler on this machine (its toolchain is what the builder runs). */
  compiler: string
  inv: CacheableInvocation
  cwd: string
  env: Record<string, string>
  toolchain: string
  /** Arguments to compile with; default `inv.expandedArgs` (e.g. plus a forced colour option). */
  args?: readonly string[]
  /** Depfile to produce; default `inv.depfile`. Pass an injected one to learn the headers. */
  depfile?: DepfileRequest | undefined
}

export interface PreparedJob {
  jobId: string
  family: CacheableInvocation['family']
  cwd: string
  request: Uint8Array
  outputs: JobOutputRequest[]
  depfile: { path: string; data: Buffer } | undefined
  /** Size of the preprocessed text and of the request on the wire. */
  inputBytes: number
  wireBytes: number
  preprocessMs: number
}

export interface RemoteOutcome {
  peer: string
  exitCode: number | null
  signal: string | null
  stdout: Buffer
  stderr: Buffer
  /** Outputs by absolute path (absent optional outputs are missing from the map). */
  outputs: Map<string, Buffer>
  /** The result should not be used as is: compile locally (and report why). */
  suspect: 'gcc-diagnostics' | 'signal' | undefined
  builderCpuMs: number
  builderWallMs: number
  wallMs: number
}

export interface ExecutorOptions {
  node: JobDialer
  /** Scratch space for depfiles made while preprocessing. */
  tempDir: string
  /** Silence from the builder longer than this is a stall (default 3 × keepalive). */
  stallMs?: number
  /** Compile deadline asked of the builder (default 10 min). */
  deadlineMs?: number
}

function driverFor(compiler: string, language: JobLanguage): JobDriver {
  const plusPlus = /(\+\+|^c\+\+)(-[\d.]+)?$/.test(basename(compiler))
  if (plusPlus) return language === 'objective-c' || language === 'objective-c++' ? 'objective-c++' : 'c++'
  return language === 'objective-c' || language === 'objective-c++' ? 'objective-c' : 'c'
}

const abs = (cwd: string, p: string) => (isAbsolute(p) ? resolve(p) : resolve(cwd, p))

export class RemoteExecutor {
  readonly #o: ExecutorOptions

  constructor(options: ExecutorOptions) {
    this.#o = options
  }

  async prepare(input: RemoteJobInput, { signal }: { signal?: AbortSignal } = {}): Promise<PreparedJob> {
    const { inv, cwd } = input
    const reason = remoteIneligibility(inv, { cwd, env: input.env })
    if (reason !== undefined) throw new RemoteIneligibleError(reason, `not distributable: ${reason}`)
    const depfile = input.depfile === undefined && !('depfile' in input) ? inv.depfile : input.depfile
    const pp = await preprocess(
      { compiler: input.compiler, inv, cwd, env: input.env, depfile, tempDir: this.#o.tempDir },
      signal === undefined ? {} : { signal },
    )
    if (pp.exitCode !== 0 || pp.signal !== null)
      throw new RemoteIneligibleError('preprocess-failed', `local preprocessing exited ${pp.exitCode}`)
    if (inv.family === 'gcc' && pp.stderr.length > 0)
      throw new RemoteIneligibleError('preprocessor-diagnostics', 'gcc printed while preprocessing')
    if (pp.text.length > JOB_LIMITS.maxInputBytes)
      throw new RemoteIneligibleError('input-too-large', `${pp.text.length} bytes preprocessed`)
    const jobId = randomUUID()
    const outputs: JobOutputRequest[] = [
      { path: abs(cwd, inv.output), role: 'object', optional: false },
      ...inv.extraOutputs.map((e) => ({ path: abs(cwd, e.path), role: e.role, optional: true })),
    ]
    const language = inv.language as JobLanguage
    const packed = await packBlob(pp.text)
    if (packed.data.byteLength > JOB_LIMITS.maxInputWireBytes)
      throw new RemoteIneligibleError('input-too-large', `${packed.data.byteLength} bytes compressed`)
    let request: Uint8Array
    try {
      request = encodeRequest({
        v: JOB_MESSAGE_VERSION,
        features: [],
        jobId,
        toolchain: input.toolchain,
        family: inv.family,
        language,
        driver: driverFor(input.compiler, language),
        args: builderArgs(input.args ?? inv.expandedArgs),
        cwd: resolve(cwd),
        inputPath: abs(cwd, inv.source),
        input: packed,
        outputs,
        deadlineMs: this.#o.deadlineMs ?? 600_000,
        env: jobEnv(input.env),
      })
    } catch (err) {
      if (err instanceof JobCodecError) throw new RemoteIneligibleError('request-invalid', err.message)
      throw err
    }
    return {
      jobId,
      family: inv.family,
      cwd,
      request,
      outputs,
      depfile:
        depfile !== undefined && pp.depfile !== undefined
          ? { path: abs(cwd, depfile.path), data: pp.depfile }
          : undefined,
      inputBytes: pp.text.length,
      wireBytes: request.byteLength,
      preprocessMs: pp.ms,
    }
  }

  async send(
    job: PreparedJob,
    peer: PeerId | string,
    { signal }: { signal?: AbortSignal } = {},
  ): Promise<RemoteOutcome> {
    const target = typeof peer === 'string' ? peerIdFromString(peer) : peer
    const started = performance.now()
    const deadline = AbortSignal.timeout((this.#o.deadlineMs ?? 600_000) + 30_000)
    const all = signal === undefined ? deadline : AbortSignal.any([signal, deadline])
    let conn: Connection
    try {
      conn = await this.#o.node.dial(target, { signal: all })
    } catch (cause) {
      if (signal?.aborted) throw signal.reason
      throw new BuilderFailedError('unreachable', `cannot reach ${target}: ${text(cause)}`, { cause })
    }
    if (!conn.remotePeer.equals(target))
      throw new BuilderFailedError(
        'protocol',
        `connection for ${target} leads to ${conn.remotePeer}: job not sent`,
      )
    let response: JobResponse
    try {
      const stream = await conn.newStream(JOB_PROTOCOL, { signal: all })
      response = await exchangeJob(stream, job.request, {
        signal: all,
        stallMs: this.#o.stallMs ?? 3 * KEEPALIVE_MS,
      })
    } catch (err) {
      if (signal?.aborted) throw signal.reason
      if (deadline.aborted)
        throw new BuilderFailedError('deadline', `no result from ${target} before the deadline`)
      if (err instanceof BuilderFailedError) throw err
      throw new BuilderFailedError('unreachable', `job stream to ${target}: ${text(err)}`, { cause: err })
    }
    return this.#accept(job, target.toString(), response, performance.now() - started)
  }

  async #accept(job: PreparedJob, peer: string, r: JobResponse, wallMs: number): Promise<RemoteOutcome> {
    const fail = (failure: InfraFailure, msg: string) =>
      new BuilderFailedError(failure, `${peer}: ${msg}${r.detail ? ` (${r.detail})` : ''}`)
    const anonymous = r.jobId === '-' && (r.status === 'busy' || r.status === 'refused' || r.status === 'bad-request')
    if (r.jobId !== job.jobId && !anonymous)
      throw fail('protocol', `answered job ${r.jobId}, not ${job.jobId}`)
    switch (r.status) {
      case 'busy':
        throw new BuilderBusyError(`${peer} has no free slot`)
      case 'refused':
      case 'failed':
        throw fail('sandbox-refused', `could not run the job`)
      case 'toolchain-missing':
        throw fail('toolchain-missing', 'lacks the toolchain')
      case 'bad-request':
        throw fail('protocol', 'refused the request as malformed')
      case 'deadline':
        throw fail('deadline', 'compile ran past its deadline')
      case 'compiled':
        break
    }
    const outputs = new Map<string, Buffer>()
    try {
      for (const o of r.outputs) {
        const asked = job.outputs.find((x) => x.path === o.path)
        if (asked === undefined || outputs.has(o.path)) throw fail('protocol', `sent unrequested output ${o.path}`)
        if (o.file !== undefined) outputs.set(o.path, await unpackBlob(o.file, o.path))
        else if (!asked.optional && r.exitCode === 0) throw fail('protocol', `compiled without ${o.path}`)
      }
      if (r.exitCode === 0 && r.signal === null)
        for (const o of job.outputs)
          if (!o.optional && !outputs.has(o.path)) throw fail('protocol', `did not send ${o.path}`)
      const stdout = await unpackBlob(r.stdout, 'stdout')
      const stderr = await unpackBlob(r.stderr, 'stderr')
      const suspect =
        r.signal !== null
          ? 'signal'
          : job.family === 'gcc' && (stderr.length > 0 || stdout.length > 0)
            ? 'gcc-diagnostics'
            : undefined
      return {
        peer,
        exitCode: r.exitCode,
        signal: r.signal,
        stdout,
        stderr,
        outputs,
        suspect,
        builderCpuMs: r.cpuMs,
        builderWallMs: r.wallMs,
        wallMs,
      }
    } catch (err) {
      if (err instanceof BuilderFailedError) throw err
      throw new BuilderFailedError('protocol', `${peer}: ${text(err)}`, { cause: err })
    }
  }

  /** Writes what the remote compile produced, as a local compile would have left it. */
  async commit(job: PreparedJob, out: RemoteOutcome, { umask }: { umask: number }): Promise<void> {
    if (out.exitCode !== 0) {
      // gcc and clang delete their output when a compile fails.
      for (const o of job.outputs) if (!o.optional) await unlink(o.path).catch(() => {})
      return
    }
    for (const o of job.outputs) {
      const data = out.outputs.get(o.path)
      if (data !== undefined) writeOutputAtomic(o.path, data, umask)
    }
    if (job.depfile !== undefined) writeOutputAtomic(job.depfile.path, job.depfile.data, umask)
  }
}

function text(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
