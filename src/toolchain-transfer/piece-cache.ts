/**
 * Compressed pieces a holder has sent recently, so that ten builders pulling the same toolchain
 * at once cost one compression per chunk, not ten. Bounded by bytes, least recently used out
 * first. A piece that did not compress well is remembered as such (no bytes kept), so the holder
 * does not try again. Pieces are content-addressed (file hash + index), so an entry never goes
 * stale. With {@link PackedPieces} behind it, pieces are also kept on disk: a piece packed
 * earlier (or received packed) is read, not compressed again. Concurrent requests for one piece
 * share one compression.
 */
import { encodePiece } from './codec.ts'
import type { PackedEntry, PackedPieces } from './packed-pieces.ts'
import type { Encoding } from './wire.ts'

type Entry = PackedEntry

export class PieceCache {
  readonly #maxBytes: number
  readonly #entries = new Map<string, Entry>()
  readonly #packing = new Map<string, Promise<Entry>>()
  readonly #disk: PackedPieces | undefined
  /** Disk writes under way (a requester never waits for them). */
  readonly #writes = new Set<Promise<void>>()
  #bytes = 0

  constructor(maxBytes = 64 * 1024 * 1024, disk?: PackedPieces) {
    this.#maxBytes = maxBytes
    this.#disk = disk
  }

  get bytes(): number {
    return this.#bytes
  }

  /** The piece as sent to a requester accepting `accepted`, compressing at most once. */
  async encode(
    key: string,
    raw: () => Promise<Uint8Array>,
    accepted: readonly Encoding[],
    { level = 1 }: { level?: number } = {},
  ): Promise<{ enc: Encoding; body: Uint8Array; size: number; hit: boolean }> {
    if (!accepted.includes('zstd')) {
      const piece = await raw()
      return { enc: 'identity', body: piece, size: piece.byteLength, hit: false }
    }
    const hit = this.#entries.get(key)
    if (hit !== undefined) {
      this.#entries.delete(key)
      this.#entries.set(key, hit)
      if (hit.body !== undefined) return { enc: hit.enc, body: hit.body, size: hit.size, hit: true }
      const piece = await raw()
      return { enc: 'identity', body: piece, size: piece.byteLength, hit: true }
    }
    let p = this.#packing.get(key)
    let piece: Uint8Array | undefined
    if (p === undefined) {
      p = this.#pack(
        key,
        async () => {
          piece = await raw()
          return piece
        },
        level,
      ).finally(() => this.#packing.delete(key))
      this.#packing.set(key, p)
    }
    const e = await p
    if (e.body !== undefined) return { enc: 'zstd', body: e.body, size: e.size, hit: false }
    piece ??= await raw()
    return { enc: 'identity', body: piece, size: piece.byteLength, hit: false }
  }

  /** Keeps a packed piece received from elsewhere (already verified by the caller). */
  keep(key: string, entry: Entry): void {
    this.#remember(key, entry)
    this.#persist(key, entry)
  }

  /** Resolves once every packed piece handed over so far is on disk. */
  async flush(): Promise<void> {
    await Promise.all([...this.#writes])
  }

  #persist(key: string, entry: Entry): void {
    if (this.#disk === undefined || key.startsWith('m/')) return
    const w = this.#disk
      .write(key, entry)
      .catch(() => {})
      .finally(() => this.#writes.delete(w))
    this.#writes.add(w)
  }

  async #pack(key: string, raw: () => Promise<Uint8Array>, level: number): Promise<Entry> {
    const kept = await this.#disk?.read(key)
    if (kept !== undefined) {
      this.#remember(key, kept)
      return kept
    }
    const piece = await raw()
    const out = await encodePiece(piece, ['zstd'], level)
    const entry: Entry = {
      enc: out.enc,
      body: out.enc === 'identity' ? undefined : out.body,
      size: piece.byteLength,
    }
    this.#remember(key, entry)
    this.#persist(key, entry)
    return entry
  }

  #remember(key: string, entry: Entry): void {
    const old = this.#entries.get(key)
    if (old !== undefined) this.#bytes -= old.body?.byteLength ?? 0
    this.#entries.delete(key)
    this.#entries.set(key, entry)
    this.#bytes += entry.body?.byteLength ?? 0
    for (const [k, e] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break
      this.#entries.delete(k)
      this.#bytes -= e.body?.byteLength ?? 0
    }
  }
}
