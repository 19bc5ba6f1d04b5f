/**
 * The peer directory: admitted members, their latest live advert and round-trip time, as the
 * snapshot `meshcc peers --json` prints (`{ self, peers }`). A member stays listed while it has an
 * admitted connection or a live advert, so a member that vanishes without closing its connection
 * drops out when its advert expires. Members this node is not connected to (the mesh keeps a
 * bounded set of connections) are listed from their gossiped advert and certificate. Round-trip
 * times come from libp2p's connection monitor, which pings every connection (`/ipfs/ping/1.0.0`) and aborts those that stop answering.
 */
import type { Connection } from '@libp2p/interface'
import type { Admission } from './admission.ts'
import type { Adverts } from './adverts.ts'
import { connectionsByPeer } from './connections-by-peer.ts'
import type { MeshNode } from './create-node.ts'
import type {
  AdvertSource,
  Credentials,
  DirectoryPeer,
  DirectorySelf,
  DirectorySnapshot,
} from './types.ts'

export interface PeerDirectoryInit {
  node: MeshNode
  admission: Admission
  adverts: Adverts
  credentials: Credentials
  source: AdvertSource
  version: string
  now?: () => number
}

export class PeerDirectory {
  readonly #init: PeerDirectoryInit
  readonly #now: () => number

  constructor(init: PeerDirectoryInit) {
    this.#init = init
    this.#now = init.now ?? Date.now
  }

  snapshot(): DirectorySnapshot {
    const { node, credentials } = this.#init
    const own = credentials.self()
    const fields = this.#init.source()
    const self: DirectorySelf = {
      peerId: node.peerId.toString(),
      org: own.org,
      name: own.name,
      roles: own.roles,
      certExpiry: own.expiresAt,
      version: this.#init.version,
      addrs: node.getMultiaddrs().map((a) => a.toString()),
      ...fields,
    }
    return { self, peers: this.peers() }
  }

  /**
   * The other members, as in {@link snapshot} but without this node's own row, whose advert
   * fields (slot count, load…) cost a look at the daemon: the placement reads this for its
   * member view, at most every few tens of milliseconds while jobs run.
   */
  peers(): DirectoryPeer[] {
    const { node, admission, adverts, credentials } = this.#init
    const own = credentials.self()
    const byPeer = connectionsByPeer(node.getConnections())
    const ids = new Set([
      ...admission.members().map((m) => m.peerId.toString()),
      ...adverts.peers(),
    ])
    const peers: DirectoryPeer[] = []
    for (const id of [...ids].sort()) {
      const member = admission.member(id)
      const live = adverts.get(id)
      const a = live?.advert
      // The advert author was a member when it was accepted; keep showing what its cert said.
      // Members known only by gossip (no connection to us) show the certificate their advert
      // carried, with `connected: false` and no round-trip time.
      const cert = member?.cert ?? live?.cert
      const conns = byPeer.get(id) ?? []
      peers.push({
        peerId: id,
        org: cert?.org ?? own.org,
        name: cert?.name ?? a?.host ?? '',
        roles: cert?.roles ?? [],
        certExpiry: cert?.expiresAt ?? a?.certExpiry ?? 0,
        connected: member !== undefined,
        rttMs: rtt(conns),
        addrs: conns.map((c) => c.remoteAddr.toString()),
        advertAgeMs: live === undefined ? null : this.#now() - live.receivedAt,
        host: a?.host ?? null,
        platform: a?.platform ?? null,
        arch: a?.arch ?? null,
        cores: a?.cores ?? null,
        freeSlots: a?.freeSlots ?? null,
        load: a?.load ?? null,
        queuedJobs: a?.queuedJobs ?? null,
        speed: a?.speed ?? null,
        toolchains: a?.toolchains ?? [],
        version: a?.version ?? null,
      })
    }
    return peers
  }
}

function rtt(conns: readonly Connection[]): number | null {
  let best: number | null = null
  for (const c of conns) if (c.rtt !== undefined && (best === null || c.rtt < best)) best = c.rtt
  return best === null ? null : Math.round(best * 10) / 10
}
