/**
 * `/meshcc/job/1.0.0` on one stream of the already-open, admitted connection: the client writes
 * one request and half-closes; the builder answers with keepalive frames while it works (yamux
 * resets a stream idle for 120 s, and the client needs a sign of life to tell a long compile
 * from a stalled builder) and then one response. No other round trip.
 *
 * Both ends frame messages with `lpStream` and an explicit `maxDataLength`, and writes wait for
 * `drain` (byteStream honours `send()` returning false), so neither side buffers without bound.
 * The client reads while it writes: a builder that is full answers BUSY at once, before it has
 * read the request, and the client stops sending.
 */
import type { Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { BuilderFailedError, JobCodecError } from '../errors.ts'
import {
  decodeRequest,
  decodeResponse,
  encodeKeepalive,
  encodeResponse,
  type JobRequest,
  type JobResponse,
  MSG_KEEPALIVE,
  MSG_RESPONSE,
  messageType,
} from './job-codec.ts'
import { MAX_REQUEST_MESSAGE, MAX_RESPONSE_MESSAGE } from './job-limits.ts'

export const JOB_PROTOCOL = '/meshcc/job/1.0.0'

/** Default interval of keepalive frames from the builder. */
export const KEEPALIVE_MS = 10_000

type Lp = ReturnType<typeof lpStream>

function frames(stream: Stream, max: number): Lp {
  // The byte buffer must hold one whole message: lpStream reads the length first, then waits.
  return lpStream(stream, { maxDataLength: max, maxBufferSize: max + 64 })
}

// ---- builder side ------------------------------------------------------------------------------

export interface JobServerStream {
  /** Reads and decodes the request (bounded). Throws JobCodecError on a malformed one. */
  readRequest(options: { signal?: AbortSignal }): Promise<JobRequest>
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
    const next = writing.then(() => lp.write(bytes, signal === undefined ? {} : { signal }))
    writing = next.catch(() => {})
    return next
  }
  return {
    async readRequest({ signal }) {
      const msg = await lp.read(signal === undefined ? {} : { signal })
      return decodeRequest(msg.subarray())
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
      await stream.close(signal === undefined ? {} : { signal })
    },
  }
}

// ---- client side ---------------------------------------------------------------------------------

export interface ExchangeOptions {
  signal?: AbortSignal
  /** No frame from the builder for this long means it stalled (default 3 × KEEPALIVE_MS). */
  stallMs?: number
}

/**
 * Sends an encoded request and waits for the response, accepting keepalive frames meanwhile.
 * Infrastructure trouble (stream reset, builder gone, stall, garbage) becomes a
 * BuilderFailedError; the caller checks the response's job id and status.
 */
export async function exchangeJob(
  stream: Stream,
  request: Uint8Array,
  { signal, stallMs = 3 * KEEPALIVE_MS }: ExchangeOptions = {},
): Promise<JobResponse> {
  const lp = frames(stream, MAX_RESPONSE_MESSAGE)
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
  const writing = (async () => {
    await lp.write(request, { signal: AbortSignal.any([stop.signal, stopWriting.signal]) })
    await stream.close({ signal: AbortSignal.any([stop.signal, stopWriting.signal]) })
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
          {
            cause,
          },
        )
      }
      arm()
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
