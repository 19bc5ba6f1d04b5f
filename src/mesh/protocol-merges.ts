/**
 * Skips libp2p's peer-store write on every stream when it would change nothing.
 *
 * libp2p records the protocol of every stream a connection opens or accepts in the remote peer's
 * record (`peerStore.merge(peer, { protocols: [protocol] })`): take the peer's write lock, load
 * and decode the record, re-encode it with a new `updated` stamp, store it, compare. A remote job
 * opens a few streams, so both daemons did this several times per job for a record that already
 * listed the protocol. Here such a merge returns the record as last merged when its protocols
 * are all known to be in it, as last seen less than `refreshMs` (60 s) ago: any other update of
 * the record (`peer:update`: identify replacing the protocol list, tags, addresses…) or a delete
 * forgets what is known, and the refresh keeps the record's `updated` stamp far from libp2p's
 * six-hour expiry.
 */
import type { Libp2p, Peer, PeerData, PeerId, PeerStore } from '@libp2p/interface'

export interface ProtocolMergesOptions {
  /** How long a record is trusted to list the protocols it listed. Default 60 s. */
  refreshMs?: number
  now?: () => number
}

/** Installs the shortcut on `node.peerStore`; returns the number of merges skipped so far. */
export function skipKnownProtocolMerges(
  node: Pick<Libp2p, 'peerStore' | 'addEventListener'>,
  options: ProtocolMergesOptions = {},
): () => number {
  const refreshMs = options.refreshMs ?? 60_000
  const now = options.now ?? (() => performance.now())
  const store: PeerStore = node.peerStore
  const merge = store.merge.bind(store)
  const remove = store.delete.bind(store)
  const known = new Map<string, { peer: Peer; protocols: Set<string>; at: number }>()
  let skipped = 0
  store.merge = async (id: PeerId, data: PeerData, opts?) => {
    const key = id.toString()
    const k = known.get(key)
    if (k !== undefined && onlyProtocols(data) && now() - k.at < refreshMs) {
      if ((data.protocols ?? []).every((p) => k.protocols.has(p))) {
        skipped++
        return k.peer
      }
    }
    const peer = await merge(id, data, opts)
    // Bounded: a node keeps a bounded set of connections, but peers come and go.
    if (known.size >= 1_000 && !known.has(key)) known.clear()
    known.set(key, { peer, protocols: new Set(peer.protocols), at: now() })
    return peer
  }
  store.delete = async (id: PeerId, opts?) => {
    known.delete(id.toString())
    return remove(id, opts)
  }
  // Emitted inside the merge that made the change, before it resolves: the entry set above
  // afterwards describes the record as it now is.
  node.addEventListener('peer:update', (evt) => known.delete(evt.detail.peer.id.toString()))
  return () => skipped
}

function onlyProtocols(data: PeerData): boolean {
  for (const k in data) {
    if (k !== 'protocols' && data[k as keyof PeerData] !== undefined) return false
  }
  return true
}
