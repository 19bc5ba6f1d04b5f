/**
 * Compressed pieces a holder has sent recently, so that ten builders pulling the same toolchain
 * at once cost one compression per chunk, not ten. Bounded by bytes, least recently used out
 * first. A piece that did not compress well is remembered as such (no bytes kept), so the holder
 * does not try again. Pieces are content-addressed (file hash + index), so an entry never goes
 * stale.
 */
import { encodePiece } from './codec.ts'
import type { Encoding } from './wire.ts'

interface Entry {
  enc: Encoding
  /** Compressed bytes; undefined when the piece goes uncompressed. */
  body: Uint8Array | undefined
  size: number
}

export class PieceCache {
  readonly #maxBytes: number
  readonly #entries = new Map<string, Entry>()
  #bytes = 0

  constructor(maxBytes = 64 * 1024 * 1024) {
    this.#maxBytes = maxBytes
  }

  get bytes(): number {
    return this.#bytes
  }

  /** The piece as sent to a requester accepting `accepted`, compressing at most once. */
  async encode(
    key: string,
    raw: () => Promise<Uint8Array>,
    accepted: readonly Encoding[],
  ): Promise<{ enc: Encoding; body: Uint8Array; size: number; hit: boolean }> {
    const wantsZstd = accepted.includes('zstd')
    const hit = wantsZstd ? this.#entries.get(key) : undefined
    if (hit !== undefined) {
      this.#entries.delete(key)
      this.#entries.set(key, hit)
      if (hit.body !== undefined) return { enc: hit.enc, body: hit.body, size: hit.size, hit: true }
    }
    const piece = await raw()
    if (!wantsZstd || hit !== undefined)
      return { enc: 'identity', body: piece, size: piece.byteLength, hit: hit !== undefined }
    const out = await encodePiece(piece, accepted)
    const body = out.enc === 'identity' ? undefined : out.body
    this.#entries.set(key, { enc: out.enc, body, size: piece.byteLength })
    this.#bytes += body?.byteLength ?? 0
    for (const [k, e] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break
      this.#entries.delete(k)
      this.#bytes -= e.body?.byteLength ?? 0
    }
    return { ...out, size: piece.byteLength, hit: false }
  }
}
