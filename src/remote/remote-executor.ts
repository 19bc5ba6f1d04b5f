/**
 * The client's side of a remote compile, in three steps so that a retry elsewhere does not
 * preprocess again:
 *
 * 1. `prepare`: check the compile can be reproduced remotely (`remote-eligibility.ts`),
 *    preprocess locally (`preprocess.ts`), compress, encode the request. A preprocessing failure
 *    or a gcc preprocessing diagnostic (`#warning`) makes it ineligible: the local compile
 *    reports it exactly.
 * 2. `send`: one stream on the open connection to the chosen member, checked to be that member
 *    (results are accepted only from the peer the job was sent to, whose identity Noise proved):
 *    the stream that reserved the slot (`remote-reserve.ts`, passed as the slot's lease) or a
 *    new one that reserves and sends in one write; one request, keepalives, one response for
 *    this job id. BUSY → `BuilderBusyError`; anything
 *    the builder or the network did wrong → `BuilderFailedError` with the scheduler's failure
 *    kind (retry elsewhere, then local).
 * 3. `commit`: write the outputs (and the depfile) atomically, with the client's umask; after a
 *    compile error, remove stale outputs as the compiler would have.
 *
 * A compiled result says whether its diagnostics are exact: clang's are (its excerpts come from
 * the rewritten text); gcc re-reads the files its diagnostics name, so every gcc job ships its
 * main source file, and a result naming other files is sent once more with them
 * (`diag-sources.ts`). A gcc result still naming files the builder lacked is `suspect`, and the
 * caller compiles locally (`toRemoteResult` feeds that into the retry policy).
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
import { statSync } from 'node:fs'
import { unlink } from 'node:fs/promises'
import { basename, dirname, isAbsolute, resolve } from 'node:path'
import type { Connection, PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { markerFiles } from '../compile/marker-files.ts'
import { writeOutputAtomic } from '../compile/write-outputs.ts'
import { BuilderFailedError, JobCodecError, RemoteIneligibleError } from '../errors.ts'
import { acceptResponse } from './accept-response.ts'
import { builderArgs } from './builder-args.ts'
import { diagStyle } from './diag-locale.ts'
import { gccJobEnv, packSources, resendWithSources, shipMainSource } from './diag-sources.ts'
import type { GccDriverCommands } from './gcc-driver-commands.ts'
import { preprocessedModeInput, wantsPreprocessedMode } from './gcc-preprocessed-mode.ts'
import {
  EMPTY_BLOB,
  encodeHead,
  encodeInput,
  encodeRequest,
  JOB_MESSAGE_VERSION,
  type JobDriver,
  type JobLanguage,
  type JobOutputRequest,
  type JobRequest,
  type JobResponse,
} from './job-codec.ts'
import { packBlob } from './job-compress.ts'
import { jobEnv } from './job-env.ts'
import { JOB_LIMITS } from './job-limits.ts'
import { JOB_PROTOCOL, JobChannel, KEEPALIVE_MS } from './job-protocol.ts'
import { preprocess } from './preprocess.ts'
import { remoteIneligibility } from './remote-eligibility.ts'
import type { JobHead, PreparedJob, RemoteJobInput, RemoteOutcome } from './remote-job-types.ts'
import { RESERVE_VERSION } from './reserve-codec.ts'

export type { JobHead, PreparedJob, RemoteJobInput, RemoteOutcome } from './remote-job-types.ts'

/** What the executor needs of the libp2p node. */
export interface JobDialer {
  dial(peer: PeerId, options?: { signal?: AbortSignal }): Promise<Connection>
}

export interface ExecutorOptions {
  node: JobDialer
  /** Scratch space for depfiles made while preprocessing. */
  tempDir: string
  /** gcc's cc1 commands learnt per flag set (absent: gcc's driver preprocesses every job). */
  driverCommands?: GccDriverCommands
  /** Silence from the builder longer than this is a stall (default 3 × keepalive). */
  stallMs?: number
  /** Compile deadline asked of the builder (default 10 min). */
  deadlineMs?: number
  /** Time to get a connection and open the job stream (default 10 s). */
  connectTimeoutMs?: number
}

export function driverFor(compiler: string, language: JobLanguage): JobDriver {
  const plusPlus = /(\+\+|^c\+\+)(-[\d.]+)?$/.test(basename(compiler))
  if (plusPlus)
    return language === 'objective-c' || language === 'objective-c++' ? 'objective-c++' : 'c++'
  return language === 'objective-c' || language === 'objective-c++' ? 'objective-c' : 'c'
}

/** Toolchain named in the reservation of a job whose fields are not at hand (tests). */
const NO_TOOLCHAIN = '0'.repeat(64)

const abs = (cwd: string, p: string) => (isAbsolute(p) ? resolve(p) : resolve(cwd, p))

export class RemoteExecutor {
  readonly #o: ExecutorOptions

  constructor(options: ExecutorOptions) {
    this.#o = options
  }

  /** The job ready to send (`begin` without the head). */
  prepare(input: RemoteJobInput, options: { signal?: AbortSignal } = {}): Promise<PreparedJob> {
    return this.begin(input, options).job
  }

  /**
   * Starts preparing the job: the preprocessor first (its run starts in this call), then,
   * while it runs, every field that does not depend on its text. `head` is the request without
   * its input as soon as those are known (undefined when the job cannot go that way: the
   * `-fpreprocessed` mode's fields depend on the text), for a builder that starts the compile
   * before the input comes (`JobChannel.sendHead`); `job` is the whole job.
   */
  begin(
    input: RemoteJobInput,
    { signal }: { signal?: AbortSignal } = {},
  ): { head: Promise<JobHead | undefined>; job: Promise<PreparedJob> } {
    const { inv, cwd } = input
    const reason = remoteIneligibility(inv, { cwd, env: input.env })
    if (reason !== undefined)
      return {
        head: Promise.resolve(undefined),
        job: Promise.reject(new RemoteIneligibleError(reason, `not distributable: ${reason}`)),
      }
    const depfile =
      input.depfile === undefined && !('depfile' in input) ? inv.depfile : input.depfile
    const preprocessing = preprocess(
      {
        compiler: input.compiler,
        inv,
        cwd,
        env: input.env,
        depfile,
        tempDir: this.#o.tempDir,
        run: input.runPreprocessor,
        driverCommands: this.#o.driverCommands,
      },
      signal === undefined ? {} : { signal },
    )
    const described = this.#describe(input)
    return {
      head: described.then(
        (d) => d.head,
        () => undefined,
      ),
      job: this.#finish(input, depfile, preprocessing, described),
    }
  }

  /** What the request holds apart from the input, known before the preprocessing ends. */
  async #describe(input: RemoteJobInput): Promise<Described> {
    const { inv, cwd } = input
    const jobId = randomUUID()
    const outputs: JobOutputRequest[] = [
      { path: abs(cwd, inv.output), role: 'object', optional: false },
      ...inv.extraOutputs.map((e) => ({ path: abs(cwd, e.path), role: e.role, optional: true })),
    ]
    // The builder makes every output directory; here a missing one must fail as it would locally.
    for (const o of outputs)
      if (!isDirectory(dirname(o.path)))
        throw new RemoteIneligibleError('output-dir-missing', `no directory for ${o.path}`)
    const language = inv.language as JobLanguage
    const inputPath = abs(cwd, inv.source)
    const args = builderArgs(input.args ?? inv.expandedArgs)
    const style = inv.family === 'gcc' ? await diagStyle(input.compiler, input.env) : undefined
    const shipped =
      style === 'ascii' || style === 'utf8'
        ? await shipMainSource(cwd, inv.source, inputPath)
        : undefined
    const fields: JobRequest = {
      v: JOB_MESSAGE_VERSION,
      features: [],
      jobId,
      toolchain: input.toolchain,
      family: inv.family,
      language,
      driver: driverFor(input.compiler, language),
      args,
      cwd: resolve(cwd),
      inputPath,
      input: EMPTY_BLOB,
      outputs,
      deadlineMs: this.#o.deadlineMs ?? 600_000,
      env: style === undefined ? jobEnv(input.env) : gccJobEnv(input.env, style),
      sources: shipped === undefined ? undefined : await packSources(shipped),
    }
    // In the `-fpreprocessed` mode the text decides fields: no head goes ahead of such a job.
    let head: JobHead | undefined
    if (shipped === undefined || !wantsPreprocessedMode(inv, args)) {
      try {
        head = { jobId, bytes: encodeHead(fields) }
      } catch (err) {
        if (!(err instanceof JobCodecError)) throw err
      }
    }
    return { fields, shipped, style, head }
  }

  async #finish(
    input: RemoteJobInput,
    depfile: RemoteJobInput['depfile'],
    preprocessing: ReturnType<typeof preprocess>,
    described: Promise<Described>,
  ): Promise<PreparedJob> {
    const { inv, cwd } = input
    const pp = await preprocessing
    // The text lives in a pooled buffer until the job is compressed (`text-buffers.ts`).
    try {
      if (pp.exitCode !== 0 || pp.signal !== null)
        throw new RemoteIneligibleError(
          'preprocess-failed',
          `local preprocessing exited ${pp.exitCode}`,
        )
      if (inv.family === 'gcc' && pp.stderr.length > 0)
        throw new RemoteIneligibleError(
          'preprocessor-diagnostics',
          'gcc printed while preprocessing',
        )
      if (pp.text.length > JOB_LIMITS.maxInputBytes)
        throw new RemoteIneligibleError('input-too-large', `${pp.text.length} bytes preprocessed`)
      const { fields: base, shipped, style, head } = await described
      const ppMode =
        shipped === undefined || head !== undefined
          ? undefined
          : await preprocessedModeInput(input.compiler, inv, cwd, input.env, base.args, pp.text)
      const packed = await packBlob(ppMode?.text ?? pp.text)
      if (packed.data.byteLength > JOB_LIMITS.maxInputWireBytes)
        throw new RemoteIneligibleError(
          'input-too-large',
          `${packed.data.byteLength} bytes compressed`,
        )
      const fields: JobRequest = {
        ...base,
        input: packed,
        preprocessed: ppMode === undefined ? undefined : { sourceArg: ppMode.sourceArg },
      }
      // With a head, the job normally goes as its input frame alone: the whole request (a second
      // copy of the compressed text) is encoded only if a stream without the head needs it.
      let whole: Uint8Array | undefined
      const request = () => (whole ??= encodeRequest(fields))
      let inputFrame: Uint8Array | undefined
      try {
        if (head === undefined) request()
        else inputFrame = encodeInput(fields.jobId, packed)
      } catch (err) {
        if (err instanceof JobCodecError)
          throw new RemoteIneligibleError('request-invalid', err.message)
        throw err
      }
      return {
        jobId: fields.jobId,
        family: inv.family,
        cwd,
        get request() {
          return request()
        },
        input: inputFrame,
        outputs: fields.outputs,
        depfile:
          depfile !== undefined && pp.depfile !== undefined
            ? { path: abs(cwd, depfile.path), data: pp.depfile }
            : undefined,
        files: input.wantsFiles === true ? markerFiles(pp.text) : undefined,
        fields,
        shipped,
        args: fields.args,
        diagStyle: style,
        inputBytes: pp.text.length,
        wireBytes:
          inputFrame === undefined || head === undefined
            ? request().byteLength
            : head.bytes.byteLength + inputFrame.byteLength,
        preprocessMs: pp.ms,
      }
    } finally {
      pp.release()
    }
  }

  /**
   * Sends the job; a gcc result whose diagnostics name files the builder lacked goes once more
   * to the same member with those files added (`diag-sources.ts`), and stays `suspect` if that
   * cannot help.
   */
  async send(
    job: PreparedJob,
    peer: PeerId | string,
    options: { signal?: AbortSignal; lease?: unknown } = {},
  ): Promise<RemoteOutcome> {
    const { lease, ...rest } = options
    // The stream that reserved this job's slot (`remote-reserve.ts`) carries the first send.
    const reserved = lease instanceof JobChannel ? lease : undefined
    const out = await this.#sendOnce(job, peer, { ...rest, reserved })
    const main = job.fields?.inputPath
    if (!out.missingSources?.length || main === undefined || !job.shipped?.has(main)) return out
    // A builder that did not place the main source does not place sources at all.
    if (out.missingSources.includes(main)) return out
    const again = await resendWithSources(job, out.missingSources, out.stderr)
    if (again === undefined) return out
    const second = await this.#sendOnce(again, peer, rest)
    return { ...second, wallMs: second.wallMs + out.wallMs }
  }

  async #sendOnce(
    job: PreparedJob,
    peer: PeerId | string,
    { signal, reserved }: { signal?: AbortSignal; reserved?: JobChannel | undefined } = {},
  ): Promise<RemoteOutcome> {
    // Timers cleared when the job ends: an `AbortSignal.timeout` would keep the job's signals
    // (and what their listeners reach) alive for the whole 10-minute deadline.
    const deadlineCtl = new AbortController()
    const connectCtl = new AbortController()
    const timers = [
      setTimeout(
        () => deadlineCtl.abort(new Error('deadline')),
        (this.#o.deadlineMs ?? 600_000) + 30_000,
      ),
      setTimeout(
        () => connectCtl.abort(new Error('connect timeout')),
        this.#o.connectTimeoutMs ?? 10_000,
      ),
    ]
    try {
      return await this.#sendWithin(
        job,
        peer,
        signal,
        deadlineCtl.signal,
        connectCtl.signal,
        reserved,
      )
    } finally {
      for (const t of timers) clearTimeout(t)
    }
  }

  async #sendWithin(
    job: PreparedJob,
    peer: PeerId | string,
    signal: AbortSignal | undefined,
    deadline: AbortSignal,
    connectTimeout: AbortSignal,
    reserved: JobChannel | undefined,
  ): Promise<RemoteOutcome> {
    const target = typeof peer === 'string' ? peerIdFromString(peer) : peer
    const started = performance.now()
    const all = signal === undefined ? deadline : AbortSignal.any([signal, deadline])
    let channel: JobChannel
    if (reserved !== undefined && reserved.peer === target.toString() && reserved.usable) {
      channel = reserved
    } else {
      // No reservation, or one the builder dropped (it resets a reservation whose job is very
      // late): a fresh stream, the reservation and the request in one write. (The placement
      // disposes of an unused lease when it releases the slot.)
      channel = await this.#open(target, signal, AbortSignal.any([all, connectTimeout]))
    }
    const request = {
      v: RESERVE_VERSION,
      toolchain: job.fields?.toolchain ?? NO_TOOLCHAIN,
    }
    let response: JobResponse
    try {
      response = await channel.exchange(job, request, {
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

  /** A job stream to `target` on its open connection, checked to lead to that member. */
  async #open(
    target: PeerId,
    signal: AbortSignal | undefined,
    connectBy: AbortSignal,
  ): Promise<JobChannel> {
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
    try {
      const stream = await conn.newStream(JOB_PROTOCOL, { signal: connectBy })
      return new JobChannel(stream, `${target}`)
    } catch (cause) {
      return unreachable(cause)
    }
  }

  /**
   * Writes what the remote compile produced, as a local compile would have left it. With
   * `writeDepfile: false` the depfile made while preprocessing (`job.depfile`) is left to the
   * caller, who has its bytes.
   */
  async commit(
    job: PreparedJob,
    out: RemoteOutcome,
    { umask, writeDepfile = true }: { umask: number; writeDepfile?: boolean },
  ): Promise<void> {
    if (out.exitCode !== 0) {
      // gcc and clang delete their output when a compile fails.
      for (const o of job.outputs) if (!o.optional) await unlink(o.path).catch(() => {})
      return
    }
    for (const o of job.outputs) {
      const data = out.outputs.get(o.path)
      if (data !== undefined) writeOutputAtomic(o.path, data, umask)
    }
    if (job.depfile !== undefined && writeDepfile)
      writeOutputAtomic(job.depfile.path, job.depfile.data, umask)
  }
}

/** A job's fields before its input, and whether a head can go ahead of it. */
interface Described {
  fields: JobRequest
  shipped: Map<string, Buffer> | undefined
  style: Awaited<ReturnType<typeof diagStyle>> | undefined
  head: JobHead | undefined
}

/** One synchronous stat: a thread-pool round trip per output sat on the job's critical path. */
function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

function text(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
