/**
 * Toolchain transfer as one service for the daemon: serves this node's toolchains to members
 * (`/meshcc/blob/1.0.0`), announces them (DHT + advert ids), and fetches missing ones with
 * {@link ToolchainFetcher.ensureToolchain}; a fetched toolchain is announced at once, so the
 * next builder that needs it has one more holder to pull from.
 *
 * @example
 * ```ts
 * const transfer = await startToolchainTransfer({ mesh, store, onAdvertChange: () => mesh.changed() })
 * // advert source: toolchains: transfer.held()
 * const { root } = await transfer.ensureToolchain(job.toolchainId, { signal, hintPeers: [job.from] })
 * await transfer.announce(newId)   // after `meshcc toolchain add` / local packaging
 * await transfer.stop()
 * ```
 */
import { join } from 'node:path'
import type { Mesh } from '../mesh/mesh-service.ts'
import type { ToolchainStore } from '../toolchain/store.ts'
import { type BlobServer, type BlobServerOptions, serveBlobs } from './blob-protocol.ts'
import {
  type EnsureOptions,
  type EnsureResult,
  type FetcherOptions,
  ToolchainFetcher,
} from './fetcher.ts'
import { packToolchain } from './pack-toolchain.ts'
import { PackedPieces } from './packed-pieces.ts'
import { PieceCache } from './piece-cache.ts'
import { ToolchainProvider } from './provider.ts'

export interface ToolchainTransferInit {
  mesh: Mesh
  store: ToolchainStore
  /** The advert's toolchain list changed: `mesh.changed()`. */
  onAdvertChange?: () => void
  fetcher?: Omit<FetcherOptions, 'mesh' | 'store' | 'onStored'>
  server?: BlobServerOptions
  reprovideMs?: number
  provideTimeoutMs?: number
  /** Pack announced toolchains' pieces with zstd in the background. Default true. */
  pack?: boolean
  onError?: (what: string, err: unknown) => void
  signal?: AbortSignal
}

export interface ToolchainTransfer {
  readonly fetcher: ToolchainFetcher
  readonly provider: ToolchainProvider
  readonly server: BlobServer
  ensureToolchain(id: string, options?: EnsureOptions): Promise<EnsureResult>
  /** Ids for the advert's `toolchains` field. */
  held(): string[]
  announce(id: string, options?: { signal?: AbortSignal }): Promise<boolean>
  withdraw(id: string): Promise<void>
  stop(): Promise<void>
}

export async function startToolchainTransfer(
  init: ToolchainTransferInit,
): Promise<ToolchainTransfer> {
  const { mesh, store } = init
  const provider = new ToolchainProvider({
    node: mesh.node,
    store,
    ...(init.reprovideMs === undefined ? {} : { reprovideMs: init.reprovideMs }),
    ...(init.provideTimeoutMs === undefined ? {} : { provideTimeoutMs: init.provideTimeoutMs }),
    ...(init.onAdvertChange ? { onChange: init.onAdvertChange } : {}),
    onError: (id, err) => init.onError?.(`provide ${id}`, err),
  })
  // Compressed pieces, in memory and at rest, shared by serving, packing and fetching.
  const pieces = new PieceCache(
    init.server?.cacheBytes,
    new PackedPieces(join(store.root, 'packed')),
  )
  const server = await serveBlobs(mesh, store, { cache: pieces, ...init.server })
  const fetcher = new ToolchainFetcher({
    pieces,
    ...init.fetcher,
    mesh,
    store,
    onStored: (id) => void provider.announce(id),
  })
  const packing = new Map<string, Promise<void>>()
  // A toolchain this node made is packed in the background, once per run, so that the first
  // builder to pull it is served from disk instead of waiting for compression.
  const pack = (id: string): void => {
    if (packing.has(id) || init.pack === false) return
    const p = packToolchain(store, pieces, id, init.signal ? { signal: init.signal } : {}).catch(
      (err: unknown) => init.onError?.(`pack ${id}`, err),
    )
    packing.set(id, p)
  }
  const onAdmitted = (): void => provider.reprovideSoon()
  mesh.addEventListener('member:admitted', onAdmitted)
  // Announcing waits for DHT peers; do not hold up the daemon's start for it.
  void provider.start(init.signal ? { signal: init.signal } : {})
  return {
    fetcher,
    provider,
    server,
    ensureToolchain: (id, options) => {
      provider.touch(id)
      return fetcher.ensureToolchain(id, options)
    },
    held: () => provider.held(),
    announce: (id, options) => {
      pack(id)
      return provider.announce(id, options)
    },
    withdraw: (id) => provider.withdraw(id),
    stop: async () => {
      mesh.removeEventListener('member:admitted', onAdmitted)
      provider.stop()
      await server.stop()
    },
  }
}
