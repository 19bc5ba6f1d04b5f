/**
 * zstd for job blobs (Node's built-in binding). Decompression is bounded by the size the sender
 * declared, which the codec has already checked against the limits, and the result must have
 * exactly that size: a blob that inflates past its claim is refused before it can take more
 * memory than the claim allowed.
 *
 * Large blobs (a preprocessed unit: megabytes) are compressed in the threadpool, off the main
 * thread. Small ones (an object file, a main source, a small unit) are done on the spot: the
 * threadpool's stream machinery and the compressor set up for an unknown size cost several
 * times the compression itself there.
 */
import { promisify } from 'node:util'
import {
  constants,
  zstdCompress,
  zstdCompressSync,
  zstdDecompress,
  zstdDecompressSync,
} from 'node:zlib'
import { JobCodecError } from '../errors.ts'
import type { Blob } from './job-codec.ts'

const compress = promisify(zstdCompress)
const decompress = promisify(zstdDecompress)

/**
 * Fast level: on a LAN the client's CPU, not bandwidth, limits how wide a build spreads. On the
 * 2.4–2.9 MB of a yaml-cpp unit level 1 takes 6.0–6.4 ms against 8.4–9.3 ms at level 3, for
 * 10 % more bytes (5.7–5.9 times smaller instead of 6.3–6.4).
 */
const LEVEL = 1

/** Up to this many bytes (of input, or of declared output) the work is done synchronously. */
export const SYNC_BYTES = 128 * 1024

/**
 * zlib's output buffer for compressing `size` bytes that shrink at least `ratio` times
 * (preprocessed C and C++ shrink 5 to 6 times at level 1). Each buffer filled is one trip
 * between the threadpool and the main thread and one more piece to concatenate: at the default
 * 16 KiB, the 2.6 MB of a C++ unit took some thirty of each, a third more CPU than the
 * compression itself.
 */
export function outputChunk(size: number, ratio: number): number {
  return Math.min(8 * 2 ** 20, Math.max(16 * 1024, Math.ceil(size / ratio)))
}

export async function packBlob(data: Uint8Array): Promise<Blob> {
  if (data.byteLength === 0) return { size: 0, data: new Uint8Array(0) }
  const params = {
    [constants.ZSTD_c_compressionLevel]: LEVEL,
    [constants.ZSTD_c_checksumFlag]: 1,
  }
  const packed =
    data.byteLength <= SYNC_BYTES
      ? zstdCompressSync(data, { params })
      : await compress(data, {
          chunkSize: outputChunk(data.byteLength, 4),
          pledgedSrcSize: data.byteLength,
          params,
        })
  return { size: data.byteLength, data: packed }
}

export async function unpackBlob(blob: Blob, what: string): Promise<Buffer> {
  if (blob.size === 0 && blob.data.byteLength === 0) return Buffer.alloc(0)
  let out: Buffer
  // One output buffer of the declared size (plus the byte that shows it is not exceeded).
  const opts = {
    maxOutputLength: Math.max(1, blob.size),
    chunkSize: Math.min(64 * 2 ** 20, Math.max(64, blob.size + 1)),
  }
  try {
    out =
      blob.size <= SYNC_BYTES
        ? zstdDecompressSync(blob.data, opts)
        : await decompress(blob.data, opts)
  } catch (cause) {
    throw new JobCodecError(`${what}: not valid zstd data of ${blob.size} bytes`, { cause })
  }
  if (out.length !== blob.size)
    throw new JobCodecError(`${what}: decompressed to ${out.length} bytes, ${blob.size} declared`)
  return out
}
