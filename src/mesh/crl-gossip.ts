/**
 * Spreading the organisation's revocation list: every member that holds a list publishes it on
 * topic `meshcc/crl/1` when it gets a newer one, when a member is admitted (so a newcomer that is
 * behind catches up) and every `intervalMs`. The list is signed by the organisation key, so who
 * relays it does not matter as long as it is a member; {@link Revocations.offer} (the identity
 * module) verifies the signature and that the list is newer, and stores it. A newer list makes
 * admission re-check every member at once, cutting off the revoked ones.
 */
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { Message } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import type { MeshNode } from './create-node.ts'

export const CRL_TOPIC = 'meshcc/crl/1'

/** The node's revocation list store (implemented over `src/identity/` by `identity-revocations.ts`). */
export interface Revocations {
  /** The signed list this node holds, as received (what to gossip); undefined if none. */
  bytes(): Uint8Array | undefined
  /** A list from the mesh: `accepted` if valid and newer (then stored), `stale`, or `invalid`. */
  offer(bytes: Uint8Array): Promise<'accepted' | 'stale' | 'invalid'>
}

export interface CrlGossipInit {
  node: MeshNode
  revocations: Revocations
  isMember: (peer: PeerId | string) => boolean
  /** A newer list was accepted from the mesh. */
  onNewList: () => void
  onRejected?: (from: string, reason: string) => void
  /** Default 30 s. */
  intervalMs?: number
}

export class CrlGossip {
  readonly #init: CrlGossipInit
  #timer: NodeJS.Timeout | undefined
  #soon: NodeJS.Timeout | undefined
  #started = false

  constructor(init: CrlGossipInit) {
    this.#init = init
  }

  /** Installs the validator; call before `node.start()`. */
  start(): void {
    this.#init.node.services.pubsub.topicValidators.set(CRL_TOPIC, this.#validate)
    this.#started = true
  }

  /** Subscribes and starts periodic publishing; call once the node runs. */
  run(): void {
    this.#init.node.services.pubsub.subscribe(CRL_TOPIC)
    this.#timer = setInterval(() => this.#publish(), this.#init.intervalMs ?? 30_000)
    this.#timer.unref()
  }

  stop(): void {
    this.#started = false
    clearInterval(this.#timer)
    clearTimeout(this.#soon)
    const { pubsub } = this.#init.node.services
    pubsub.topicValidators.delete(CRL_TOPIC)
    try {
      pubsub.unsubscribe(CRL_TOPIC)
    } catch {
      // already stopped
    }
  }

  /** Publishes the held list after `delayMs` (coalesced). */
  publishSoon(delayMs = 0): void {
    if (this.#soon !== undefined || !this.#started) return
    this.#soon = setTimeout(() => {
      this.#soon = undefined
      this.#publish()
    }, delayMs)
    this.#soon.unref()
  }

  #publish(): void {
    const bytes = this.#init.revocations.bytes()
    if (!this.#started || bytes === undefined) return
    this.#init.node.services.pubsub.publish(CRL_TOPIC, bytes).catch(() => {})
  }

  readonly #validate = async (source: PeerId, msg: Message): Promise<TopicValidatorResult> => {
    if (msg.type !== 'signed' || !this.#init.isMember(source)) {
      this.#init.onRejected?.(source.toString(), 'relayed by a non-member')
      return TopicValidatorResult.Reject
    }
    const verdict = await this.#init.revocations.offer(msg.data)
    if (verdict === 'invalid') {
      this.#init.onRejected?.(source.toString(), 'invalid revocation list')
      return TopicValidatorResult.Reject
    }
    if (verdict === 'stale') return TopicValidatorResult.Ignore
    this.#init.onNewList()
    return TopicValidatorResult.Accept
  }
}
