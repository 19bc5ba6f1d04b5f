/**
 * Admission: only holders of a valid certificate of this organisation become members.
 *
 * After a connection opens (Noise has authenticated the remote peer id), the dialer opens
 * `/meshcc/auth/1.0.0` and sends its certificate as one length-prefixed frame (≤ 16 KiB); the
 * listener checks it and, only if it is valid, answers with its own, which the dialer checks in
 * turn. Each side checks that the certificate's subject is `connection.remotePeer`, so a
 * certificate copied from another member is useless. A connection not admitted within
 * `timeoutMs` (no certificate, no meshcc protocol, a stall) or presenting an invalid one is
 * aborted, with every other connection to that peer, and the peer goes into the deny cache the
 * gater consults, so it cannot reconnect at once.
 *
 * Membership is per connection: a peer is a member while at least one of its connections has
 * passed the exchange, so a member that restarts, or whose certificate changed, is checked again.
 * After renewing its certificate a node runs the exchange again on its open connections
 * ({@link Admission.refresh}); either side may open it, the opener always sends first.
 */
import { KEEP_ALIVE } from '@libp2p/interface'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { AdmissionRefusedError } from '../errors.ts'
import type { MeshNode } from './create-node.ts'
import type { DenyCache } from './deny-cache.ts'
import type { CertificateCheck, Credentials, MemberCertificate } from './types.ts'

export const AUTH_PROTOCOL = '/meshcc/auth/1.0.0'
export const MAX_CERT_BYTES = 16 * 1024
/**
 * Peer store tag: libp2p's reconnect queue redials peers whose tags start with `keep-alive`.
 * Members are no longer given it (discovery keeps a bounded set of connections and would fight
 * the queue); it is only removed, from peer stores written by older versions.
 */
export const KEEP_ALIVE_TAG = `${KEEP_ALIVE}-meshcc`
/** Peer store tag that survives failed reconnects: discovery redials these members at start. */
export const MEMBER_TAG = 'meshcc-member'
export const CERT_METADATA = 'meshcc/cert'

/** Score gossipsub adds (×10) for a peer that is not (yet) a member: below the publish threshold. */
const OUTSIDER_APP_SCORE = -6
/** A deadline timer firing this late means the event loop stalled (see `#arm`). */
const STALL_MS = 1_000

export interface Member {
  peerId: PeerId
  cert: MemberCertificate
  certBytes: Uint8Array
  admittedAt: number
  /** Ids of this peer's connections that passed the exchange. */
  connections: Set<string>
}

export interface AdmissionInit {
  node: MeshNode
  credentials: Credentials
  denied: DenyCache
  /** Time a connection has to pass the exchange. Default 5 s. */
  timeoutMs?: number
  /**
   * How long a refused peer stays in the deny cache. Default 60 s; a peer that never started the
   * exchange (no meshcc, or a connection lost on the way) stays at most 10 s.
   */
  denyTtlMs?: number
  now?: () => number
  onAdmitted?: (member: Member) => void
  onRefused?: (peerId: PeerId, reason: string) => void
  onLeft?: (peerId: PeerId) => void
  /** Diagnostics: exchanges that failed without a verdict (resets, timeouts). */
  onDebug?: (msg: string, fields: Record<string, unknown>) => void
}

export class Admission {
  readonly #init: AdmissionInit
  readonly #members = new Map<string, Member>()
  readonly #timers = new Map<string, NodeJS.Timeout>()
  /** Connections on which a certificate exchange was opened (by either side). */
  readonly #exchanging = new Set<string>()
  /** Callers of {@link whenMember} waiting for a connection's admission. */
  readonly #waiting = new Map<string, Set<(ok: boolean) => void>>()
  readonly #timeoutMs: number
  readonly #denyTtlMs: number
  readonly #silentDenyTtlMs: number
  readonly #now: () => number
  #started = false

  constructor(init: AdmissionInit) {
    this.#init = init
    this.#timeoutMs = init.timeoutMs ?? 5_000
    this.#denyTtlMs = init.denyTtlMs ?? 60_000
    this.#silentDenyTtlMs = Math.min(this.#denyTtlMs, 10_000)
    this.#now = init.now ?? Date.now
  }

  /** Registers the protocol and starts watching connections; call before `node.start()`. */
  async start(): Promise<void> {
    const { node } = this.#init
    await node.handle(AUTH_PROTOCOL, (stream, conn) => this.#respond(stream, conn), {
      maxInboundStreams: 2,
      maxOutboundStreams: 2,
    })
    node.addEventListener('connection:open', this.#onOpen)
    node.addEventListener('connection:close', this.#onClose)
    this.#started = true
    for (const conn of node.getConnections()) this.#watch(conn)
  }

  async stop(): Promise<void> {
    this.#started = false
    const { node } = this.#init
    node.removeEventListener('connection:open', this.#onOpen)
    node.removeEventListener('connection:close', this.#onClose)
    for (const timer of this.#timers.values()) clearTimeout(timer)
    this.#timers.clear()
    await node.unhandle(AUTH_PROTOCOL).catch(() => {})
  }

  isMember(peer: PeerId | string): boolean {
    return this.#members.has(peer.toString())
  }

  member(peer: PeerId | string): Member | undefined {
    return this.#members.get(peer.toString())
  }

  members(): Member[] {
    return [...this.#members.values()]
  }

  /** Whether `conn` has passed the exchange already: {@link whenMember}'s answer without waiting. */
  admitted(conn: Connection): boolean {
    return this.#members.get(conn.remotePeer.toString())?.connections.has(conn.id) === true
  }

  /**
   * Resolves true once `conn` has passed the exchange, false if it closes or `signal` aborts
   * first. Lets protocol handlers accept a stream that raced ahead of admission.
   */
  async whenMember(conn: Connection, { signal }: { signal?: AbortSignal } = {}): Promise<boolean> {
    if (this.admitted(conn)) return true
    if (conn.status !== 'open' || signal?.aborted) return false
    const { promise, resolve } = Promise.withResolvers<boolean>()
    let set = this.#waiting.get(conn.id)
    if (set === undefined) {
      set = new Set()
      this.#waiting.set(conn.id, set)
    }
    set.add(resolve)
    const onAbort = (): void => resolve(false)
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      return await promise
    } finally {
      signal?.removeEventListener('abort', onAbort)
      set.delete(resolve)
      if (set.size === 0) this.#waiting.delete(conn.id)
    }
  }

  #settle(connId: string, ok: boolean): void {
    for (const resolve of this.#waiting.get(connId) ?? []) resolve(ok)
  }

  /** Gossipsub application score: members 0, everyone else below the publish threshold. */
  readonly appScore = (peerId: string): number =>
    this.#members.has(peerId) ? 0 : OUTSIDER_APP_SCORE

  /**
   * Checks every member's certificate again (expiry, and revocation once the identity module's
   * revocation list changed) and cuts off those that no longer pass. Returns the peers refused.
   */
  async recheck(): Promise<PeerId[]> {
    const refused: PeerId[] = []
    for (const m of [...this.#members.values()]) {
      const check = await this.#verify(m.certBytes, m.peerId)
      if (!check.ok) {
        refused.push(m.peerId)
        this.#refuse(m.peerId, `certificate no longer valid: ${check.reason}`)
      }
    }
    return refused
  }

  /**
   * Presents this node's certificate again on every open connection (after it was renewed), so
   * members re-check the new one instead of cutting this node off when the old one expires.
   */
  async refresh(): Promise<void> {
    const conns = this.#init.node.getConnections().filter((c) => c.status === 'open')
    await Promise.all(conns.map((c) => this.#initiate(c)))
  }

  readonly #onOpen = (evt: CustomEvent<Connection>): void => this.#watch(evt.detail)

  readonly #onClose = (evt: CustomEvent<Connection>): void => {
    const conn = evt.detail
    this.#clearTimer(conn.id)
    this.#settle(conn.id, false)
    this.#exchanging.delete(conn.id)
    const key = conn.remotePeer.toString()
    const m = this.#members.get(key)
    if (m === undefined || !m.connections.delete(conn.id)) return
    if (m.connections.size === 0) {
      this.#members.delete(key)
      this.#init.onLeft?.(conn.remotePeer)
    }
  }

  #watch(conn: Connection): void {
    if (!this.#started || conn.status !== 'open') return
    const entry = this.#init.denied.get(conn.remotePeer)
    if (entry !== undefined) {
      conn.abort(new AdmissionRefusedError(`denied: ${entry.reason}`))
      return
    }
    this.#arm(conn, 0)
    // The dialer starts the exchange, so a new connection runs it once.
    if (conn.direction === 'outbound') void this.#initiate(conn)
  }

  /**
   * Starts the admission deadline of `conn`. A deadline that fires late because this process's
   * event loop stalled (a busy host) is granted again, up to twice: the exchange may have been
   * queued behind the stall, and refusing honest members then makes the stall worse.
   */
  #arm(conn: Connection, extensions: number): void {
    const due = Date.now() + this.#timeoutMs
    const timer = setTimeout(() => {
      this.#timers.delete(conn.id)
      const member = this.#members.get(conn.remotePeer.toString())
      if (conn.status !== 'open' || member?.connections.has(conn.id)) return
      if (Date.now() - due > STALL_MS && extensions < 2) {
        this.#arm(conn, extensions + 1)
        return
      }
      this.#debug(
        'auth deadline passed',
        conn,
        new Error(`streams: ${conn.streams.map((x) => `${x.direction}:${x.protocol}`).join(',')}`),
      )
      const started = this.#exchanging.has(conn.id)
      this.#exchanging.delete(conn.id)
      if (member !== undefined || started) {
        // The exchange began but stalled (a connection the other side already dropped, e.g.
        // one of two simultaneous dials), or the peer is a member on another connection: close
        // this connection only, without judging the peer.
        this.#settle(conn.id, false)
        conn.abort(new AdmissionRefusedError('certificate exchange did not complete'))
        return
      }
      this.#refuse(
        conn.remotePeer,
        `no valid certificate within ${this.#timeoutMs} ms`,
        this.#silentDenyTtlMs,
      )
    }, this.#timeoutMs)
    timer.unref()
    this.#timers.set(conn.id, timer)
  }

  async #initiate(conn: Connection): Promise<void> {
    const signal = AbortSignal.timeout(this.#timeoutMs)
    let stream: Stream
    try {
      stream = await conn.newStream(AUTH_PROTOCOL, { signal })
    } catch (err) {
      this.#debug('cannot open auth stream', conn, err)
      // A peer that does not speak the protocol is no member; a closing connection is no verdict.
      if (conn.status === 'open' && (err as Error).name === 'UnsupportedProtocolError') {
        this.#refuse(conn.remotePeer, `does not speak ${AUTH_PROTOCOL}`)
      }
      return
    }
    this.#exchanging.add(conn.id)
    let reply: Uint8Array
    try {
      const lp = lpStream(stream, { maxDataLength: MAX_CERT_BYTES })
      await lp.write(this.#init.credentials.certificate(), { signal })
      reply = (await lp.read({ signal })).subarray()
    } catch (err) {
      this.#debug('auth exchange failed', conn, err)
      // Reset, EOF or timeout: the deadline timer refuses the connection if it stays open.
      stream.abort(err as Error)
      return
    }
    const check = await this.#verify(reply, conn.remotePeer)
    if (!check.ok) {
      stream.abort(new AdmissionRefusedError(check.reason))
      this.#refuse(conn.remotePeer, check.reason)
      return
    }
    this.#admit(conn, check.cert, reply)
    await stream.close({ signal }).catch(() => {})
  }

  async #respond(stream: Stream, conn: Connection): Promise<void> {
    this.#exchanging.add(conn.id)
    const signal = AbortSignal.timeout(this.#timeoutMs)
    const lp = lpStream(stream, { maxDataLength: MAX_CERT_BYTES })
    // Reset, EOF, oversize or timeout reject the handler (aborting the stream); the deadline
    // timer then refuses the connection if it stays open unadmitted.
    let bytes: Uint8Array
    try {
      bytes = (await lp.read({ signal })).subarray()
    } catch (err) {
      this.#debug('no certificate on auth stream', conn, err)
      throw err
    }
    const check = await this.#verify(bytes, conn.remotePeer)
    if (!check.ok) {
      // Answer nothing: an outsider learns neither our certificate nor why it was refused.
      this.#refuse(conn.remotePeer, check.reason)
      throw new AdmissionRefusedError(check.reason)
    }
    this.#admit(conn, check.cert, bytes)
    await lp.write(this.#init.credentials.certificate(), { signal })
    await stream.close({ signal }).catch(() => {})
  }

  async #verify(bytes: Uint8Array, peer: PeerId): Promise<CertificateCheck> {
    try {
      return await this.#init.credentials.verify(bytes, peer, this.#now())
    } catch (err) {
      return { ok: false, reason: `unreadable certificate: ${(err as Error).message}` }
    }
  }

  #admit(conn: Connection, cert: MemberCertificate, certBytes: Uint8Array): void {
    if (conn.status !== 'open' || !this.#started) return
    this.#clearTimer(conn.id)
    const key = conn.remotePeer.toString()
    let m = this.#members.get(key)
    const isNew = m === undefined
    if (m === undefined) {
      m = {
        peerId: conn.remotePeer,
        cert,
        certBytes,
        admittedAt: this.#now(),
        connections: new Set(),
      }
      this.#members.set(key, m)
    } else {
      m.cert = cert
      m.certBytes = certBytes
    }
    m.connections.add(conn.id)
    this.#exchanging.delete(conn.id)
    this.#settle(conn.id, true)
    this.#init.denied.clear(conn.remotePeer)
    void this.#init.node.peerStore
      .merge(conn.remotePeer, {
        tags: { [KEEP_ALIVE_TAG]: undefined, [MEMBER_TAG]: { value: 1 } },
        metadata: { [CERT_METADATA]: certBytes },
      })
      .catch(() => {})
    if (isNew) this.#init.onAdmitted?.(m)
  }

  #refuse(peer: PeerId, reason: string, ttlMs = this.#denyTtlMs): void {
    const key = peer.toString()
    this.#init.denied.deny(peer, ttlMs, reason)
    const err = new AdmissionRefusedError(`${key}: ${reason}`)
    for (const conn of this.#init.node.getConnections(peer)) {
      this.#clearTimer(conn.id)
      this.#settle(conn.id, false)
      conn.abort(err)
    }
    const wasMember = this.#members.delete(key)
    // Stop libp2p's reconnect queue from redialling a refused peer.
    void this.#init.node.peerStore
      .merge(peer, { tags: { [KEEP_ALIVE_TAG]: undefined, [MEMBER_TAG]: undefined } })
      .catch(() => {})
    this.#init.onRefused?.(peer, reason)
    if (wasMember) this.#init.onLeft?.(peer)
  }

  #debug(msg: string, conn: Connection, err: unknown): void {
    this.#init.onDebug?.(msg, {
      peer: conn.remotePeer.toString(),
      conn: conn.id,
      direction: conn.direction,
      status: conn.status,
      error: `${(err as Error).name}: ${(err as Error).message}`,
    })
  }

  #clearTimer(id: string): void {
    const timer = this.#timers.get(id)
    if (timer !== undefined) clearTimeout(timer)
    this.#timers.delete(id)
  }
}
