/**
 * `ensureToolchain(id)`: makes a toolchain present and materialised on this node, pulling what is
 * missing from the members that hold it.
 *
 * 1. Holders are looked for in hints, adverts and the DHT at once (`holders.ts`).
 * 2. The manifest comes from the first holder that answers, and must hash to `id`.
 * 3. The chunks the store lacks are pulled from every holder found, several streams each
 *    (`swarm.ts`); every chunk is verified by the store before it is written.
 * 4. The tree is materialised (each file re-hashed as it is copied).
 *
 * Concurrent calls for one id share one transfer; a caller that aborts leaves it running for the
 * others (it stops once every caller has gone). Progress is reported at most ten times a second
 * once a transfer has lasted `progressDelayMs`, so short transfers stay silent.
 *
 * @example
 * ```ts
 * const fetcher = new ToolchainFetcher({ mesh, store })
 * const { root, manifest } = await fetcher.ensureToolchain(id, {
 *   signal, hintPeers: [job.clientPeerId], onProgress: (p) => bar.update(p.phase, p.done, p.total),
 * })
 * ```
 */
import { stat } from 'node:fs/promises'
import type { Connection, PeerId } from '@libp2p/interface'
import {
  AdmissionRefusedError,
  ToolchainIntegrityError,
  ToolchainUnavailableError,
} from '../errors.ts'
import type { Admission } from '../mesh/admission.ts'
import type { MeshNode } from '../mesh/create-node.ts'
import { manifestId, type ToolchainManifest } from '../toolchain/manifest.ts'
import type { ToolchainStore } from '../toolchain/store.ts'
import { BlobSession } from './blob-client.ts'
import { discoverHolders, type Holder, type HolderMesh, type HolderSource } from './holders.ts'
import type { PieceCache } from './piece-cache.ts'
import { type PeerStats, Swarm } from './swarm.ts'
import { TransferProgress, type TransferProgressEvent } from './transfer-progress.ts'

export type { TransferProgressEvent } from './transfer-progress.ts'

export interface FetcherMesh extends HolderMesh {
  node: Pick<MeshNode, 'peerId' | 'contentRouting' | 'dial'>
  admission: Pick<Admission, 'whenMember'>
}

export interface FetcherOptions {
  mesh: FetcherMesh
  store: ToolchainStore
  /** Streams per holder. Default 6. */
  perPeer?: number
  /** Holders used at once. Default 4. */
  maxPeers?: number
  /** `auto` compresses except over loopback and in-process links. Default `auto`. */
  compress?: 'auto' | boolean
  dhtTimeoutMs?: number
  requestTimeoutMs?: number
  /** How long to wait for a first holder before giving up. Default 5 s. */
  findTimeoutMs?: number
  progressDelayMs?: number
  /** A toolchain was stored complete (announce it). */
  onStored?: (id: string) => void
  /** Where pieces that arrived compressed are kept, to serve them on without compressing. */
  pieces?: PieceCache
}

export interface EnsureOptions {
  signal?: AbortSignal
  /** Members likely to hold it (e.g. the client that sent the job): asked first. */
  hintPeers?: readonly string[]
  onProgress?: (p: TransferProgressEvent) => void
  /** Sources of holders (tests turn one off). Default both. */
  adverts?: boolean
  dht?: boolean
}

export interface TransferReport {
  /** Whole call: finding holders, manifest, chunks, materialising. */
  seconds: number
  /** Until the last chunk was stored (before materialising). */
  fetchSeconds: number
  /** Milliseconds from the start until: manifest stored, chunk list made, last chunk stored. */
  marksMs: { manifest: number; planned: number; fetched: number }
  /** Decoded bytes stored, and bytes received on the wire. */
  bytes: number
  wireBytes: number
  chunks: number
  peers: Record<string, PeerStats & { via: HolderSource }>
  manifestFrom: string | undefined
  dropped: { peer: string; reason: string }[]
}

export interface EnsureResult {
  id: string
  root: string
  manifest: ToolchainManifest
  /** Present when something had to be pulled from members. */
  transfer?: TransferReport
}

interface Shared {
  promise: Promise<EnsureResult>
  controller: AbortController
  callers: number
  listeners: Set<(p: TransferProgressEvent) => void>
}

export class ToolchainFetcher {
  readonly #o: FetcherOptions
  readonly #running = new Map<string, Shared>()
  /** Toolchains known complete and materialised: a job's check then costs one stat. */
  readonly #ready = new Map<string, { root: string; manifest: ToolchainManifest }>()

  constructor(options: FetcherOptions) {
    this.#o = options
  }

  async ensureToolchain(id: string, options: EnsureOptions = {}): Promise<EnsureResult> {
    const { signal, onProgress } = options
    signal?.throwIfAborted()
    let shared = this.#running.get(id)
    if (shared === undefined) {
      const controller = new AbortController()
      const listeners = new Set<(p: TransferProgressEvent) => void>()
      const s: Shared = {
        controller,
        callers: 0,
        listeners,
        promise: this.#ensure(id, options, controller.signal, (p) => {
          for (const l of listeners) l(p)
        })
          .then((r) => {
            this.#ready.set(id, { root: r.root, manifest: r.manifest })
            return r
          })
          .finally(() => {
            if (this.#running.get(id) === s) this.#running.delete(id)
          }),
      }
      s.promise.catch(() => {})
      this.#running.set(id, s)
      shared = s
    }
    const s = shared
    s.callers++
    if (onProgress) s.listeners.add(onProgress)
    const leave = (): void => {
      if (onProgress) s.listeners.delete(onProgress)
      if (--s.callers === 0) {
        // Everyone left: stop it, and let a later caller start afresh rather than join a dying one.
        if (this.#running.get(id) === s) this.#running.delete(id)
        s.controller.abort(signal?.reason)
      }
    }
    if (!signal) return s.promise.finally(() => s.callers--)
    return new Promise<EnsureResult>((resolve, reject) => {
      const onAbort = (): void => {
        leave()
        reject(signal.reason)
      }
      signal.addEventListener('abort', onAbort, { once: true })
      s.promise.then(
        (r) => {
          signal.removeEventListener('abort', onAbort)
          s.callers--
          resolve(r)
        },
        (err) => {
          signal.removeEventListener('abort', onAbort)
          s.callers--
          reject(err)
        },
      )
    })
  }

  /** Ids being transferred right now. */
  inProgress(): string[] {
    return [...this.#running.keys()]
  }

  async #ensure(
    id: string,
    options: EnsureOptions,
    signal: AbortSignal,
    emit: (p: TransferProgressEvent) => void,
  ): Promise<EnsureResult> {
    const { store } = this.#o
    const known = this.#ready.get(id)
    if (known !== undefined && (await isDirectory(known.root))) return { id, ...known }
    this.#ready.delete(id)
    const progress = new TransferProgress(id, emit, this.#o.progressDelayMs ?? 200)
    if (await store.has(id)) {
      const { manifest } = await store.getManifest(id)
      if ((await store.missingBlobs(manifest)).length === 0) {
        const root = await store.materialize(id, { signal })
        return { id, root, manifest }
      }
    }
    const started = performance.now()
    // Until the pieces are in, a job that finds the manifest stored waits here, not fails.
    let piecesIn: () => void = () => {}
    store.filling(id, new Promise<void>((resolve) => (piecesIn = resolve)))
    const discovery = new AbortController()
    const stop = (): void => discovery.abort()
    signal.addEventListener('abort', stop, { once: true })
    const holders: Holder[] = []
    let discovering = true
    let swarm: Swarm | undefined
    let wakeHolders: () => void = () => {}
    const via = new Map<string, HolderSource>()
    const dropped: { peer: string; reason: string }[] = []
    const connections = new Map<string, Promise<Connection>>()
    const compressFor = (conn: Connection): boolean =>
      this.#o.compress === 'auto' || this.#o.compress === undefined
        ? !isLocalLink(conn)
        : this.#o.compress
    const connect = (peer: PeerId, sig: AbortSignal): Promise<Connection> => {
      const key = peer.toString()
      let p = connections.get(key)
      if (!p) {
        p = this.#connect(peer, sig)
        p.catch(() => connections.delete(key))
        connections.set(key, p)
      }
      return p
    }
    const join = (h: Holder): void => {
      if (!swarm || swarm.livePeers().length >= (this.#o.maxPeers ?? 4)) return
      swarm.addPeer(h.peerId.toString(), async (sig) => {
        const conn = await connect(h.peerId, sig)
        return BlobSession.open(conn, {
          ...this.#sessionOptions(),
          compress: compressFor(conn),
          signal: sig,
        })
      })
    }
    const found = discoverHolders(
      this.#o.mesh,
      id,
      (h) => {
        holders.push(h)
        via.set(h.peerId.toString(), h.via)
        join(h)
        wakeHolders()
      },
      {
        signal: discovery.signal,
        ...(options.hintPeers ? { hintPeers: options.hintPeers } : {}),
        ...(options.adverts === undefined ? {} : { adverts: options.adverts }),
        ...(options.dht === undefined ? {} : { dht: options.dht }),
        ...(this.#o.dhtTimeoutMs === undefined ? {} : { dhtTimeoutMs: this.#o.dhtTimeoutMs }),
      },
    ).finally(() => {
      discovering = false
      wakeHolders()
      swarm?.poke()
    })
    try {
      // The manifest, from holders in the order they were found.
      let manifestFrom: string | undefined
      const findDeadline = AbortSignal.timeout(this.#o.findTimeoutMs ?? 5_000)
      for (let i = 0; !(await store.has(id)); i++) {
        signal.throwIfAborted()
        while (i >= holders.length) {
          // Advert watching goes on after the other sources are done: a holder that has just
          // announced may still appear, until the deadline.
          if ((!discovering && options.adverts === false) || findDeadline.aborted)
            throw new ToolchainUnavailableError(
              `no member answered with toolchain ${id}` +
                (dropped.length ? ` (${dropped.map((d) => d.reason).join('; ')})` : ''),
            )
          await new Promise<void>((resolve) => {
            wakeHolders = resolve
            findDeadline.addEventListener('abort', () => resolve(), { once: true })
            signal.addEventListener('abort', () => resolve(), { once: true })
          })
          signal.throwIfAborted()
        }
        const h = holders[i]!
        try {
          progress.phase('manifest', 0, 0)
          const conn = await connect(h.peerId, signal)
          const session = await BlobSession.open(conn, { ...this.#sessionOptions(), signal })
          const bytes = await session.manifest(id, { signal }).finally(() => session.close())
          if (manifestId(bytes) !== id)
            throw new ToolchainIntegrityError(`manifest does not hash to ${id}`)
          await store.putManifest(bytes, { expectedId: id })
          manifestFrom = h.peerId.toString()
        } catch (err) {
          signal.throwIfAborted()
          dropped.push({ peer: h.peerId.toString(), reason: (err as Error).message })
        }
      }
      const manifestMs = performance.now() - started
      const { manifest } = await store.getManifest(id)
      const refs = await store.missingChunks(id)
      const plannedMs = performance.now() - started
      const total = refs.reduce((a, r) => a + r.size, 0)
      let done = 0
      progress.phase('chunks', 0, total)
      const badPeers = new Set(dropped.map((d) => d.peer))
      // Swarm.addPeer ignores holders it already has (dropped ones included).
      swarm = new Swarm({
        sink: store,
        refs,
        ...(this.#o.perPeer === undefined ? {} : { perPeer: this.#o.perPeer }),
        onBytes: (n) => {
          done += n
          progress.update(done, total, swarm?.livePeers().length ?? 0)
        },
        ...(this.#o.pieces
          ? {
              onPacked: (ref, packed) =>
                this.#o.pieces?.keep(`${ref.fileSha256}/${ref.index}`, {
                  enc: 'zstd',
                  body: packed,
                  size: ref.size,
                }),
            }
          : {}),
        onDrop: (peer, reason) => {
          dropped.push({ peer, reason })
          // A holder left: let one that was held back by maxPeers take its place.
          queueMicrotask(() => {
            for (const h of holders) if (!badPeers.has(h.peerId.toString())) join(h)
          })
        },
      })
      for (const h of holders) if (!badPeers.has(h.peerId.toString())) join(h)
      await swarm.run(
        { signal, canGrow: () => discovering },
        () =>
          new ToolchainUnavailableError(
            `the members holding toolchain ${id} could not supply ${swarm?.queue.remaining} pieces` +
              (dropped.length
                ? ` (${dropped.map((d) => `${d.peer}: ${d.reason}`).join('; ')})`
                : ''),
          ),
      )
      const fetchSeconds = (performance.now() - started) / 1000
      piecesIn()
      progress.phase('materialize', 0, 0)
      const root = await store.materialize(id, {
        signal,
        onProgress: (d, t) => progress.update(d, t, 0),
      })
      this.#o.onStored?.(id)
      const peers: TransferReport['peers'] = {}
      for (const [p, st] of Object.entries(swarm.stats()))
        peers[p] = { ...st, via: via.get(p) ?? 'hint' }
      const stats = Object.values(peers)
      return {
        id,
        root,
        manifest,
        transfer: {
          seconds: (performance.now() - started) / 1000,
          fetchSeconds,
          marksMs: { manifest: manifestMs, planned: plannedMs, fetched: fetchSeconds * 1000 },
          bytes: stats.reduce((a, s) => a + s.bytes, 0),
          wireBytes: stats.reduce((a, s) => a + s.wireBytes, 0),
          chunks: stats.reduce((a, s) => a + s.chunks, 0),
          peers,
          manifestFrom,
          dropped,
        },
      }
    } finally {
      piecesIn()
      progress.finish()
      discovery.abort()
      signal.removeEventListener('abort', stop)
      await found
    }
  }

  #sessionOptions(): { requestTimeoutMs?: number } {
    return this.#o.requestTimeoutMs === undefined
      ? {}
      : { requestTimeoutMs: this.#o.requestTimeoutMs }
  }

  async #connect(peer: PeerId, signal: AbortSignal): Promise<Connection> {
    const { node, admission } = this.#o.mesh
    const conn = await node.dial(peer, { signal })
    if (
      !(await admission.whenMember(conn, {
        signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]),
      }))
    )
      throw new AdmissionRefusedError(`${peer} is not an admitted member`)
    return conn
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory()
  } catch {
    return false
  }
}

/** Loopback and in-process links gain nothing from compression. */
function isLocalLink(conn: Connection): boolean {
  const a = conn.remoteAddr.toString()
  return a.startsWith('/memory/') || a.startsWith('/ip4/127.') || a.startsWith('/ip6/::1/')
}
