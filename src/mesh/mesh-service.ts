/**
 * The mesh as one service for the daemon: makes the libp2p node, then wires admission,
 * discovery, adverts and the peer directory to it, in the order that leaves no gap (the auth
 * handler and the advert validator exist before the node accepts its first connection).
 *
 * @example
 * ```ts
 * const mesh = await startMesh({
 *   home: paths.home,
 *   credentials,                     // from src/identity (certificate + verifier)
 *   advertSource: () => scheduler.advertFields(),
 *   bootstrap: config.mesh.bootstrap,
 *   signal,                          // aborting it stops the mesh
 * })
 * mesh.addEventListener('member:admitted', (e) => log.info('member', e.detail))
 * const snapshot = mesh.snapshot()  // what `meshcc peers --json` prints
 * await mesh.stop()
 * ```
 */
import { join } from 'node:path'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { meshccVersion } from '../daemon/version.ts'
import { Admission } from './admission.ts'
import { AuthorCerts } from './author-certs.ts'
import { CachedFsDatastore } from './cached-datastore.ts'
import type { Member } from './admission.ts'
import { Adverts } from './adverts.ts'
import { createMeshNode } from './create-node.ts'
import { CrlGossip } from './crl-gossip.ts'
import type { Revocations } from './crl-gossip.ts'
import type { MeshNode } from './create-node.ts'
import { DenyCache } from './deny-cache.ts'
import { Discovery } from './discovery.ts'
import { meshGater } from './gater.ts'
import { loadOrCreatePeerKey, peerKeyPath } from './node-key.ts'
import { PeerDirectory } from './peer-directory.ts'
import { skipKnownProtocolMerges } from './protocol-merges.ts'
import type { Advert, AdvertSource, Credentials, DirectorySnapshot } from './types.ts'

export interface MeshInit {
  /** `MESHCC_HOME`: the peer key lives in `identity/peer.key`, the peer store in `libp2p/`. */
  home: string
  credentials: Credentials
  advertSource: AdvertSource
  /**
   * The organisation's revocation list, spread over gossip (`meshcc/crl/1`). Pass the same store
   * the credentials read their `crl` from (`IdentityRevocations`). Optional.
   */
  revocations?: Revocations
  /** Default: loaded from (or created in) `home`. */
  privateKey?: PrivateKey
  transport?: 'tcp' | 'memory'
  /** Default `/ip4/0.0.0.0/tcp/0`. */
  listen?: string[]
  announce?: string[]
  /** Multiaddrs dialled until connected (other offices, or where mDNS does not reach). */
  bootstrap?: string[]
  /** Default true for tcp. */
  mdns?: boolean
  mdnsIntervalMs?: number
  /** libp2p private-network key (95-byte key file contents). */
  psk?: Uint8Array
  /** Keep the peer store and DHT records in `home/libp2p`. Default true for tcp. */
  persist?: boolean
  /** Advert period in a small mesh (default 5 s); it grows with the mesh (`maxAdvertRate`). */
  advertIntervalMs?: number
  /** Adverts per second a member receives from the whole mesh at most (default 5). */
  maxAdvertRate?: number
  /** Carry this node's certificate in every k-th advert (default 6; see adverts.ts). */
  certEvery?: number
  admissionTimeoutMs?: number
  denyTtlMs?: number
  discoveryIntervalMs?: number
  /** Connected peers discovery dials up to (default 8); members beyond are known by gossip. */
  targetPeers?: number
  /** Connected peers above which idle member connections are closed (default 20). */
  maxPeers?: number
  /** How often libp2p pings each connection (round-trip times, dead-peer detection). Default 10 s. */
  pingIntervalMs?: number
  /** Memory transport only: delay of every buffer, ms (see `create-node.ts`). */
  memoryLatencyMs?: number
  /** Exempt from inbound rate limits (tests on one host: `['/ip4/127.0.0.0/ipcidr/8']`). */
  allow?: string[]
  /** Re-check members' certificates this often (expiry, revocation). Default 60 s. */
  recheckIntervalMs?: number
  version?: string
  signal?: AbortSignal
}

/** Events a {@link Mesh} dispatches (as `CustomEvent`s). */
export interface MeshEventMap {
  'member:admitted': { peerId: string; org: string; name: string; roles: readonly string[] }
  'member:refused': { peerId: string; reason: string }
  'member:left': { peerId: string }
  advert: { peerId: string; advert: Advert }
  'advert:expired': { peerId: string }
  'advert:rejected': { peerId: string; reason: string }
  /** A newer revocation list arrived from the mesh (members were re-checked). */
  'revocations:updated': { cut: string[] }
  'revocations:rejected': { peerId: string; reason: string }
  /** Diagnostics for the daemon's debug log. */
  debug: { msg: string } & Record<string, unknown>
}

export interface Mesh extends EventTarget {
  readonly node: MeshNode
  readonly peerId: PeerId
  readonly admission: Admission
  readonly adverts: Adverts
  readonly directory: PeerDirectory
  readonly discovery: Discovery
  /** Listen addresses, with `/p2p/<peer id>`. */
  addrs(): string[]
  snapshot(): DirectorySnapshot
  /** Tell the mesh the advert fields changed (slots freed, toolchain added). */
  changed(): void
  /** Re-check members' certificates now (call after the revocation list changed). */
  recheck(): Promise<PeerId[]>
  /**
   * The local revocation list changed (e.g. `meshcc org revoke` wrote a newer one): publish it
   * and cut off the members it revokes. Returns the peers cut off.
   */
  revocationsChanged(): Promise<PeerId[]>
  /** Present this node's (renewed) certificate again on every open connection. */
  refresh(): Promise<void>
  /** Dial a peer or multiaddr now (e.g. `meshcc join ADDR`). */
  dial(target: string): Promise<void>
  stop(): Promise<void>
}

export async function startMesh(init: MeshInit): Promise<Mesh> {
  const { signal } = init
  signal?.throwIfAborted()
  const transport = init.transport ?? 'tcp'
  const privateKey =
    init.privateKey ??
    (await loadOrCreatePeerKey(peerKeyPath(init.home), signal === undefined ? {} : { signal }))
  let datastore: CachedFsDatastore | undefined
  if (init.persist ?? transport === 'tcp') {
    // In memory, written behind: libp2p rewrites a peer's record on every stream.
    datastore = new CachedFsDatastore(join(init.home, 'libp2p'))
    await datastore.open()
  }
  const events = new EventTarget()
  const emit = <K extends keyof MeshEventMap>(type: K, detail: MeshEventMap[K]): void => {
    events.dispatchEvent(new CustomEvent(type, { detail }))
  }
  const denied = new DenyCache()
  // Admission exists before the node (the gossip score needs it) but learns the node afterwards.
  let admission: Admission | undefined
  const node = await createMeshNode({
    privateKey,
    gater: meshGater(denied),
    transport,
    appScore: (p) => admission?.appScore(p) ?? -6,
    ...(init.listen === undefined ? {} : { listen: init.listen }),
    ...(init.announce === undefined ? {} : { announce: init.announce }),
    ...(init.mdns === undefined ? {} : { mdns: init.mdns }),
    ...(init.mdnsIntervalMs === undefined ? {} : { mdnsIntervalMs: init.mdnsIntervalMs }),
    ...(init.psk === undefined ? {} : { psk: init.psk }),
    ...(datastore === undefined ? {} : { datastore }),
    ...(init.allow === undefined ? {} : { allow: init.allow }),
    ...(init.pingIntervalMs === undefined ? {} : { pingIntervalMs: init.pingIntervalMs }),
    ...(init.memoryLatencyMs === undefined ? {} : { memoryLatencyMs: init.memoryLatencyMs }),
  })
  // libp2p rewrites the remote peer's record for every stream: not when it would change nothing.
  skipKnownProtocolMerges(node)
  const version = init.version ?? meshccVersion
  let adverts: Adverts | undefined
  let crlGossip: CrlGossip | undefined
  let discovery: Discovery | undefined
  admission = new Admission({
    node,
    credentials: init.credentials,
    denied,
    ...(init.admissionTimeoutMs === undefined ? {} : { timeoutMs: init.admissionTimeoutMs }),
    ...(init.denyTtlMs === undefined ? {} : { denyTtlMs: init.denyTtlMs }),
    onAdmitted: (m: Member) => {
      // Its adverts stay believable by certificate once this connection is pruned.
      authorCerts.remember(m.peerId, m.certBytes, m.cert)
      // Greet the newcomer with our advert (and revocation list) once gossipsub's cached score
      // of it has refreshed.
      adverts?.greet()
      crlGossip?.publishSoon(1_100)
      discovery?.walkSoon()
      discovery?.pruneSoon()
      emit('member:admitted', {
        peerId: m.peerId.toString(),
        org: m.cert.org,
        name: m.cert.name,
        roles: m.cert.roles,
      })
    },
    onRefused: (p, reason) => {
      // Its gossiped advert is believed again only if its certificate still verifies.
      authorCerts.forget(p)
      adverts?.forget(p)
      emit('member:refused', { peerId: p.toString(), reason })
    },
    onDebug: (msg, fields) => emit('debug', { msg, ...fields }),
    onLeft: (p) => {
      emit('member:left', { peerId: p.toString() })
    },
  })
  const adm = admission
  const authorCerts = new AuthorCerts({ verify: init.credentials.verify })
  /** Re-checks members and gossip-only advert authors (expiry, a newer revocation list). */
  const recheckAll = async (): Promise<PeerId[]> => {
    authorCerts.stale()
    const cut = await adm.recheck()
    await adverts?.recheckAuthors()
    return cut
  }
  adverts = new Adverts({
    node,
    source: init.advertSource,
    isMember: (p) => adm.isMember(p),
    version,
    certExpiry: () => init.credentials.self().expiresAt,
    certificate: () => init.credentials.certificate(),
    checkAuthor: (p, bytes) => authorCerts.check(p, bytes),
    ...(init.advertIntervalMs === undefined ? {} : { intervalMs: init.advertIntervalMs }),
    ...(init.maxAdvertRate === undefined ? {} : { maxAdvertRate: init.maxAdvertRate }),
    ...(init.certEvery === undefined ? {} : { certEvery: init.certEvery }),
    onAdvert: (p, advert) => emit('advert', { peerId: p.toString(), advert }),
    onUnknownAuthor: (p, addrs) => discovery?.foundInAdvert(p, addrs),
    onExpired: (p) => emit('advert:expired', { peerId: p }),
    onRejected: (p, reason) => emit('advert:rejected', { peerId: p, reason }),
  })
  const directory = new PeerDirectory({
    node,
    admission,
    adverts,
    credentials: init.credentials,
    source: init.advertSource,
    version,
  })
  if (init.revocations !== undefined) {
    crlGossip = new CrlGossip({
      node,
      revocations: init.revocations,
      isMember: (p) => adm.isMember(p),
      onNewList: () => {
        void recheckAll().then((cut) => {
          emit('revocations:updated', { cut: cut.map(String) })
        })
      },
      onRejected: (p, reason) => emit('revocations:rejected', { peerId: p, reason }),
    })
  }
  discovery = new Discovery({
    node,
    denied,
    ...(init.bootstrap === undefined ? {} : { bootstrap: init.bootstrap }),
    ...(init.discoveryIntervalMs === undefined ? {} : { intervalMs: init.discoveryIntervalMs }),
    ...(init.targetPeers === undefined ? {} : { targetPeers: init.targetPeers }),
    ...(init.maxPeers === undefined ? {} : { maxPeers: init.maxPeers }),
    isMember: (p) => adm.isMember(p),
  })

  await admission.start()
  adverts.start()
  crlGossip?.start()
  await node.start()
  adverts.run()
  crlGossip?.run()
  discovery.start()
  const recheckTimer = setInterval(() => void recheckAll(), init.recheckIntervalMs ?? 60_000)
  recheckTimer.unref()

  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      signal?.removeEventListener('abort', onAbort)
      clearInterval(recheckTimer)
      discovery.stop()
      adverts?.stop()
      crlGossip?.stop()
      await adm.stop()
      await node.stop()
      await datastore?.close()
    })()
    return stopping
  }
  const onAbort = (): void => void stop()
  signal?.addEventListener('abort', onAbort, { once: true })

  const ads = adverts
  return Object.assign(events, {
    node,
    peerId: node.peerId,
    admission: adm,
    adverts: ads,
    directory,
    discovery,
    addrs: () => node.getMultiaddrs().map((a) => a.toString()),
    snapshot: () => directory.snapshot(),
    changed: () => ads.changed(),
    recheck: () => recheckAll(),
    refresh: () => adm.refresh(),
    revocationsChanged: async () => {
      crlGossip?.publishSoon(0)
      return recheckAll()
    },
    dial: async (target: string) => {
      await node.dial(target.startsWith('/') ? multiaddr(target) : peerIdFromString(target))
    },
    stop,
  })
}
