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
import { stat, unlink } from 'node:fs/promises'
import { basename, dirname, isAbsolute, resolve } from 'node:path'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { writeOutputAtomic } from '../compile/write-outputs.ts'
import { BuilderFailedError, JobCodecError, RemoteIneligibleError } from '../errors.ts'
import { acceptResponse } from './accept-response.ts'
import { builderArgs } from './builder-args.ts'
import {
  encodeRequest,
  JOB_MESSAGE_VERSION,
  type JobDriver,
  type JobLanguage,
  type JobOutputRequest,
  type JobResponse,
} from './job-codec.ts'
import { packBlob } from './job-compress.ts'
import { jobEnv } from './job-env.ts'
import { JOB_LIMITS } from './job-limits.ts'
import { exchangeJob, JOB_PROTOCOL, KEEPALIVE_MS } from './job-protocol.ts'
import { preprocess } from './preprocess.ts'
import { remoteIneligibility } from './remote-eligibility.ts'
import type { PreparedJob, RemoteJobInput, RemoteOutcome } from './remote-job-types.ts'

export type { PreparedJob, RemoteJobInput, RemoteOutcome } from './remote-job-types.ts'

/** What the executor needs of the libp2p node. */
export interface JobDialer {
  dial(peer: PeerId, options?: { signal?: AbortSignal }): Promise<Connection>
}

export interface ExecutorOptions {
  node: JobDialer
  /** Scratch space for depfiles made while preprocessing. */
  tempDir: string
  /** Silence from the builder longer than this is a stall (default 3 × keepalive). */
  stallMs?: number
  /** Compile deadline asked of the builder (default 10 min). */
  deadlineMs?: number
  /** Time to get a connection and open the job stream (default 10 s). */
  connectTimeoutMs?: number
}

function driverFor(compiler: string, language: JobLanguage): JobDriver {
  const plusPlus = /(\+\+|^c\+\+)(-[\d.]+)?$/.test(basename(compiler))
  if (plusPlus)
    return language === 'objective-c' || language === 'objective-c++' ? 'objective-c++' : 'c++'
  return language === 'objective-c' || language === 'objective-c++' ? 'objective-c' : 'c'
}

const abs = (cwd: string, p: string) => (isAbsolute(p) ? resolve(p) : resolve(cwd, p))

export class RemoteExecutor {
  readonly #o: ExecutorOptions

  constructor(options: ExecutorOptions) {
    this.#o = options
  }

  async prepare(
    input: RemoteJobInput,
    { signal }: { signal?: AbortSignal } = {},
  ): Promise<PreparedJob> {
    const { inv, cwd } = input
    const reason = remoteIneligibility(inv, { cwd, env: input.env })
    if (reason !== undefined)
      throw new RemoteIneligibleError(reason, `not distributable: ${reason}`)
    const depfile =
      input.depfile === undefined && !('depfile' in input) ? inv.depfile : input.depfile
    const pp = await preprocess(
      { compiler: input.compiler, inv, cwd, env: input.env, depfile, tempDir: this.#o.tempDir },
      signal === undefined ? {} : { signal },
    )
    if (pp.exitCode !== 0 || pp.signal !== null)
      throw new RemoteIneligibleError(
        'preprocess-failed',
        `local preprocessing exited ${pp.exitCode}`,
      )
    if (inv.family === 'gcc' && pp.stderr.length > 0)
      throw new RemoteIneligibleError('preprocessor-diagnostics', 'gcc printed while preprocessing')
    if (pp.text.length > JOB_LIMITS.maxInputBytes)
      throw new RemoteIneligibleError('input-too-large', `${pp.text.length} bytes preprocessed`)
    const jobId = randomUUID()
    const outputs: JobOutputRequest[] = [
      { path: abs(cwd, inv.output), role: 'object', optional: false },
      ...inv.extraOutputs.map((e) => ({ path: abs(cwd, e.path), role: e.role, optional: true })),
    ]
    // The builder makes every output directory; here a missing one must fail as it would locally.
    for (const o of outputs)
      if (!(await isDirectory(dirname(o.path))))
        throw new RemoteIneligibleError('output-dir-missing', `no directory for ${o.path}`)
    const language = inv.language as JobLanguage
    const packed = await packBlob(pp.text)
    if (packed.data.byteLength > JOB_LIMITS.maxInputWireBytes)
      throw new RemoteIneligibleError(
        'input-too-large',
        `${packed.data.byteLength} bytes compressed`,
      )
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
      if (err instanceof JobCodecError)
        throw new RemoteIneligibleError('request-invalid', err.message)
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
      text: pp.text,
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
    const connectBy = AbortSignal.any([
      all,
      AbortSignal.timeout(this.#o.connectTimeoutMs ?? 10_000),
    ])
    const unreachable = (cause: unknown): never => {
      if (signal?.aborted) throw signal.reason
      throw new BuilderFailedError('unreachable', `cannot reach ${target}: ${text(cause)}`, {
        cause,
      })
    }
    let conn: Connection
    try {
      conn = await this.#o.node.dial(target, { signal: connectBy })
    } catch (cause) {
      return unreachable(cause)
    }
    if (!conn.remotePeer.equals(target))
      throw new BuilderFailedError(
        'protocol',
        `connection for ${target} leads to ${conn.remotePeer}: job not sent`,
      )
    let stream: Stream
    try {
      stream = await conn.newStream(JOB_PROTOCOL, { signal: connectBy })
    } catch (cause) {
      return unreachable(cause)
    }
    let response: JobResponse
    try {
      response = await exchangeJob(stream, job.request, {
        signal: all,
        stallMs: this.#o.stallMs ?? 3 * KEEPALIVE_MS,
      })
    } catch (err) {
      if (signal?.aborted) throw signal.reason
      if (deadline.aborted)
        throw new BuilderFailedError('deadline', `no result from ${target} before the deadline`)
      if (err instanceof BuilderFailedError) throw err
      throw new BuilderFailedError('cut-off', `job stream to ${target}: ${text(err)}`, {
        cause: err,
      })
    }
    return acceptResponse(job, target.toString(), response, performance.now() - started)
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

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (st) => st.isDirectory(),
    () => false,
  )
}

function text(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
