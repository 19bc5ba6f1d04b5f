/**
 * Finding members and staying connected to a bounded set of them. libp2p v3 only records
 * discovered peers in the peer store; it dials nobody by itself. While this node is connected to
 * fewer than `targetPeers` peers (default 8), this module dials:
 * - peers new to the peer store (`peer:discovery`: mDNS, the DHT, identify);
 * - known members whose addresses changed (`peer:update`, e.g. a member restarted on a new port);
 * - configured bootstrap addresses, while connected to nobody;
 * - at start, every `intervalMs` and soon after a connection closes, members remembered in the
 *   peer store (tag `meshcc-member`), in random order, since `peer:discovery` never fires again
 *   for a peer already stored;
 * - authors of relayed adverts, and peers DHT walks return (towards our own key and random keys),
 *   which finds members in other offices.
 * A full mesh would cost N² connections; gossipsub spreads adverts over this random overlay
 * instead, and members we are not connected to are known from their relayed adverts. Once more
 * than `maxPeers` (default 20) peers are connected (others dialled us), random idle member
 * connections are closed down to `maxPeers`; connections younger than 30 s or carrying meshcc's
 * own protocols (jobs, toolchain blobs) are kept, so a member dialled on demand stays. Admission
 * decides who stays at all.
 */
import { randomBytes } from 'node:crypto'
import type { Connection, Peer, PeerId, PeerInfo } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { multiaddr } from '@multiformats/multiaddr'
import { MEMBER_TAG } from './admission.ts'
import { connectionsByPeer } from './connections-by-peer.ts'
import type { MeshNode } from './create-node.ts'
import type { DenyCache } from './deny-cache.ts'

export interface DiscoveryInit {
  node: MeshNode
  denied: DenyCache
  bootstrap?: string[]
  /** Period of redials and DHT walks. Default 10 s. */
  intervalMs?: number
  dialTimeoutMs?: number
  /** Connected peers this node dials up to. Default 8. */
  targetPeers?: number
  /** Connected peers above which idle member connections are closed. Default 20. */
  maxPeers?: number
  /** Whether `peer` is an admitted member (only members' connections are pruned). */
  isMember?: (peer: string) => boolean
  onDialError?: (target: string, err: Error) => void
}

/** Protocols of the overlay itself: a connection carrying only these is idle. */
const OVERLAY_PROTOCOLS = ['/meshsub/', '/ipfs/', '/meshcc/kad/', '/meshcc/auth/', '/libp2p/']
/** A connection younger than this is never pruned (its admission or first job may be running). */
const PRUNE_GRACE_MS = 30_000

interface Backoff {
  next: number
  delay: number
}

export class Discovery {
  readonly #init: DiscoveryInit
  readonly #intervalMs: number
  readonly #dialing = new Set<string>()
  readonly #backoff = new Map<string, Backoff>()
  readonly #bootstrap: Multiaddr[]
  /** Peer id found behind each bootstrap address without `/p2p/`, so it is not redialled. */
  readonly #bootstrapPeers = new Map<string, string>()
  readonly #stop = new AbortController()
  #timer: NodeJS.Timeout | undefined
  #walking = false
  #walks = 0
  /** When each advert author not yet connected was last acted on. */
  readonly #hinted = new Map<string, number>()
  /** Dials deferred to let the peer with the lower id dial first (see {@link maybeDial}). */
  readonly #deferred = new Map<string, NodeJS.Timeout>()
  #walkTimer: NodeJS.Timeout | undefined
  #refillTimer: NodeJS.Timeout | undefined
  #pruneTimer: NodeJS.Timeout | undefined
  readonly #targetPeers: number
  readonly #maxPeers: number

  constructor(init: DiscoveryInit) {
    this.#init = init
    this.#intervalMs = init.intervalMs ?? 10_000
    this.#bootstrap = (init.bootstrap ?? []).map((a) => multiaddr(a))
    this.#targetPeers = init.targetPeers ?? 8
    this.#maxPeers = Math.max(init.maxPeers ?? 20, this.#targetPeers)
  }

  /** Distinct peers with an open connection. */
  #connectedPeers(): number {
    return new Set(this.#init.node.getConnections().map((c) => c.remotePeer.toString())).size
  }

  /** Whether another dial is wanted: connected plus in-flight dials below the target. */
  wantsPeers(): boolean {
    return this.#connectedPeers() + this.#dialing.size < this.#targetPeers
  }

  /** Call after `node.start()`. */
  start(): void {
    const { node } = this.#init
    node.addEventListener('peer:discovery', this.#onDiscovery)
    node.addEventListener('peer:update', this.#onUpdate)
    node.addEventListener('peer:disconnect', this.#onDisconnect)
    void this.tick()
    this.#timer = setInterval(() => void this.tick(), this.#intervalMs)
    this.#timer.unref()
  }

  stop(): void {
    const { node } = this.#init
    this.#stop.abort()
    clearInterval(this.#timer)
    clearTimeout(this.#walkTimer)
    clearTimeout(this.#refillTimer)
    clearTimeout(this.#pruneTimer)
    for (const timer of this.#deferred.values()) clearTimeout(timer)
    this.#deferred.clear()
    node.removeEventListener('peer:discovery', this.#onDiscovery)
    node.removeEventListener('peer:update', this.#onUpdate)
    node.removeEventListener('peer:disconnect', this.#onDisconnect)
  }

  /** One round: bootstrap addresses, remembered members, a DHT walk, pruning. */
  async tick(): Promise<void> {
    if (this.#stop.signal.aborted) return
    const { node } = this.#init
    this.prune()
    // Bootstrap addresses lead into the mesh; once in, adverts and the DHT name other members,
    // so not every member keeps a connection to the (few, shared) bootstrap nodes.
    const isolated = this.#connectedPeers() === 0
    for (const addr of isolated ? this.#bootstrap : []) {
      const key = addr.toString()
      const id =
        addr.getComponents().find((c) => c.name === 'p2p')?.value ?? this.#bootstrapPeers.get(key)
      if (id !== undefined && node.getConnections().some((c) => c.remotePeer.toString() === id)) {
        continue
      }
      void this.#dial(key, addr)
    }
    const members = await node.peerStore
      .all({ filters: [(p: Peer) => p.tags.has(MEMBER_TAG)] })
      .catch(() => [] as Peer[])
    // Remembered members are dialled at once (they may not know we are back), in random order
    // so that members do not all pick the same few.
    for (const p of shuffle(members)) {
      if (!this.wantsPeers()) break
      this.maybeDial(p.id, { yieldMs: 0 })
    }
    void this.#walk()
  }

  /** Refills the connection set soon after a peer disconnected (coalesced). */
  #refillSoon(): void {
    if (this.#refillTimer !== undefined || this.#stop.signal.aborted) return
    this.#refillTimer = setTimeout(
      () => {
        this.#refillTimer = undefined
        if (this.wantsPeers()) void this.tick()
      },
      1_000 + Math.random() * 1_000,
    )
    this.#refillTimer.unref()
  }

  /** Prunes soon (coalesced), e.g. after a member was admitted. */
  pruneSoon(delayMs = 1_000): void {
    if (this.#pruneTimer !== undefined || this.#stop.signal.aborted) return
    this.#pruneTimer = setTimeout(() => {
      this.#pruneTimer = undefined
      this.prune()
    }, delayMs)
    this.#pruneTimer.unref()
  }

  /**
   * Closes random idle member connections while more than `maxPeers` peers are connected.
   * Returns the peers disconnected.
   */
  prune(): string[] {
    const { node, isMember } = this.#init
    const byPeer = connectionsByPeer(node.getConnections())
    let excess = byPeer.size - this.#maxPeers
    if (excess <= 0 || isMember === undefined) return []
    const now = Date.now()
    const idle = [...byPeer].filter(
      ([id, conns]) => isMember(id) && conns.every((c) => isIdle(c, now)),
    )
    const closed: string[] = []
    for (const [id, conns] of shuffle(idle)) {
      if (excess-- <= 0) break
      closed.push(id)
      for (const c of conns) void c.close().catch((err: Error) => c.abort(err))
    }
    return closed
  }

  /**
   * Dials `peer` unless it is us, connected, denied, being dialled, or backing off. When both
   * sides discover each other at once (mDNS, DHT, adverts) both would dial, and the two
   * connections each cost a handshake and an admission; so the side with the greater peer id
   * waits `yieldMs` first and dials only if the other side has not connected by then (it still
   * dials, so a peer that cannot dial us is reached).
   */
  maybeDial(peer: PeerId, { yieldMs = 2_000 }: { yieldMs?: number } = {}): void {
    const { node, denied } = this.#init
    if (peer.equals(node.peerId) || denied.has(peer)) return
    if (node.getConnections(peer).length > 0) return
    const key = peer.toString()
    if (this.#dialing.has(key) || !this.wantsPeers()) return
    if (yieldMs > 0 && node.peerId.toString() > key) {
      if (this.#deferred.has(key)) return
      const timer = setTimeout(
        () => {
          this.#deferred.delete(key)
          this.maybeDial(peer, { yieldMs: 0 })
        },
        yieldMs + Math.random() * 1_000,
      )
      timer.unref()
      this.#deferred.set(key, timer)
      return
    }
    void this.#dial(key, peer)
  }

  async #dial(key: string, target: PeerId | Multiaddr): Promise<void> {
    if (this.#dialing.has(key) || this.#stop.signal.aborted) return
    const b = this.#backoff.get(key)
    if (b !== undefined && b.next > Date.now()) return
    this.#dialing.add(key)
    try {
      const signal = AbortSignal.any([
        this.#stop.signal,
        AbortSignal.timeout(this.#init.dialTimeoutMs ?? 10_000),
      ])
      const conn = await this.#init.node.dial(target, { signal })
      if (!('toMultihash' in target)) this.#bootstrapPeers.set(key, conn.remotePeer.toString())
      this.#backoff.delete(key)
    } catch (err) {
      // Exponential backoff per target, 1 s doubling up to 1 min, so a dead address costs little.
      const delay = Math.min((b?.delay ?? 500) * 2, 60_000)
      this.#backoff.set(key, { next: Date.now() + delay, delay })
      if (!this.#stop.signal.aborted) this.#init.onDialError?.(key, err as Error)
    } finally {
      this.#dialing.delete(key)
    }
  }

  /** Walks the DHT soon (coalesced): after a new member is admitted, its neighbours are near. */
  walkSoon(delayMs = 300): void {
    if (this.#walkTimer !== undefined || this.#stop.signal.aborted) return
    this.#walkTimer = setTimeout(() => {
      this.#walkTimer = undefined
      void this.#walk()
    }, delayMs)
    this.#walkTimer.unref()
  }

  async #walk(): Promise<void> {
    const { dht } = this.#init.node.services
    // With nobody to ask the query would wait for peers; skip the round instead. With enough
    // peers, skip it too: a walk dials up to k = 20 peers it would then have to prune.
    if (this.#walking || this.#init.node.getConnections().length === 0) return
    if (!this.wantsPeers()) return
    this.#walking = true
    try {
      const signal = AbortSignal.any([this.#stop.signal, AbortSignal.timeout(5_000)])
      // Alternate our own key (our neighbourhood) and a random one (the rest of a large mesh:
      // a lookup returns only the k = 20 closest peers).
      const key =
        this.#walks++ % 2 === 0 ? this.#init.node.peerId.toMultihash().bytes : randomBytes(32)
      for await (const evt of dht.getClosestPeers(key, { signal })) {
        if (evt.name === 'FINAL_PEER') this.#found(evt.peer)
        else if (evt.name === 'PEER_RESPONSE') for (const p of evt.closer) this.#found(p)
      }
    } catch {
      // Timeouts and unreachable peers are normal here; the next round tries again.
    } finally {
      this.#walking = false
    }
  }

  /**
   * A member relayed an advert of `peer` listing `addrs`: remember the addresses (so the peer can
   * be dialled on demand, e.g. for a job) and dial it if we want more peers. Addresses naming
   * another peer are dropped, so a relayed advert cannot point our dials at third parties.
   */
  foundInAdvert(peer: PeerId, addrs: readonly string[]): void {
    // Adverts repeat every few seconds: act on one per author per 10 s at most while we want
    // peers, per minute otherwise (the addresses rarely change).
    const key = peer.toString()
    const now = Date.now()
    const every = this.wantsPeers() ? 10_000 : 60_000
    if ((this.#hinted.get(key) ?? 0) > now - every) return
    this.#hinted.set(key, now)
    if (this.#hinted.size > 10_000) this.#hinted.clear()
    const multiaddrs: Multiaddr[] = []
    for (const a of addrs) {
      try {
        const ma = multiaddr(a)
        const id = ma.getComponents().find((c) => c.name === 'p2p')?.value
        if (id === undefined || id === peer.toString()) multiaddrs.push(ma)
      } catch {
        // not a multiaddr: skip
      }
    }
    this.#found({ id: peer, multiaddrs })
  }

  #found(peer: PeerInfo): void {
    const { node } = this.#init
    if (peer.id.equals(node.peerId) || node.getConnections(peer.id).length > 0) return
    if (peer.multiaddrs.length === 0) {
      this.maybeDial(peer.id)
      return
    }
    void node.peerStore
      .merge(peer.id, { multiaddrs: peer.multiaddrs })
      .catch(() => {})
      .then(() => this.maybeDial(peer.id))
  }

  readonly #onDiscovery = (evt: CustomEvent<PeerInfo>): void => this.maybeDial(evt.detail.id)

  readonly #onDisconnect = (): void => {
    if (this.wantsPeers()) this.#refillSoon()
  }

  readonly #onUpdate = (evt: CustomEvent<{ peer: Peer; previous?: Peer }>): void => {
    const { peer, previous } = evt.detail
    if (!peer.tags.has(MEMBER_TAG) || previous === undefined) return
    const before = new Set(previous.addresses.map((a) => a.multiaddr.toString()))
    if (peer.addresses.some((a) => !before.has(a.multiaddr.toString()))) {
      this.#backoff.delete(peer.id.toString())
      this.maybeDial(peer.id)
    }
  }
}

function isIdle(c: Connection, now: number): boolean {
  if (now - c.timeline.open < PRUNE_GRACE_MS) return false
  return c.streams.every(
    (st) => st.protocol !== undefined && OVERLAY_PROTOCOLS.some((p) => st.protocol?.startsWith(p)),
  )
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[items[i], items[j]] = [items[j] as T, items[i] as T]
  }
  return items
}
