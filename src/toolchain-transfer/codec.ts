/**
 * Optional zstd compression of pieces on the wire (`node:zlib`, run on libuv's thread pool so
 * the event loop keeps moving other streams). Toolchain binaries shrink to about 40 % at level 1,
 * which compresses ~250 MiB/s per core here: worth it on a real network, not on loopback, so the
 * requester decides per holder whether to ask for it. Hashes are always over decoded bytes, and
 * decoding is bounded by the size the requester expects, so a compressed reply cannot inflate
 * beyond it.
 */
import { promisify } from 'node:util'
import { constants, zstdCompress, zstdDecompress } from 'node:zlib'
import { BlobProtocolError } from '../errors.ts'
import type { Encoding } from './wire.ts'

const compress = promisify(zstdCompress)
const decompress = promisify(zstdDecompress)

/** zlib's output buffer size for a piece of `size` bytes (its minimum is 64 bytes). */
function outputChunk(size: number): number {
  return Math.min(Math.max(size, 64 * 1024), 8 * 1024 * 1024)
}

/** Pieces smaller than this go as they are: compression would cost more than it saves. */
const MIN_COMPRESS_BYTES = 4 * 1024

export async function encodePiece(
  raw: Uint8Array,
  accepted: readonly Encoding[],
  level = 1,
): Promise<{ enc: Encoding; body: Uint8Array }> {
  if (!accepted.includes('zstd') || raw.byteLength < MIN_COMPRESS_BYTES)
    return { enc: 'identity', body: raw }
  // One output buffer for the whole piece: the default 16 KiB would cost a thread-pool round
  // trip and a buffer per 16 KiB.
  const packed = await compress(raw, {
    chunkSize: outputChunk(raw.byteLength),
    params: { [constants.ZSTD_c_compressionLevel]: level },
  })
  // Not worth a decode on the other side unless it saves a tenth.
  if (packed.byteLength > raw.byteLength * 0.9) return { enc: 'identity', body: raw }
  return { enc: 'zstd', body: packed }
}

export async function decodePiece(
  body: Uint8Array,
  enc: Encoding,
  size: number,
): Promise<Uint8Array> {
  if (enc === 'identity') return body
  let out: Buffer
  try {
    out = await decompress(body, {
      maxOutputLength: Math.max(size, 1),
      chunkSize: outputChunk(size),
    })
  } catch (err) {
    throw new BlobProtocolError(`undecodable zstd piece: ${(err as Error).message}`)
  }
  if (out.byteLength !== size)
    throw new BlobProtocolError(`zstd piece decoded to ${out.byteLength} bytes, not ${size}`)
  return out
}
