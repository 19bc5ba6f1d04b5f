/**
 * The serving side of `/meshcc/blob/1.0.0`: answers requests for toolchain manifests and file
 * chunks from this node's store, to admitted members only (the handler is wrapped in
 * `requireMember`, so a stream from anyone else is aborted before a byte is read).
 *
 * Each stream serves one request at a time (see `wire.ts`); a request is at most 1 KiB, a piece
 * is read from the store only after its request validated, and a body is written in 64 KiB slices
 * that wait for the transport to drain, so a member that stops reading holds at most one piece
 * in memory here and is cut off after `idleMs`. Unknown pieces get `not-found` and the stream
 * stays usable; malformed requests end it.
 *
 * @example
 * ```ts
 * const server = await serveBlobs(mesh, store)
 * // …
 * await server.stop()
 * ```
 */
import type { Connection, Stream } from '@libp2p/interface'
import { byteStream } from '@libp2p/utils'
import { BlobProtocolError, ToolchainNotFoundError } from '../errors.ts'
import type { Admission } from '../mesh/admission.ts'
import type { MeshNode } from '../mesh/create-node.ts'
import { requireMember } from '../mesh/require-member.ts'
import { PieceCache } from './piece-cache.ts'
import {
  BLOB_PROTOCOL,
  type BlobRequest,
  type Encoding,
  encodeFrame,
  parseRequest,
  readFrame,
  sendPiece,
} from './wire.ts'

/** What the server reads pieces from: the toolchain store (or a test double of it). */
export interface BlobSource {
  getManifest(id: string): Promise<{ bytes: Uint8Array }>
  readChunk(fileSha256: string, index: number): Promise<Uint8Array>
}

export interface ServedPiece {
  peer: string
  op: BlobRequest['op']
  /** Bytes of the piece, and bytes actually sent (less when compressed). */
  size: number
  wireBytes: number
}

export interface BlobServerOptions {
  /** Concurrent blob streams one connection may open. Default 32. */
  maxInboundStreams?: number
  /** How long a stream may sit between requests, or stall while a body drains. Default 60 s. */
  idleMs?: number
  onServed?: (piece: ServedPiece) => void
  /** Compressed pieces kept for the next requester, in bytes. Default 64 MiB. */
  cacheBytes?: number
  /** The piece cache to use (shared with the node's packing of its own toolchains). */
  cache?: PieceCache
}

export interface BlobServer {
  /** Pieces served since start. */
  served(): { pieces: number; bytes: number; wireBytes: number }
  stop(): Promise<void>
}

/** Registers the gated handler on the mesh's node. */
export async function serveBlobs(
  mesh: { node: MeshNode; admission: Admission },
  source: BlobSource,
  options: BlobServerOptions = {},
): Promise<BlobServer> {
  const totals = { pieces: 0, bytes: 0, wireBytes: 0 }
  const handler = blobHandler(source, {
    ...options,
    onServed: (p) => {
      totals.pieces++
      totals.bytes += p.size
      totals.wireBytes += p.wireBytes
      options.onServed?.(p)
    },
  })
  await mesh.node.handle(BLOB_PROTOCOL, requireMember(mesh.admission, handler), {
    maxInboundStreams: options.maxInboundStreams ?? 32,
    // Our own fetcher opens several streams per holder, plus room for a second transfer.
    maxOutboundStreams: 64,
  })
  return {
    served: () => ({ ...totals }),
    stop: async () => {
      await mesh.node.unhandle(BLOB_PROTOCOL)
    },
  }
}

/** The ungated handler (tests drive it over a stream pair; the node gets it via serveBlobs). */
export function blobHandler(
  source: BlobSource,
  {
    idleMs = 60_000,
    onServed,
    cacheBytes,
    cache = new PieceCache(cacheBytes),
  }: BlobServerOptions = {},
): (stream: Stream, connection: Connection) => Promise<void> {
  return async (stream, connection) => {
    const peer = connection.remotePeer.toString()
    const bytes = byteStream(stream, { maxBufferSize: 64 * 1024 })
    // One timer per stream, pushed back at every step: a stream that sits idle, or a member that
    // stops reading, is cut off after idleMs (per-request AbortSignals cost more than the work).
    const idle = setTimeout(() => stream.abort(new BlobProtocolError('blob stream idle')), idleMs)
    idle.unref()
    try {
      for (;;) {
        const raw = await readFrame(bytes, stream)
        if (raw === null) break
        idle.refresh()
        let req: BlobRequest
        try {
          req = parseRequest(raw)
        } catch (err) {
          await sendPiece(stream, encodeFrame({ ok: false, error: 'bad-request' }))
          stream.abort(err as Error)
          return
        }
        let piece: { enc: Encoding; body: Uint8Array; size: number }
        try {
          const r = req
          piece =
            r.op === 'manifest'
              ? await cache.encode(
                  `m/${r.id}`,
                  async () => (await source.getManifest(r.id)).bytes,
                  r.enc,
                )
              : await cache.encode(
                  `${r.file}/${r.index}`,
                  () => source.readChunk(r.file, r.index),
                  r.enc,
                )
        } catch (err) {
          const error = err instanceof ToolchainNotFoundError ? 'not-found' : 'internal'
          await sendPiece(stream, encodeFrame({ ok: false, error }))
          continue
        }
        const { enc, body, size } = piece
        await sendPiece(
          stream,
          encodeFrame({ ok: true, len: body.byteLength, size, enc }),
          body,
          idle,
        )
        onServed?.({ peer, op: req.op, size, wireBytes: body.byteLength })
        idle.refresh()
      }
      await stream.close()
    } catch (err) {
      stream.abort(err as Error)
    } finally {
      clearTimeout(idle)
    }
  }
}
