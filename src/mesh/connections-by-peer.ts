/**
 * A node's connections grouped by remote peer, in one pass over them: the peer directory (a
 * member's row lists its connections) and discovery (pruning idle members) both need the map.
 */
import type { Connection } from '@libp2p/interface'

export function connectionsByPeer(connections: readonly Connection[]): Map<string, Connection[]> {
  const byPeer = new Map<string, Connection[]>()
  for (const c of connections) {
    const id = c.remotePeer.toString()
    const list = byPeer.get(id)
    if (list === undefined) byPeer.set(id, [c])
    else list.push(c)
  }
  return byPeer
}
