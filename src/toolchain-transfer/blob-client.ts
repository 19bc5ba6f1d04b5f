/**
 * The requesting side of `/meshcc/blob/1.0.0`: one {@link BlobSession} is one stream to one
 * holder, carrying one request at a time. A reply is checked before its body is read: a chunk
 * must be exactly the size the manifest says, a manifest at most the manifest limit, a compressed
 * body no larger than the piece; so a holder can never make us buffer more than we asked for.
 * Content hashes are checked by the caller (the store verifies every chunk before writing it,
 * the fetcher verifies the manifest against the id).
 *
 * A `not-found` reply raises {@link ToolchainNotFoundError} and leaves the session usable; any
 * other failure (timeout, reset, malformed reply) marks it broken.
 */
import type { Connection, Stream } from '@libp2p/interface'
import { type ByteStream, byteStream } from '@libp2p/utils'
import { BlobProtocolError, ToolchainNotFoundError } from '../errors.ts'
import { MAX_MANIFEST_BYTES } from '../toolchain/limits.ts'
import { decodePiece } from './codec.ts'
import {
  BLOB_PROTOCOL,
  type BlobRequest,
  type Encoding,
  encodeFrame,
  parseReply,
  readBody,
  readFrame,
} from './wire.ts'

export interface SessionOptions {
  /** Ask the holder for zstd-compressed pieces. */
  compress?: boolean
  /** Deadline of one request, reply body included. Default 30 s. */
  requestTimeoutMs?: number
}

export class BlobSession {
  readonly peer: string
  readonly #stream: Stream
  readonly #bytes: ByteStream<Stream>
  readonly #enc: Encoding[]
  readonly #timeoutMs: number
  #busy = false
  #broken: Error | undefined
  /** Bytes received on the wire (bodies, after any compression). */
  wireBytes = 0

  constructor(stream: Stream, peer: string, options: SessionOptions = {}) {
    this.peer = peer
    this.#stream = stream
    // One reply at a time: the buffer only ever holds one piece and the next header.
    this.#bytes = byteStream(stream, { maxBufferSize: 8 * 1024 * 1024 })
    this.#enc = options.compress ? ['zstd'] : []
    this.#timeoutMs = options.requestTimeoutMs ?? 30_000
  }

  static async open(
    connection: Connection,
    options: SessionOptions & { signal?: AbortSignal } = {},
  ): Promise<BlobSession> {
    const stream = await connection.newStream(BLOB_PROTOCOL, {
      ...(options.signal ? { signal: options.signal } : {}),
    })
    return new BlobSession(stream, connection.remotePeer.toString(), options)
  }

  get broken(): boolean {
    return this.#broken !== undefined
  }

  /** The manifest bytes of toolchain `id` (unverified: the caller hashes them). */
  async manifest(id: string, { signal }: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    return (await this.#exchange({ op: 'manifest', id, enc: this.#enc }, undefined, signal)).bytes
  }

  /** Chunk `index` of the file `fileSha256`, which must be `size` bytes (unverified). */
  async chunk(
    fileSha256: string,
    index: number,
    size: number,
    { signal }: { signal?: AbortSignal } = {},
  ): Promise<Uint8Array> {
    return (await this.chunkPacked(fileSha256, index, size, signal ? { signal } : {})).bytes
  }

  /** Like {@link chunk}, with the zstd frame it came in when the holder compressed it. */
  async chunkPacked(
    fileSha256: string,
    index: number,
    size: number,
    { signal }: { signal?: AbortSignal } = {},
  ): Promise<{ bytes: Uint8Array; packed: Uint8Array | undefined }> {
    const req: BlobRequest = { op: 'chunk', file: fileSha256, index, enc: this.#enc }
    return this.#exchange(req, size, signal)
  }

  async close(): Promise<void> {
    if (this.#broken) return
    this.#broken = new BlobProtocolError('session closed')
    await this.#stream.close({ signal: AbortSignal.timeout(2_000) }).catch(() => {
      this.#stream.abort(new BlobProtocolError('close timed out'))
    })
  }

  abort(err: Error): void {
    this.#broken ??= err
    this.#stream.abort(err)
  }

  async #exchange(
    req: BlobRequest,
    expectSize: number | undefined,
    outer: AbortSignal | undefined,
  ): Promise<{ bytes: Uint8Array; packed: Uint8Array | undefined }> {
    if (this.#broken) throw this.#broken
    if (this.#busy) throw new BlobProtocolError('one request at a time per session')
    this.#busy = true
    outer?.throwIfAborted()
    // A timer and a listener that end the stream, rather than signals threaded through every
    // read: per-request AbortSignals cost more than a small piece's whole exchange.
    const timer = setTimeout(
      () => this.abort(new BlobProtocolError(`${this.peer} did not answer in time`)),
      this.#timeoutMs,
    )
    const onAbort = (): void => this.abort(outer?.reason ?? new Error('aborted'))
    outer?.addEventListener('abort', onAbort, { once: true })
    try {
      if (!this.#stream.send(encodeFrame(req))) await this.#stream.onDrain()
      const frame = await readFrame(this.#bytes, this.#stream)
      if (frame === null)
        throw this.#broken ?? new BlobProtocolError(`${this.peer} closed the stream`)
      const reply = parseReply(frame)
      if (!reply.ok) {
        if (reply.error === 'not-found')
          throw new ToolchainNotFoundError(`${this.peer} does not hold ${describe(req)}`)
        throw new BlobProtocolError(`${this.peer} answered ${reply.error} for ${describe(req)}`)
      }
      const limit = expectSize ?? MAX_MANIFEST_BYTES
      if (expectSize !== undefined ? reply.size !== expectSize : reply.size > limit)
        throw new BlobProtocolError(`${this.peer} sent ${reply.size} bytes for ${describe(req)}`)
      if (reply.len > reply.size + 1024)
        throw new BlobProtocolError(`${this.peer} sent an inflated body for ${describe(req)}`)
      const body = await readBody(this.#bytes, reply.len)
      this.wireBytes += body.byteLength
      const bytes = await decodePiece(body, reply.enc, reply.size)
      return { bytes, packed: reply.enc === 'zstd' ? body : undefined }
    } catch (err) {
      if (!(err instanceof ToolchainNotFoundError)) this.abort(err as Error)
      throw err
    } finally {
      clearTimeout(timer)
      outer?.removeEventListener('abort', onAbort)
      this.#busy = false
    }
  }
}

function describe(req: BlobRequest): string {
  return req.op === 'manifest'
    ? `manifest ${req.id.slice(0, 12)}`
    : `chunk ${req.index} of ${req.file.slice(0, 12)}`
}
