/**
 * Gossip adverts: every member publishes what it offers (cores, free slots, load, toolchains…)
 * on topic `meshcc/adverts/1`, when it changes and periodically regardless, and keeps the latest
 * advert of every other member until it expires. The period (longer in a large mesh, jittered),
 * the lifetime (`ttl`) and how soon a change is published (free slots move with every job, so
 * changes are rate-limited too) live in `advert-schedule.ts`. Any publication starts a new period:
 * the periodic advert only fills silences.
 *
 * Gossipsub's StrictSign policy signs each message with the author's peer key and checks it before
 * the topic validator runs, so `msg.from` is authenticated. The validator then refuses anything
 * relayed by a peer that is not an admitted member, oversize, malformed, more than 30 s away from
 * our clock, or not newer than the author's last advert. The author must be an admitted member
 * (connected to us), or — since each member keeps only a bounded set of connections and gossip
 * carries the rest — hold a valid certificate of our organisation whose subject is `msg.from`:
 * `checkAuthor` verifies the one the advert carries, or the one held from an earlier advert (see
 * `author-certs.ts`). An author with neither is ignored and never believed. Which adverts carry
 * this node's certificate, or ask for others' (`needCerts`), is `advert-cert-policy.ts`.
 */

import type { Message } from '@libp2p/gossipsub'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { AdvertCertPolicy } from './advert-cert-policy.ts'
import { decodeAdvert, encodeAdvert, MAX_ADVERT_BYTES } from './advert-codec.ts'
import {
  advertChange,
  advertExpiryMs,
  advertPeriodMs,
  changeGapMs,
  jitteredDelayMs,
  MAX_ADVERT_TTL_MS,
  receivedExpiresAt,
} from './advert-schedule.ts'
import type { MeshNode } from './create-node.ts'
import type {
  Advert,
  AdvertFields,
  AdvertSource,
  CertificateCheck,
  MemberCertificate,
} from './types.ts'

export const ADVERT_TOPIC = 'meshcc/adverts/1'
export const MAX_CLOCK_SKEW_MS = 30_000
export { MAX_ADVERT_TTL_MS }

export interface ReceivedAdvert {
  advert: Advert
  receivedAt: number
  /** When it expires unless a newer one arrives (arrival + the sender's `ttl`, capped). */
  expiresAt: number
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
  /** Publish period in a small mesh (see {@link AdvertsInit.maxAdvertRate}). Default 5 s. */
  intervalMs?: number
  /**
   * Adverts per second a member should receive from the whole mesh at most: with N members the
   * period is at least N / rate seconds. Default 5 (a 20 s period at 100 members). Changes are
   * published after a gap that grows with the period (see `changeGapMs`).
   */
  maxAdvertRate?: number
  /** Longest period, however large the mesh. Default 30 s. */
  maxIntervalMs?: number
  /** Carry the certificate in every k-th advert (besides the cases above). Default 6. */
  certEvery?: number
  now?: () => number
  /** Random numbers in [0, 1) for the jitter (tests pass a fixed one). */
  random?: () => number
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
  readonly #random: () => number
  /** Authors of adverts relayed to us by members lately (last heard, ms): the mesh's size. */
  readonly #heard = new Map<string, number>()
  #seq = 0
  #last: Advert | undefined
  /** Adverts published so far. */
  #published = 0
  readonly #counts = { withCert: 0, needCerts: 0 }
  #lastPublishedAt = Number.NEGATIVE_INFINITY
  /** Whether the next advert carries the certificate, or asks for others'. */
  readonly #certs: AdvertCertPolicy
  #timer: NodeJS.Timeout | undefined
  #soon: NodeJS.Timeout | undefined
  /** The publication of a change, and when it is due (on `#now`'s clock). */
  #change: NodeJS.Timeout | undefined
  #changeAt = Number.POSITIVE_INFINITY
  /** The fields of the last advert published. */
  #lastFields: AdvertFields | undefined
  #started = false

  constructor(init: AdvertsInit) {
    this.#init = init
    this.#intervalMs = init.intervalMs ?? 5_000
    this.#now = init.now ?? Date.now
    this.#random = init.random ?? Math.random
    this.#certs = new AdvertCertPolicy(init)
  }

  /**
   * The current publish period: the base interval, or longer in a large mesh so that members
   * receive at most `maxAdvertRate` adverts per second. Members are counted by the authors heard
   * from lately, believed or not yet (a node still short of certificates, or behind on a busy
   * host, must not speed up and add to the load).
   */
  get periodMs(): number {
    const members = Math.max(this.#received.size, this.#heard.size) + 1
    const { maxAdvertRate, maxIntervalMs } = this.#init
    return advertPeriodMs(members, this.#intervalMs, maxAdvertRate, maxIntervalMs)
  }

  /** The lifetime this node promises for its adverts: three periods, jitter included. */
  get expiryMs(): number {
    return advertExpiryMs(this.periodMs)
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
  }

  /** The periodic round: one jittered period after the last publication, whatever its cause. */
  #schedule(): void {
    clearTimeout(this.#timer)
    if (!this.#started) return
    const delay = jitteredDelayMs(this.periodMs, this.#random())
    this.#timer = setTimeout(() => this.#publish(), delay)
    this.#timer.unref()
  }

  stop(): void {
    this.#started = false
    clearTimeout(this.#timer)
    clearTimeout(this.#soon)
    clearTimeout(this.#change)
    const { pubsub } = this.#init.node.services
    pubsub.topicValidators.delete(ADVERT_TOPIC)
    try {
      pubsub.unsubscribe(ADVERT_TOPIC)
    } catch {
      // already stopped
    }
  }

  /**
   * The local state changed: publish if the fields differ from the last advert, but not sooner
   * than a gap after the last publication (`changeGapMs`: a fifth of a period for a change that
   * matters to placement, half a period for counts only), and at least 50 ms from now so that a
   * burst of changes makes one advert. Called on every job start and end: cheap when an advert is
   * already due as soon as any change could make it.
   */
  changed(): void {
    if (!this.#started) return
    const now = this.#now()
    const earliest = Math.max(
      now + 50,
      this.#lastPublishedAt + changeGapMs(this.periodMs, 'placement'),
    )
    if (this.#change !== undefined && this.#changeAt <= earliest) return
    const change = advertChange(this.#lastFields, this.#init.source())
    if (change === 'none') return
    const at = Math.max(now + 50, this.#lastPublishedAt + changeGapMs(this.periodMs, change))
    // A pending publication of a lesser change is brought forward, never put back.
    if (this.#change !== undefined) {
      if (this.#changeAt <= at) return
      clearTimeout(this.#change)
    }
    this.#changeAt = at
    this.#change = setTimeout(() => {
      this.#change = undefined
      this.#changeAt = Number.POSITIVE_INFINITY
      // A slot taken and given back meanwhile: nothing to tell.
      if (advertChange(this.#lastFields, this.#init.source()) !== 'none') this.#publish()
    }, at - now)
    this.#change.unref()
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

  /**
   * A member was admitted: publish soon so that it has our advert without waiting a period (after
   * gossipsub's score cache refreshed, see {@link publishSoon}), but at most once per quarter
   * period. Every publication floods the whole mesh, and while a large mesh starts admissions
   * come every few hundred milliseconds: one advert per admission was most of the start-up load.
   */
  greet(): void {
    const gap = this.periodMs / 4
    this.publishSoon(Math.max(1_100, this.#lastPublishedAt + gap - this.#now()))
  }

  /** Adverts published so far, how many carried the certificate, how many asked for them. */
  stats(): { published: number; withCert: number; needCerts: number } {
    return { published: this.#published, ...this.#counts }
  }

  /** The latest advert this node published. */
  own(): Advert | undefined {
    return this.#last
  }

  /** The live advert of `peer`, if one arrived within the expiry window. */
  get(peer: PeerId | string): ReceivedAdvert | undefined {
    const r = this.#received.get(peer.toString())
    if (r === undefined || this.#now() > r.expiresAt) return undefined
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
    // Expired adverts leave the member count before it sets the period and ttl below.
    this.#expire()
    // This advert carries every change so far (a pending greeting still goes out: see `greet`).
    clearTimeout(this.#change)
    this.#change = undefined
    this.#changeAt = Number.POSITIVE_INFINITY
    const fields = this.#init.source()
    const now = this.#now()
    this.#lastPublishedAt = now
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
      ttl: this.expiryMs,
      ...(this.#certs.takeNeedCerts() ? { needCerts: true } : {}),
    }
    this.#last = advert
    this.#lastFields = advert
    this.#schedule()
    const cert = this.#certs.certToSend(this.#published)
    const needed = advert.needCerts === true
    this.#published++
    if (cert !== undefined) this.#counts.withCert++
    if (needed) this.#counts.needCerts++
    this.#init.node.services.pubsub
      .publish(ADVERT_TOPIC, encodeAdvert(advert, cert))
      .then((r) => {
        // Nobody heard it (no peers yet): what it carried is still owed.
        if (r.recipients.length === 0) this.#certs.unsent(cert !== undefined, needed)
      })
      .catch(() => this.#certs.unsent(cert !== undefined, needed))
  }

  #hear(author: string): void {
    // Bounded: a member relaying adverts of made-up authors can only lengthen our period up to
    // `maxIntervalMs`, and not grow this map past 10 000 entries.
    if (this.#heard.size >= 10_000 && !this.#heard.has(author)) this.#heard.clear()
    this.#heard.set(author, this.#now())
  }

  #expire(): void {
    for (const [peer, at] of this.#heard) {
      if (this.#now() - at > MAX_ADVERT_TTL_MS) this.#heard.delete(peer)
    }
    for (const [peer, r] of this.#received) {
      if (this.#now() > r.expiresAt) {
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
    this.#hear(author)
    const { advert } = decoded
    let cert: MemberCertificate | undefined
    // A member may relay an advert of a member we have no connection to: believe it only if the
    // author's certificate (carried, or held from before) is valid and names the signer. If not,
    // neither use nor forward it (no penalty for the relay: its revocation list may be older).
    if (!this.#init.isMember(msg.from)) {
      const check = await this.#init.checkAuthor?.(msg.from, decoded.cert)
      this.#init.onUnknownAuthor?.(msg.from, advert.addrs)
      if (check === undefined) {
        this.#certs.missingAuthorCert()
        return TopicValidatorResult.Ignore
      }
      if (!check.ok) {
        this.#init.onRejected?.(author, `author certificate: ${check.reason}`)
        return TopicValidatorResult.Ignore
      }
      cert = check.cert
    }
    const now = this.#now()
    if (Math.abs(advert.ts - now) > MAX_CLOCK_SKEW_MS) {
      // Neither used nor forwarded, but no penalty for the relay: the timestamp is the author's
      // (signed), and an advert also arrives late when a busy receiver or relay fell behind.
      // Rejecting it lowered the gossip score of honest relays until the mesh came apart.
      this.#init.onRejected?.(author, 'clock skew')
      return TopicValidatorResult.Ignore
    }
    const prev = this.#received.get(author)
    // Older or repeated: may come late over a second path, so ignore rather than penalise.
    if (prev !== undefined && advert.seq <= prev.advert.seq) return TopicValidatorResult.Ignore
    // An author new to us (or back after its advert expired) may lack our certificate too.
    this.#certs.accepted(prev?.expiresAt, now, advert.needCerts === true)
    const expiresAt = receivedExpiresAt(now, advert.ttl, this.#intervalMs)
    this.#received.set(
      author,
      cert === undefined
        ? { advert, receivedAt: now, expiresAt }
        : { advert, receivedAt: now, expiresAt, cert },
    )
    this.#init.onAdvert?.(msg.from, advert)
    return TopicValidatorResult.Accept
  }
}
