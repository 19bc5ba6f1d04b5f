/**
 * One multi-peer chunk transfer: every holder that joins gets `perPeer` streams, each pulling
 * pieces from the shared {@link PieceQueue} and writing them to the store, which verifies each
 * chunk against the manifest before keeping it. A holder whose chunk fails verification, or
 * whose stream breaks, is dropped for the rest of this transfer and its pieces are requeued to
 * the others; a holder that lacks a few pieces is asked for others instead, and dropped after
 * `maxNotFound` of them (a stale DHT record).
 */
import { ToolchainIntegrityError, ToolchainNotFoundError } from '../errors.ts'
import type { ChunkRef } from '../toolchain/store.ts'
import type { BlobSession } from './blob-client.ts'
import { PieceQueue } from './piece-queue.ts'

export interface ChunkSink {
  writeChunk(fileSha256: string, index: number, bytes: Uint8Array): Promise<unknown>
}

export interface PeerStats {
  chunks: number
  bytes: number
  wireBytes: number
  /** End-game copies that lost the race and were discarded. */
  discarded: number
}

export interface SwarmInit {
  sink: ChunkSink
  refs: readonly ChunkRef[]
  /** Streams (requests in flight) per holder. Default 6. */
  perPeer?: number
  /** Copies of one piece in flight at most during the end game. Default 2. */
  maxCopies?: number
  maxNotFound?: number
  onBytes?: (n: number) => void
  onDrop?: (peer: string, reason: string) => void
  /** A piece that came compressed was verified and stored: its frame, to serve it on as is. */
  onPacked?: (ref: ChunkRef, packed: Uint8Array) => void
}

interface PeerState {
  id: string
  open: (signal: AbortSignal) => Promise<BlobSession>
  sessions: Set<BlobSession>
  dropped: boolean
  notFound: number
  stats: PeerStats
}

export class Swarm {
  readonly queue: PieceQueue
  readonly #init: SwarmInit
  readonly #peers = new Map<string, PeerState>()
  readonly #controller = new AbortController()
  readonly #workers = new Set<Promise<void>>()
  #fatal: Error | undefined
  #wake: () => void = () => {}

  constructor(init: SwarmInit) {
    this.#init = init
    this.queue = new PieceQueue(init.refs, { maxCopies: init.maxCopies ?? 2 })
    // Idle workers and run() wait on the queue; an abort must wake them.
    this.#controller.signal.addEventListener('abort', () => this.queue.wake(), { once: true })
  }

  /** Holders that are still taking part. */
  livePeers(): string[] {
    return [...this.#peers.values()].filter((p) => !p.dropped).map((p) => p.id)
  }

  stats(): Record<string, PeerStats> {
    return Object.fromEntries([...this.#peers].map(([id, p]) => [id, { ...p.stats }]))
  }

  /** Adds a holder; `open` makes one more stream to it. */
  addPeer(id: string, open: (signal: AbortSignal) => Promise<BlobSession>): void {
    if (this.#peers.has(id) || this.#controller.signal.aborted || this.queue.finished) return
    const peer: PeerState = {
      id,
      open,
      sessions: new Set(),
      dropped: false,
      notFound: 0,
      stats: { chunks: 0, bytes: 0, wireBytes: 0, discarded: 0 },
    }
    this.#peers.set(id, peer)
    for (let i = 0; i < (this.#init.perPeer ?? 6); i++) {
      const w = this.#worker(peer).finally(() => {
        this.#workers.delete(w)
        this.#wake()
      })
      this.#workers.add(w)
    }
  }

  /**
   * Resolves when every piece is stored. `canGrow()` says whether more holders may still join;
   * when it is false and the live holders cannot finish, rejects with what went wrong.
   */
  async run(
    { signal, canGrow }: { signal?: AbortSignal; canGrow: () => boolean },
    onStuck: () => Error,
  ): Promise<void> {
    const onAbort = (): void => {
      this.#controller.abort(signal?.reason)
      this.#wake()
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      for (;;) {
        signal?.throwIfAborted()
        if (this.#fatal) throw this.#fatal
        if (this.queue.finished) return
        const live = this.livePeers()
        if (!canGrow() && (live.length === 0 || this.#workers.size === 0 || this.queue.stuck(live)))
          throw onStuck()
        await new Promise<void>((resolve) => {
          this.#wake = resolve
          void this.queue.changed().then(resolve)
        })
      }
    } finally {
      signal?.removeEventListener('abort', onAbort)
      this.#controller.abort()
      await Promise.allSettled([...this.#workers])
    }
  }

  /** Call when something outside changed (discovery ended, a holder joined). */
  poke(): void {
    this.#wake()
  }

  #drop(peer: PeerState, reason: string): void {
    if (peer.dropped) return
    peer.dropped = true
    for (const s of peer.sessions) s.abort(new Error(`dropped: ${reason}`))
    this.queue.dropPeer(peer.id)
    this.#init.onDrop?.(peer.id, reason)
    this.#wake()
  }

  async #worker(peer: PeerState): Promise<void> {
    const signal = this.#controller.signal
    let session: BlobSession
    try {
      session = await peer.open(signal)
    } catch (err) {
      if (!signal.aborted) this.#drop(peer, `cannot open a stream: ${(err as Error).message}`)
      return
    }
    peer.sessions.add(session)
    try {
      while (!peer.dropped && !signal.aborted && !this.queue.finished) {
        const a = this.queue.next(peer.id)
        if (a === undefined) {
          await this.queue.changed()
          continue
        }
        const { ref } = a
        let bytes: Uint8Array
        let packed: Uint8Array | undefined
        const before = session.wireBytes
        try {
          ;({ bytes, packed } = await session.chunkPacked(ref.fileSha256, ref.index, ref.size, {
            signal,
          }))
        } catch (err) {
          if (err instanceof ToolchainNotFoundError) {
            this.queue.failed(a.key, peer.id, { lacking: true })
            if (++peer.notFound > (this.#init.maxNotFound ?? 3))
              this.#drop(peer, 'does not hold the toolchain')
            continue
          }
          this.queue.failed(a.key, peer.id)
          if (!signal.aborted) this.#drop(peer, (err as Error).message)
          return
        }
        peer.stats.wireBytes += session.wireBytes - before
        if (!this.queue.claim(a.key, peer.id)) {
          peer.stats.discarded++
          continue
        }
        try {
          await this.#init.sink.writeChunk(ref.fileSha256, ref.index, bytes)
        } catch (err) {
          this.queue.failed(a.key, peer.id, { claimed: true })
          if (err instanceof ToolchainIntegrityError) {
            this.#drop(
              peer,
              `sent a chunk that fails verification (${ref.fileSha256}/${ref.index})`,
            )
            return
          }
          this.#fatal ??= err as Error
          this.#wake()
          return
        }
        this.queue.done(a.key)
        if (packed !== undefined) this.#init.onPacked?.(ref, packed)
        peer.stats.chunks++
        peer.stats.bytes += bytes.byteLength
        this.#init.onBytes?.(bytes.byteLength)
      }
    } finally {
      peer.sessions.delete(session)
      await session.close()
    }
  }
}
