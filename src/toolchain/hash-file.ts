/**
 * Hashes a file the way a manifest describes it: SHA-256 of the whole content and, for files
 * over 4 MiB, SHA-256 of each 1 MiB chunk, in one streaming pass.
 */
import { createHash, type Hash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { CHUNK_SIZE, CHUNKED_FILE_THRESHOLD } from './limits.ts'

export interface FileDigest {
  size: number
  sha256: string
  chunks?: string[]
}

/** Incremental digest: feed bytes in order, then `finish()`. */
export class DigestBuilder {
  #whole = createHash('sha256')
  #chunk: Hash = createHash('sha256')
  #inChunk = 0
  #chunks: string[] = []
  size = 0

  update(buf: Uint8Array): void {
    this.#whole.update(buf)
    this.size += buf.byteLength
    let off = 0
    while (off < buf.byteLength) {
      const take = Math.min(CHUNK_SIZE - this.#inChunk, buf.byteLength - off)
      this.#chunk.update(buf.subarray(off, off + take))
      this.#inChunk += take
      off += take
      if (this.#inChunk === CHUNK_SIZE) {
        this.#chunks.push(this.#chunk.digest('hex'))
        this.#chunk = createHash('sha256')
        this.#inChunk = 0
      }
    }
  }

  finish(): FileDigest {
    if (this.#inChunk > 0) this.#chunks.push(this.#chunk.digest('hex'))
    const sha256 = this.#whole.digest('hex')
    return this.size > CHUNKED_FILE_THRESHOLD
      ? { size: this.size, sha256, chunks: this.#chunks }
      : { size: this.size, sha256 }
  }
}

export async function hashFile(
  path: string,
  { signal, onBytes }: { signal?: AbortSignal; onBytes?: (n: number) => void } = {},
): Promise<FileDigest> {
  const d = new DigestBuilder()
  const stream = createReadStream(path, {
    highWaterMark: CHUNK_SIZE,
    ...(signal ? { signal } : {}),
  })
  for await (const buf of stream as AsyncIterable<Buffer>) {
    d.update(buf)
    onBytes?.(buf.byteLength)
  }
  return d.finish()
}
