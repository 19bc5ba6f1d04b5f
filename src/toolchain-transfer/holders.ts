/**
 * Finding members that hold a toolchain, from three sources at once, each holder reported once:
 *
 * 1. hints from the caller (the client that sent the job holds its toolchain);
 * 2. gossip adverts (`toolchains` field): instant, and watched for the whole transfer, so a member
 *    that finishes its own copy mid-transfer joins in;
 * 3. DHT provider records (`findProviders` on the toolchain's CID), with a timeout, since a
 *    query with no answer would otherwise wait; records may be stale, which the fetcher handles
 *    (a holder that answers `not-found` is dropped).
 */
import type { PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Adverts } from '../mesh/adverts.ts'
import type { MeshNode } from '../mesh/create-node.ts'
import type { Advert } from '../mesh/types.ts'
import { toolchainCid } from './cid.ts'

export type HolderSource = 'hint' | 'advert' | 'dht'

export interface Holder {
  peerId: PeerId
  via: HolderSource
}

export interface HolderMesh {
  node: Pick<MeshNode, 'peerId' | 'contentRouting'>
  adverts: Pick<Adverts, 'peers' | 'get'>
  /** The mesh's events (`advert`), to notice holders that appear during a transfer. */
  addEventListener?: EventTarget['addEventListener']
  removeEventListener?: EventTarget['removeEventListener']
}

export interface DiscoverOptions {
  signal?: AbortSignal
  hintPeers?: readonly string[]
  /** Look in adverts (default true). */
  adverts?: boolean
  /** Ask the DHT (default true). */
  dht?: boolean
  /** Give up on the DHT query after this long. Default 5 s. */
  dhtTimeoutMs?: number
}

/**
 * Reports holders through `onHolder` until `signal` aborts. Resolves once hints, adverts and the
 * DHT query have all been consulted (advert watching goes on until the signal aborts).
 */
export async function discoverHolders(
  mesh: HolderMesh,
  id: string,
  onHolder: (h: Holder) => void,
  {
    signal,
    hintPeers = [],
    adverts = true,
    dht = true,
    dhtTimeoutMs = 5_000,
  }: DiscoverOptions = {},
): Promise<void> {
  const self = mesh.node.peerId.toString()
  const seen = new Set<string>([self])
  const report = (peer: PeerId | string, via: HolderSource): void => {
    const key = peer.toString()
    if (seen.has(key) || signal?.aborted) return
    seen.add(key)
    onHolder({ peerId: typeof peer === 'string' ? peerIdFromString(peer) : peer, via })
  }
  for (const p of hintPeers) {
    try {
      report(p, 'hint')
    } catch {
      // not a peer id: ignore the hint
    }
  }
  if (adverts) {
    for (const p of mesh.adverts.peers())
      if (mesh.adverts.get(p)?.advert.toolchains.includes(id)) report(p, 'advert')
    const onAdvert = (e: Event): void => {
      const { peerId, advert } = (e as CustomEvent<{ peerId: string; advert: Advert }>).detail
      if (advert.toolchains.includes(id)) report(peerId, 'advert')
    }
    if (mesh.addEventListener && !signal?.aborted) {
      mesh.addEventListener('advert', onAdvert)
      signal?.addEventListener('abort', () => mesh.removeEventListener?.('advert', onAdvert), {
        once: true,
      })
    }
  }
  if (dht && !signal?.aborted) {
    const timeout = AbortSignal.timeout(dhtTimeoutMs)
    const querySignal = signal ? AbortSignal.any([signal, timeout]) : timeout
    try {
      for await (const info of mesh.node.contentRouting.findProviders(toolchainCid(id), {
        signal: querySignal,
      }))
        report(info.id, 'dht')
    } catch {
      // Timeout, no peers, or the node stopping: the other sources still stand.
    }
  }
}
