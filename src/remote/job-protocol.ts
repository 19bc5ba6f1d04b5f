/**
 * `/meshcc/job/2.0.0`: one stream per remote job, on the already-open, admitted connection, that
 * first reserves a compile slot and then carries the job:
 *
 * 1. client → builder: a reservation (`reserve-codec.ts`: toolchain, estimate);
 * 2. builder → client, at once: granted, busy or refused (it never waits for a slot). A grant
 *    holds one slot for this stream: for the reservation's TTL, or until the stream closes;
 * 3. client → builder, when its preprocessing is done: the job request, then it half-closes.
 *    A grant that offers `early-start` may instead get the request's head at once (every field
 *    but the input: the builder starts the compiler, which waits in its first read) and the
 *    input when the preprocessing is done;
 * 4. builder → client: keepalive frames while it works (yamux resets a stream idle for too long,
 *    and the client needs a sign of life to tell a long compile from a stalled builder), then
 *    one response, and it closes.
 *
 * The reservation opens the stream while the client preprocesses, so its round trips (stream
 * negotiation and the answer) cost no wall time; the job itself is then one write on a stream
 * already open. A job sent without a reservation (a second send with more sources, see
 * `remote-executor.ts`) writes the reservation and the request together, in one write, and reads
 * the answer first: a full builder answers BUSY before it reads the request, and the client
 * stops sending.
 *
 * Both ends frame messages with `lpStream` and an explicit `maxDataLength`, and writes wait for
 * `drain` (byteStream honours `send()` returning false), so neither side buffers without bound.
 */
import type { Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { BuilderFailedError, JobCodecError } from '../errors.ts'
import { widenReceiveWindow } from '../mesh/stream-window.ts'
import {
  type Blob,
  decodeHead,
  decodeInput,
  decodeRequest,
  decodeResponse,
  emptyResponse,
  encodeKeepalive,
  encodeResponse,
  type JobRequest,
  type JobResponse,
  MSG_HEAD,
  MSG_KEEPALIVE,
  MSG_RESPONSE,
  messageType,
} from './job-codec.ts'
import { JOB_STREAM_WINDOW_BYTES, MAX_REQUEST_MESSAGE, MAX_RESPONSE_MESSAGE } from './job-limits.ts'
import {
  decodeReserveRequest,
  decodeReserveResponse,
  EARLY_START,
  encodeReserveRequest,
  encodeReserveResponse,
  MAX_RESERVE_MESSAGE,
  type ReserveRequest,
  type ReserveResponse,
} from './reserve-codec.ts'

export const JOB_PROTOCOL = '/meshcc/job/2.0.0'

/** Default interval of keepalive frames from the builder. */
export const KEEPALIVE_MS = 10_000

type Lp = ReturnType<typeof lpStream>

function frames(stream: Stream, max: number): Lp {
  // The byte buffer must hold one whole message: lpStream reads the length first, then waits.
  return lpStream(stream, { maxDataLength: max, maxBufferSize: max + 64 })
}

const sig = (signal: AbortSignal | undefined) => (signal === undefined ? {} : { signal })

// ---- builder side ------------------------------------------------------------------------------

export interface JobServerStream {
  /** Reads and decodes the reservation that opens the stream. Throws JobCodecError if malformed. */
  readReserve(options: { signal?: AbortSignal }): Promise<ReserveRequest>
  /** Answers the reservation (granted, busy or refused). */
  answerReserve(response: ReserveResponse, options?: { signal?: AbortSignal }): Promise<void>
  /**
   * Reads and decodes the request (bounded); throws JobCodecError on a malformed one. After a
   * head, `input` is the input still to come (it rejects with JobCodecError on a malformed one
   * or one of another job, and with the stream's error if none comes).
   */
  readRequest(options: {
    signal?: AbortSignal
  }): Promise<{ req: JobRequest; input?: Promise<Blob> }>
  /** Sends keepalive frames every `intervalMs` until the returned function is called. */
  keepalive(intervalMs: number): () => void
  /** Sends the response and closes the stream. */
  respond(response: JobResponse, options?: { signal?: AbortSignal }): Promise<void>
}

export function jobServerStream(stream: Stream): JobServerStream {
  const lp = frames(stream, MAX_REQUEST_MESSAGE)
  let writing: Promise<void> = Promise.resolve()
  const write = (bytes: Uint8Array, signal?: AbortSignal): Promise<void> => {
    // Serialise writes: a keepalive must never interleave with the response's bytes.
    const next = writing.then(() => lp.write(bytes, sig(signal)))
    writing = next.catch(() => {})
    return next
  }
  return {
    async readReserve({ signal }) {
      const msg = await lp.read(sig(signal))
      if (msg.byteLength > MAX_RESERVE_MESSAGE)
        throw new JobCodecError(`reservation of ${msg.byteLength} bytes is over the limit`)
      return decodeReserveRequest(msg.subarray())
    },
    answerReserve(response, { signal } = {}) {
      return write(encodeReserveResponse(response), signal)
    },
    async readRequest({ signal }) {
      const msg = (await lp.read(sig(signal))).subarray()
      if (messageType(msg) !== MSG_HEAD) return { req: decodeRequest(msg) }
      const req = decodeHead(msg)
      const input = lp.read(sig(signal)).then((next) => {
        const got = decodeInput(next.subarray())
        if (got.jobId !== req.jobId)
          throw new JobCodecError(`input of job ${got.jobId} after the head of ${req.jobId}`)
        return got.input
      })
      input.catch(() => {}) // the caller awaits it, or gives the job up
      return { req, input }
    },
    keepalive(intervalMs) {
      const timer = setInterval(() => {
        if (stream.writeStatus === 'writable') write(encodeKeepalive()).catch(() => {})
      }, intervalMs)
      timer.unref?.()
      return () => clearInterval(timer)
    },
    async respond(response, { signal } = {}) {
      await write(encodeResponse(response), signal)
      await stream.close(sig(signal))
    },
  }
}

// ---- client side ---------------------------------------------------------------------------------

/** A job's head as it goes on the wire, tagged with its job id. */
export interface JobHeadBytes {
  jobId: string
  bytes: Uint8Array
}

/**
 * The client's end of one job stream: reserve (`reserve`), then one job (`exchange`). Used once;
 * `abort` gives the slot back at once (the builder frees it when the stream resets).
 */
export class JobChannel {
  readonly stream: Stream
  /** The builder's peer id (the stream's connection was checked to lead there). */
  readonly peer: string
  readonly #lp: Lp
  #reserved = false
  #used = false
  /** The builder's grant offered `early-start`. */
  #early = false
  /** The job whose head went on this stream, and that write. */
  #head: { jobId: string; written: Promise<void> } | undefined

  constructor(stream: Stream, peer: string) {
    this.stream = stream
    this.peer = peer
    this.#lp = frames(stream, MAX_RESPONSE_MESSAGE)
  }

  /** True while a granted reservation waits for its job on an open stream. */
  get usable(): boolean {
    return (
      this.#reserved &&
      !this.#used &&
      this.stream.status === 'open' &&
      this.stream.writeStatus === 'writable' &&
      this.stream.remoteReadStatus === 'readable'
    )
  }

  /**
   * Asks for a slot and reads the builder's answer (throws on a malformed one or a reset).
   * `ahead`: the job's head, written right behind the reservation as soon as it is known,
   * without waiting for the grant (only for a builder known to take heads: one that offered
   * early start on this connection). Turned away, the stream is reset and the head with it.
   */
  async reserve(
    request: ReserveRequest,
    {
      signal,
      ahead,
    }: {
      signal?: AbortSignal | undefined
      ahead?: Promise<JobHeadBytes | undefined> | undefined
    } = {},
  ): Promise<ReserveResponse> {
    // Room for the object coming back, announced with the reservation (one socket write).
    widenReceiveWindow(this.stream, JOB_STREAM_WINDOW_BYTES)
    const asked = this.#lp.write(encodeReserveRequest(request), sig(signal))
    ahead?.then(
      (head) => {
        if (head === undefined || this.#head !== undefined || this.#used) return
        if (this.stream.writeStatus !== 'writable') return
        this.#writeHead(head.jobId, head.bytes)
      },
      () => {},
    )
    await asked
    const answer = decodeReserveAnswer((await this.#lp.read(sig(signal))).subarray())
    this.#reserved = answer.status === 'granted'
    this.#early = answer.status === 'granted' && answer.features?.includes(EARLY_START) === true
    return answer
  }

  /** The builder's grant offered early start. */
  get earlyStart(): boolean {
    return this.#early
  }

  /**
   * Sends the head of job `jobId` ahead of its input, when the grant offered that: the builder
   * starts the compile while the input is prepared. False when the head was not sent (then
   * `exchange` sends the whole request).
   */
  sendHead(jobId: string, head: Uint8Array): boolean {
    if (!this.#early || this.#head !== undefined || !this.usable) return false
    this.#writeHead(jobId, head)
    return true
  }

  /** True once a head went (or is going) on this stream. */
  get headSent(): boolean {
    return this.#head !== undefined
  }

  #writeHead(jobId: string, head: Uint8Array): void {
    const written = this.#lp.write(head)
    written.catch(() => {}) // the exchange's own write reports a broken stream
    this.#head = { jobId, written }
  }

  /**
   * Sends the job and waits for its response. Without a granted reservation the reservation
   * goes first in the same write, and a busy or refused answer comes back as an anonymous
   * response of that status.
   */
  async exchange(
    job: { jobId: string; request: Uint8Array; input?: Uint8Array | undefined },
    reserve: ReserveRequest,
    options: ExchangeOptions = {},
  ): Promise<JobResponse> {
    if (this.#used) throw new Error('job stream already used')
    this.#used = true
    if (this.#head !== undefined) {
      // Only the input of the job whose head went first; any other job would be refused.
      if (this.#head.jobId !== job.jobId || job.input === undefined)
        throw new BuilderFailedError('protocol', 'job stream carries the head of another job')
      try {
        await this.#head.written
      } catch (cause) {
        this.abort(cause)
        throw new BuilderFailedError('cut-off', `job head not sent: ${errText(cause)}`, { cause })
      }
      return exchangeJob(this.stream, this.#lp, [job.input], false, options)
    }
    const first = this.#reserved ? [job.request] : [encodeReserveRequest(reserve), job.request]
    return exchangeJob(this.stream, this.#lp, first, !this.#reserved, options)
  }

  /** Gives the reservation up (no job will come): the builder frees the slot. */
  abort(reason: unknown = new Error('reservation not used')): void {
    this.#used = true
    if (this.stream.status === 'open')
      this.stream.abort(reason instanceof Error ? reason : new Error(String(reason)))
  }

  /** Called by the placement when the slot is released: an unused reservation is given up. */
  dispose(): void {
    if (!this.#used) this.abort()
  }
}

export interface ExchangeOptions {
  signal?: AbortSignal
  /** No frame from the builder for this long means it stalled (default 3 × KEEPALIVE_MS). */
  stallMs?: number
}

function decodeReserveAnswer(msg: Uint8Array): ReserveResponse {
  try {
    return decodeReserveResponse(msg)
  } catch (cause) {
    throw new BuilderFailedError('protocol', `bad reservation answer: ${errText(cause)}`, {
      cause,
    })
  }
}

/**
 * Writes `first` (the request, after the reservation when `answerFirst`) in one write,
 * half-closes, and waits for the response, accepting keepalive frames meanwhile. Infrastructure
 * trouble (stream reset, builder gone, stall, garbage) becomes a BuilderFailedError; the caller
 * checks the response's job id and status.
 */
async function exchangeJob(
  stream: Stream,
  lp: Lp,
  first: Uint8Array[],
  answerFirst: boolean,
  { signal, stallMs = 3 * KEEPALIVE_MS }: ExchangeOptions,
): Promise<JobResponse> {
  const stop = new AbortController()
  const stopWriting = new AbortController()
  const onAbort = () => stop.abort(signal?.reason)
  signal?.addEventListener('abort', onAbort, { once: true })
  let stalled = false
  let timer: NodeJS.Timeout | undefined
  const arm = () => {
    clearTimeout(timer)
    timer = setTimeout(() => {
      stalled = true
      stop.abort(new Error('stalled'))
    }, stallMs)
  }
  let written = false
  let answered = false
  let awaitingAnswer = answerFirst
  const writeSignal = AbortSignal.any([stop.signal, stopWriting.signal])
  const writing = (async () => {
    // One write: the reservation (if any) and the request go out in the same frame.
    if (first.length === 1) await lp.write(first[0]!, { signal: writeSignal })
    else await lp.writeV(first, { signal: writeSignal })
    await stream.close({ signal: writeSignal })
    written = true
  })()
  // A write error matters only if no response explains it (BUSY arrives while we still write).
  let writeError: unknown
  writing.catch((err: unknown) => {
    writeError = err
  })
  try {
    arm()
    for (;;) {
      let msg: Uint8Array
      try {
        msg = (await lp.read({ signal: stop.signal })).subarray()
      } catch (cause) {
        if (signal?.aborted) throw signal.reason
        if (stalled)
          throw new BuilderFailedError('deadline', `builder sent nothing for ${stallMs} ms`, {
            cause,
          })
        if (cause instanceof JobCodecError || isLengthError(cause))
          throw new BuilderFailedError('protocol', `bad frame from builder: ${errText(cause)}`, {
            cause,
          })
        throw new BuilderFailedError(
          'cut-off',
          `job stream ended: ${errText(writeError ?? cause)}`,
          { cause },
        )
      }
      arm()
      if (awaitingAnswer) {
        awaitingAnswer = false
        const answer = decodeReserveAnswer(msg)
        if (answer.status === 'granted') continue
        answered = true
        return emptyResponse(
          '-',
          answer.status,
          answer.status === 'busy' ? 'no free slot' : 'its sandbox does not run jobs',
        )
      }
      let type: number
      try {
        type = messageType(msg)
      } catch (cause) {
        throw new BuilderFailedError('protocol', 'empty frame from builder', { cause })
      }
      if (type === MSG_KEEPALIVE && msg.byteLength === 1) continue
      if (type !== MSG_RESPONSE)
        throw new BuilderFailedError('protocol', `unexpected frame type ${type} from builder`)
      try {
        const response = decodeResponse(msg)
        answered = true
        return response
      } catch (cause) {
        throw new BuilderFailedError('protocol', `bad response: ${errText(cause)}`, { cause })
      }
    }
  } finally {
    clearTimeout(timer)
    signal?.removeEventListener('abort', onAbort)
    if (!written || !answered) {
      // Answered before we finished sending (BUSY), or given up (stall, bad frame, abort): the
      // builder learns at once that nobody waits for this job and frees its slot.
      stopWriting.abort()
      await writing.catch(() => {})
      stream.abort(new Error('job exchange ended'))
    }
  }
}

function isLengthError(err: unknown): boolean {
  const name = (err as { name?: string } | null)?.name ?? ''
  return /InvalidDataLength|InvalidMessageLength|StreamBuffer/.test(name)
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
