/**
 * zstd for job blobs (Node's built-in binding, off the main thread). Decompression is bounded by
 * the size the sender declared, which the codec has already checked against the limits, and the
 * result must have exactly that size: a blob that inflates past its claim is refused before it
 * can take more memory than the claim allowed.
 */
import { promisify } from 'node:util'
import { constants, zstdCompress, zstdDecompress } from 'node:zlib'
import { JobCodecError } from '../errors.ts'
import type { Blob } from './job-codec.ts'

const compress = promisify(zstdCompress)
const decompress = promisify(zstdDecompress)

/** Fast level: on a LAN the client's CPU, not bandwidth, limits how wide a build spreads. */
const LEVEL = 3

export async function packBlob(data: Uint8Array): Promise<Blob> {
  if (data.byteLength === 0) return { size: 0, data: new Uint8Array(0) }
  const packed = await compress(data, {
    params: {
      [constants.ZSTD_c_compressionLevel]: LEVEL,
      [constants.ZSTD_c_checksumFlag]: 1,
    },
  })
  return { size: data.byteLength, data: packed }
}

export async function unpackBlob(blob: Blob, what: string): Promise<Buffer> {
  if (blob.size === 0 && blob.data.byteLength === 0) return Buffer.alloc(0)
  let out: Buffer
  try {
    out = await decompress(blob.data, { maxOutputLength: Math.max(1, blob.size) })
  } catch (cause) {
    throw new JobCodecError(`${what}: not valid zstd data of ${blob.size} bytes`, { cause })
  }
  if (out.length !== blob.size)
    throw new JobCodecError(`${what}: decompressed to ${out.length} bytes, ${blob.size} declared`)
  return out
}
