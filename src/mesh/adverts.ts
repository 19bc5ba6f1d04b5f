/**
 * Gossip adverts: every member publishes what it offers (cores, free slots, load, toolchains…)
 * on topic `meshcc/adverts/1`, when it changes and every `intervalMs` (5 s) regardless, and keeps
 * the latest advert of every other member until `3 × intervalMs` pass without a new one (measured
 * on arrival, so a lagging sender clock does not matter).
 *
 * Gossipsub's StrictSign policy signs each message with the author's peer key and checks it before
 * the topic validator runs, so `msg.from` is authenticated. The validator then refuses anything
 * relayed by a peer that is not an admitted member, oversize, malformed, more than 30 s away from
 * our clock, or not newer than the author's last advert. The author must be an admitted member
 * (connected to us), or — since each member keeps only a bounded set of connections and gossip
 * carries the rest — hold a valid certificate of our organisation whose subject is `msg.from`:
 * the advert carries it, and `checkAuthor` verifies it (once per certificate, see
 * `author-certs.ts`). An author with neither is ignored and never believed.
 */
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { Message } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { decodeAdvert, encodeAdvert, MAX_ADVERT_BYTES } from './advert-codec.ts'
import type { MeshNode } from './create-node.ts'
import type { Advert, AdvertSource, CertificateCheck, MemberCertificate } from './types.ts'

export const ADVERT_TOPIC = 'meshcc/adverts/1'
export const MAX_CLOCK_SKEW_MS = 30_000

export interface ReceivedAdvert {
  advert: Advert
  receivedAt: number
  /** The author's certificate, when it was checked from the advert (author not connected). */
  cert?: MemberCertificate
}

export interface AdvertsInit {
  node: MeshNode
  source: AdvertSource
  isMember: (peer: PeerId | string) => boolean
  version: string
  certExpiry: () => number
  /** This node's certificate, carried in each advert for members not connected to us. */
  certificate?: () => Uint8Array
  /**
   * Verdict on the certificate of an author that is not an admitted member: `bytes` from its
   * advert, or one held from before; undefined when there is none. The subject must be `author`.
   */
  checkAuthor?: (author: PeerId, bytes?: Uint8Array) => Promise<CertificateCheck | undefined>
  /** Publish period; adverts expire after three periods without a new one. Default 5 s. */
  intervalMs?: number
  now?: () => number
  onAdvert?: (peerId: PeerId, advert: Advert) => void
  /** A member relayed an advert whose author is not connected to us (believed or not). */
  onUnknownAuthor?: (peerId: PeerId, addrs: readonly string[]) => void
  onExpired?: (peerId: string) => void
  onRejected?: (from: string, reason: string) => void
}

export class Adverts {
  readonly #init: AdvertsInit
  readonly #intervalMs: number
  readonly #now: () => number
  readonly #received = new Map<string, ReceivedAdvert>()
  #seq = 0
  #last: Advert | undefined
  #timer: NodeJS.Timeout | undefined
  #soon: NodeJS.Timeout | undefined
  #lastFields = ''
  #started = false

  constructor(init: AdvertsInit) {
    this.#init = init
    this.#intervalMs = init.intervalMs ?? 5_000
    this.#now = init.now ?? Date.now
  }

  get expiryMs(): number {
    return 3 * this.#intervalMs
  }

  /** Installs the validator; call before `node.start()`, so no message escapes it. */
  start(): void {
    this.#init.node.services.pubsub.topicValidators.set(ADVERT_TOPIC, this.#validate)
    this.#started = true
  }

  /** Subscribes and starts the periodic publisher; call once the node is running. */
  run(): void {
    this.#init.node.services.pubsub.subscribe(ADVERT_TOPIC)
    this.#publish()
    this.#timer = setInterval(() => {
      this.#expire()
      this.#publish()
    }, this.#intervalMs)
    this.#timer.unref()
  }

  stop(): void {
    this.#started = false
    clearInterval(this.#timer)
    clearTimeout(this.#soon)
    const { pubsub } = this.#init.node.services
    pubsub.topicValidators.delete(ADVERT_TOPIC)
    try {
      pubsub.unsubscribe(ADVERT_TOPIC)
    } catch {
      // already stopped
    }
  }

  /** The local state changed: publish soon if the fields differ from the last advert. */
  changed(): void {
    const fields = JSON.stringify(this.#init.source())
    if (fields !== this.#lastFields) this.publishSoon(50)
  }

  /**
   * Publishes after `delayMs`, coalescing calls. Used when a member is admitted: gossipsub caches
   * peer scores for one heartbeat (1 s), so an immediate publish could still skip the newcomer.
   */
  publishSoon(delayMs: number): void {
    if (this.#soon !== undefined || !this.#started) return
    this.#soon = setTimeout(() => {
      this.#soon = undefined
      this.#publish()
    }, delayMs)
    this.#soon.unref()
  }

  /** The latest advert this node published. */
  own(): Advert | undefined {
    return this.#last
  }

  /** The live advert of `peer`, if one arrived within the expiry window. */
  get(peer: PeerId | string): ReceivedAdvert | undefined {
    const r = this.#received.get(peer.toString())
    if (r === undefined || this.#now() - r.receivedAt > this.expiryMs) return undefined
    if (r.cert !== undefined && this.#now() >= r.cert.expiresAt) return undefined
    return r
  }

  /** Forgets the advert of `peer` (e.g. it was refused). */
  forget(peer: PeerId | string): void {
    if (this.#received.delete(peer.toString())) this.#init.onExpired?.(peer.toString())
  }

  /**
   * Checks again the authors known only by gossip (after the revocation list changed) and drops
   * the adverts of those whose certificate no longer passes. Returns the peers dropped.
   */
  async recheckAuthors(): Promise<string[]> {
    const dropped: string[] = []
    for (const [peer, r] of [...this.#received]) {
      if (r.cert === undefined || this.#init.isMember(peer)) continue
      const check = await this.#init.checkAuthor?.(peerIdFromString(peer))
      if (check === undefined || !check.ok) {
        dropped.push(peer)
        this.forget(peer)
      }
    }
    return dropped
  }

  /** Peer ids with a live advert. */
  peers(): string[] {
    return [...this.#received.keys()].filter((p) => this.get(p) !== undefined)
  }

  #publish(): void {
    if (!this.#started) return
    const fields = this.#init.source()
    this.#lastFields = JSON.stringify(fields)
    const now = this.#now()
    // Starting from the wall clock keeps seq increasing across restarts of the sender.
    this.#seq = Math.max(this.#seq + 1, now)
    const advert: Advert = {
      ...fields,
      toolchains: [...fields.toolchains],
      version: this.#init.version,
      certExpiry: this.#init.certExpiry(),
      addrs: this.#init.node
        .getMultiaddrs()
        .slice(0, 8)
        .map((a) => a.toString()),
      seq: this.#seq,
      ts: now,
    }
    this.#last = advert
    const cert = this.#init.certificate?.()
    this.#init.node.services.pubsub.publish(ADVERT_TOPIC, encodeAdvert(advert, cert)).catch(() => {
      // No subscribed peers, or stopping: the next period retries.
    })
  }

  #expire(): void {
    for (const [peer, r] of this.#received) {
      if (this.#now() - r.receivedAt > this.expiryMs) {
        this.#received.delete(peer)
        this.#init.onExpired?.(peer)
      }
    }
  }

  readonly #validate = async (
    propagationSource: PeerId,
    msg: Message,
  ): Promise<TopicValidatorResult> => {
    const reject = (from: string, reason: string): TopicValidatorResult => {
      this.#init.onRejected?.(from, reason)
      return TopicValidatorResult.Reject
    }
    if (msg.type !== 'signed') return reject(propagationSource.toString(), 'unsigned')
    const author = msg.from.toString()
    if (!this.#init.isMember(propagationSource)) {
      return reject(propagationSource.toString(), 'relayed by a non-member')
    }
    if (msg.data.length > MAX_ADVERT_BYTES) return reject(author, 'oversize')
    const decoded = decodeAdvert(msg.data)
    if (!decoded.ok) return reject(author, decoded.reason)
    const { advert } = decoded
    let cert: MemberCertificate | undefined
    // A member may relay an advert of a member we have no connection to: believe it only if the
    // author's certificate (carried, or held from before) is valid and names the signer. If not,
    // neither use nor forward it (no penalty for the relay: its revocation list may be older).
    if (!this.#init.isMember(msg.from)) {
      const check = await this.#init.checkAuthor?.(msg.from, decoded.cert)
      this.#init.onUnknownAuthor?.(msg.from, advert.addrs)
      if (check === undefined) return TopicValidatorResult.Ignore
      if (!check.ok) {
        this.#init.onRejected?.(author, `author certificate: ${check.reason}`)
        return TopicValidatorResult.Ignore
      }
      cert = check.cert
    }
    const now = this.#now()
    if (Math.abs(advert.ts - now) > MAX_CLOCK_SKEW_MS) return reject(author, 'clock skew')
    const prev = this.#received.get(author)
    // Older or repeated: may come late over a second path, so ignore rather than penalise.
    if (prev !== undefined && advert.seq <= prev.advert.seq) return TopicValidatorResult.Ignore
    this.#received.set(
      author,
      cert === undefined ? { advert, receivedAt: now } : { advert, receivedAt: now, cert },
    )
    this.#init.onAdvert?.(msg.from, advert)
    return TopicValidatorResult.Accept
  }
}
