/**
 * Composition of the libp2p node a meshcc member runs: TCP (or the in-process memory transport
 * for tests), Noise, yamux, identify, ping, mDNS on meshcc's own service tag, a Kademlia DHT set
 * up for a private LAN, and gossipsub. Admission, discovery and adverts are added on top by
 * {@link startMesh}; this file only decides libp2p options, so each choice is in one place.
 *
 * @example
 * ```ts
 * const node = await createMeshNode({ privateKey, gater: meshGater(denied), transport: 'tcp' })
 * ```
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { gossipsub } from '@libp2p/gossipsub'
import type { GossipSub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import type { Identify } from '@libp2p/identify'
import type { ConnectionGater, PrivateKey } from '@libp2p/interface'
import { kadDHT, passthroughMapper, removePublicAddressesMapper } from '@libp2p/kad-dht'
import type { KadDHT } from '@libp2p/kad-dht'
import { mdns } from '@libp2p/mdns'
import { memory } from '@libp2p/memory'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { ping } from '@libp2p/ping'
import type { Ping } from '@libp2p/ping'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import type { Datastore } from 'interface-datastore'
import { createLibp2p } from 'libp2p'
import type { Libp2p, Libp2pOptions } from 'libp2p'
import { fastMessageId } from './fast-msg-id.ts'
import { libp2pLogger } from './libp2p-logger.ts'
import { batchedWrites } from './tcp-write-batching.ts'
import { sendFewerWindowUpdates } from './yamux-window-updates.ts'

export const MDNS_SERVICE_TAG = '_meshcc._udp.local'
export const DHT_PROTOCOL = '/meshcc/kad/1.0.0'

export interface MeshServices extends Record<string, unknown> {
  identify: Identify
  ping: Ping
  dht: KadDHT
  pubsub: GossipSub
}

export type MeshNode = Libp2p<MeshServices>

export interface MeshNodeInit {
  privateKey: PrivateKey
  gater: ConnectionGater
  /** `tcp` for real nodes; `memory` for in-process test meshes (no mDNS, no IP rules). */
  transport?: 'tcp' | 'memory'
  /** Listen addresses. Default `/ip4/0.0.0.0/tcp/0` (tcp) or a unique `/memory/<id>`. */
  listen?: string[]
  announce?: string[]
  /** mDNS discovery (tcp only). Default true. */
  mdns?: boolean
  mdnsIntervalMs?: number
  /** 95-byte libp2p private-network key file contents; outsiders then fail before Noise. */
  psk?: Uint8Array
  /** Persistent peer store and DHT records. Default in memory. */
  datastore?: Datastore
  /**
   * Gossipsub application score of a peer (added to its score ×10). Admission returns a
   * negative value for peers not yet admitted, so nothing is published or gossiped to them.
   */
  appScore?: (peerId: string) => number
  /** Idle streams are reset after this long. Default 10 min: compile streams can be quiet. */
  streamInactivityTimeoutMs?: number
  /**
   * Addresses exempt from the 5 connections/s per host inbound limit and from `maxConnections`.
   * Tests starting many nodes on one host pass `['/ip4/127.0.0.0/ipcidr/8']`.
   */
  allow?: string[]
  maxConnections?: number
  /** Period of libp2p's connection monitor pings (round-trip times). Default 10 s. */
  pingIntervalMs?: number
  /**
   * Memory transport only: delay of every buffer, ms (default 0). With 0 a buffer is delivered
   * in the same microtask drain that sent it, so in a large in-process mesh a gossip cascade
   * runs as one uninterrupted chain that starves every timer; with ≥ 1 ms each delivery is a
   * timer task, like network I/O.
   */
  memoryLatencyMs?: number
}

export async function createMeshNode(init: MeshNodeInit): Promise<MeshNode> {
  const transport = init.transport ?? 'tcp'
  const inactivity = init.streamInactivityTimeoutMs ?? 600_000
  const listen =
    init.listen ??
    (transport === 'tcp'
      ? ['/ip4/0.0.0.0/tcp/0']
      : [`/memory/${peerIdFromPrivateKey(init.privateKey).toString()}`])
  const discovery: NonNullable<Libp2pOptions<MeshServices>['peerDiscovery']> = []
  if (transport === 'tcp' && (init.mdns ?? true)) {
    discovery.push(mdns({ serviceTag: MDNS_SERVICE_TAG, interval: init.mdnsIntervalMs ?? 10_000 }))
  }

  const logger = libp2pLogger()
  const options: Libp2pOptions<MeshServices> = {
    // The caller installs admission and the advert validator before the first connection.
    start: false,
    ...(logger === undefined ? {} : { logger }),
    privateKey: init.privateKey,
    nodeInfo: { name: 'meshcc', version: '1' },
    addresses: { listen, ...(init.announce === undefined ? {} : { announce: init.announce }) },
    transports:
      transport === 'tcp'
        ? [
            // One writev per turn of the event loop instead of a write per buffer of each frame.
            batchedWrites(
              tcp({
                inboundSocketInactivityTimeout: inactivity,
                outboundSocketInactivityTimeout: inactivity,
              }),
            ),
          ]
        : [memory(init.memoryLatencyMs === undefined ? {} : { latency: init.memoryLatencyMs })],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux({ streamOptions: { inactivityTimeout: inactivity } })],
    connectionGater: init.gater,
    connectionManager: {
      ...(init.allow === undefined ? {} : { allow: init.allow }),
      maxConnections: init.maxConnections ?? 300,
    },
    connectionMonitor: {
      pingInterval: init.pingIntervalMs ?? 10_000,
      // A ping unanswered within its timeout aborts the connection. libp2p's floor (5 s) also
      // cuts every connection of a member whose event loop stalled a few seconds (a build
      // machine under full load), and re-dialling them all adds to the load: 15 s.
      pingTimeout: { minTimeout: 15_000 },
    },
    peerDiscovery: discovery,
    services: {
      identify: identify(),
      // The connection monitor pings too; room for both plus the directory's own pings.
      ping: ping({ maxInboundStreams: 4, maxOutboundStreams: 4 }),
      dht: kadDHT({
        protocol: DHT_PROTOCOL,
        // A private LAN has no public addresses: the defaults (client mode until a public
        // address is seen, strip private addresses) would leave the DHT empty.
        clientMode: false,
        peerInfoMapper: transport === 'tcp' ? removePublicAddressesMapper : passthroughMapper,
        // Gentler than the public-network defaults (10 parallel requests, a self-query 1 s after
        // start): each request may dial a member, and each dial costs a handshake and an
        // admission. When many members start at once (a mesh coming back after an outage), their
        // self-queries spread over 5–15 s instead of all dialling in the same second.
        alpha: 3,
        initialQuerySelfInterval: 5_000 + Math.floor(Math.random() * 10_000),
      }),
      pubsub: gossipsub({
        allowPublishToZeroTopicPeers: true,
        ignoreDuplicatePublishError: true,
        emitSelf: false,
        // Copies of a message arriving over other mesh links are recognised before their
        // signature is checked again (see fast-msg-id.ts).
        fastMsgIdFn: fastMessageId,
        // Every member is admitted by certificate; many honest members may share one address
        // (tests, NAT), so the IP colocation penalty only hurts.
        scoreParams: {
          IPColocationFactorWeight: 0,
          ...(init.appScore === undefined
            ? {}
            : { appSpecificScore: init.appScore, appSpecificWeight: 10 }),
        },
        // A peer refused in the mesh by a stale score retries the graft soon, not after 1 min.
        pruneBackoff: 5_000,
        // A smaller mesh degree than the default 6 (5…12): each advert reaches a node over
        // fewer duplicate paths, which is most of the gossip cost in a large mesh; every member
        // still keeps several connections (discovery's target), so the overlay stays connected.
        // Dhi 6 rather than 8: peers grafting onto us push the degree towards Dhi, and every
        // extra mesh link is one more copy of every advert.
        D: 4,
        Dlo: 3,
        Dhi: 6,
        Dlazy: 4,
      }),
    },
  }
  if (init.psk !== undefined) options.connectionProtector = preSharedKey({ psk: init.psk })
  // The daemon's datastore keeps records in memory and writes behind (cached-datastore.ts).
  if (init.datastore !== undefined) options.datastore = init.datastore
  // Window updates only once half a stream's window is used (go-yamux's rule).
  sendFewerWindowUpdates()
  return createLibp2p(options)
}
