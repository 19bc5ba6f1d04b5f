/**
 * Framing shared by meshcc's small request/response protocols (`/meshcc/enroll/1.0.0`,
 * `/meshcc/renew/1.0.0`): one length-prefixed JSON frame each way, bounded on both sides,
 * binary fields in base64url, a version field `v`, and a deadline on every read and write.
 * Decoders never throw: anything oversize, non-UTF-8, non-JSON or not an object is undefined.
 *
 * @example
 * ```ts
 * const reply = await requestOnce(connection, PROTOCOL, encodeJsonFrame({ v: 1, x }), {
 *   maxReplyBytes: 24 * 1024, timeoutMs: 5_000,
 * })
 * const o = parseJsonFrame(reply) // Record<string, unknown> | undefined
 * ```
 */
import type { Connection, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/** One JSON object as frame bytes. */
export function encodeJsonFrame(value: Record<string, unknown>): Uint8Array {
  return encoder.encode(JSON.stringify(value))
}

/** The JSON object in a frame, or undefined for anything else (never throws). */
export function parseJsonFrame(bytes: Uint8Array): Record<string, unknown> | undefined {
  try {
    const o: unknown = JSON.parse(decoder.decode(bytes))
    return typeof o === 'object' && o !== null && !Array.isArray(o)
      ? (o as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

export interface RequestOnceOptions {
  /** Largest reply accepted; a longer one fails the read. */
  maxReplyBytes: number
  /** Deadline of the whole exchange. */
  timeoutMs: number
  signal?: AbortSignal
}

/** Opens `protocol` on `connection`, sends one frame and returns the one frame answered. */
export async function requestOnce(
  connection: Connection,
  protocol: string,
  request: Uint8Array,
  { maxReplyBytes, timeoutMs, signal }: RequestOnceOptions,
): Promise<Uint8Array> {
  const step = AbortSignal.timeout(timeoutMs)
  const s = signal === undefined ? step : AbortSignal.any([signal, step])
  const stream = await connection.newStream(protocol, { signal: s })
  try {
    const lp = lpStream(stream, { maxDataLength: maxReplyBytes })
    await lp.write(request, { signal: s })
    const reply = (await lp.read({ signal: s })).subarray()
    await stream.close({ signal: s }).catch(() => {})
    return reply
  } catch (err) {
    stream.abort(err as Error)
    throw err
  }
}

export interface AnswerOnceOptions {
  /** Largest request accepted: a longer one is answered as `undefined` (malformed). */
  maxRequestBytes: number
  /** Largest frame the stream reads at all (a bigger length prefix fails the read). */
  maxFrameBytes: number
  timeoutMs: number
}

/**
 * Reads one request frame from `stream`, passes it (undefined when oversize) to `answer`, and
 * writes the frame `answer` returns. A reset, EOF or timeout rejects (aborting the stream).
 */
export async function answerOnce(
  stream: Stream,
  { maxRequestBytes, maxFrameBytes, timeoutMs }: AnswerOnceOptions,
  answer: (request: Uint8Array | undefined) => Promise<Uint8Array>,
): Promise<void> {
  const signal = AbortSignal.timeout(timeoutMs)
  const lp = lpStream(stream, { maxDataLength: Math.max(maxRequestBytes, maxFrameBytes) })
  const bytes = (await lp.read({ signal })).subarray()
  const reply = await answer(bytes.length <= maxRequestBytes ? bytes : undefined)
  await lp.write(reply, { signal })
  await stream.close({ signal }).catch(() => {})
}
