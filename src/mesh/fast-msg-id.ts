/**
 * Gossipsub's fast message id for meshcc: a SHA-256 over every field of the message as received
 * (author, sequence number, topic, data, signature, key), each length-prefixed.
 *
 * Gossipsub checks a StrictSign message's Ed25519 signature *before* looking its id up in the
 * seen cache (the id is computed from the validated message), so each copy of an advert that
 * arrives over another mesh link was verified again: about D copies per advert. With a fast id
 * gossipsub recognises the copies first and verifies each message once. The id covers the
 * signature and key too, so only a byte-identical copy of a message that already passed
 * validation is skipped; a forged copy (same author and sequence number, other bytes or
 * signature) gets its own id and is verified (and refused) as before.
 */
import { createHash } from 'node:crypto'

/** The fields of gossipsub's `RPC.Message` the id covers. */
export interface RawGossipMessage {
  from?: Uint8Array | undefined
  seqno?: Uint8Array | undefined
  topic: string
  data?: Uint8Array | undefined
  signature?: Uint8Array | undefined
  key?: Uint8Array | undefined
}

const none = new Uint8Array(0)

export function fastMessageId(msg: RawGossipMessage): string {
  const h = createHash('sha256')
  const topic = Buffer.from(msg.topic, 'utf8')
  for (const part of [msg.from, msg.seqno, topic, msg.data, msg.signature, msg.key]) {
    const bytes = part ?? none
    const len = Buffer.allocUnsafe(5)
    // A missing field and an empty one differ (flag byte), and lengths keep fields apart.
    len.writeUInt8(part === undefined ? 0 : 1, 0)
    len.writeUInt32BE(bytes.byteLength, 1)
    h.update(len)
    h.update(bytes)
  }
  return h.digest('base64')
}
