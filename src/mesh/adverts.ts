/**
 * Gossip adverts: every member publishes what it offers (cores, free slots, load, toolchains…)
 * on topic `meshcc/adverts/1`, when it changes and every `intervalMs` regardless, and keeps the
 * latest advert of every other member until `3 × intervalMs` pass without a new one.
 *
 * Gossipsub's StrictSign policy signs each message with the author's peer key and checks it before
 * the topic validator runs, so `msg.from` is authenticated. The validator then refuses anything
 * relayed by a peer that is not an admitted member, authored by one, oversize, malformed, more
 * than 30 s away from our clock, or not newer than the author's last advert.
 */
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { Message } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import { decodeAdvert, encodeAdvert, MAX_ADVERT_BYTES } from './advert-codec.ts'
import type { MeshNode } from './create-node.ts'
import type { Advert, AdvertSource } from './types.ts'

export const ADVERT_TOPIC = 'meshcc/adverts/1'
export const MAX_CLOCK_SKEW_MS = 30_000

export interface ReceivedAdvert {
  advert: Advert
  receivedAt: number
}

export interface AdvertsInit {
  node: MeshNode
  source: AdvertSource
  isMember: (peer: PeerId | string) => boolean
  version: string
  certExpiry: () => number
  /** Publish period; adverts expire after three periods without a new one. Default 2 s. */
  intervalMs?: number
  now?: () => number
  onAdvert?: (peerId: PeerId, advert: Advert) => void
  /** A member relayed an advert whose author is not connected to us (yet). */
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
    this.#intervalMs = init.intervalMs ?? 2_000
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
    return r
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
    this.#init.node.services.pubsub.publish(ADVERT_TOPIC, encodeAdvert(advert)).catch(() => {
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

  readonly #validate = (propagationSource: PeerId, msg: Message): TopicValidatorResult => {
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
    // A member may relay an advert of a member we have no connection to: we cannot check that
    // author's certificate, so we neither use nor forward it (no penalty for the relay), but we
    // may dial it (admission decides).
    if (!this.#init.isMember(msg.from)) {
      this.#init.onUnknownAuthor?.(msg.from, decoded.advert.addrs)
      return TopicValidatorResult.Ignore
    }
    const { advert } = decoded
    const now = this.#now()
    if (Math.abs(advert.ts - now) > MAX_CLOCK_SKEW_MS) return reject(author, 'clock skew')
    const prev = this.#received.get(author)
    // Older or repeated: may come late over a second path, so ignore rather than penalise.
    if (prev !== undefined && advert.seq <= prev.advert.seq) return TopicValidatorResult.Ignore
    this.#received.set(author, { advert, receivedAt: now })
    this.#init.onAdvert?.(msg.from, advert)
    return TopicValidatorResult.Accept
  }
}
