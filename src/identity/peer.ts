/**
 * Peer id helpers: certificates name their subject by the libp2p peer id's multihash bytes.
 *
 * meshcc nodes use Ed25519 peer keys, whose peer id is an identity multihash embedding the
 * public key (38 bytes: `00 24 08 01 12 20` + key). Only those are accepted as subjects, which
 * lets us rebuild and print the peer id from a certificate with the declared dependencies only.
 */
import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromPublicKey, peerIdFromString } from '@libp2p/peer-id'
import { bytesEqual } from './encoding.ts'

const ED25519_IDENTITY_PREFIX = Uint8Array.of(0x00, 0x24, 0x08, 0x01, 0x12, 0x20)
export const SUBJECT_LENGTH = 38

/** Anything that names a peer: a PeerId, its string form, or its multihash bytes. */
export type PeerRef = PeerId | string | Uint8Array

/** The multihash bytes of a peer reference; throws RangeError on an invalid string. */
export function peerMultihash(peer: PeerRef): Uint8Array {
  if (peer instanceof Uint8Array) return peer
  if (typeof peer === 'string') {
    try {
      return peerIdFromString(peer).toMultihash().bytes
    } catch (err) {
      throw new RangeError(`invalid peer id ${JSON.stringify(peer)}`, { cause: err })
    }
  }
  return peer.toMultihash().bytes
}

/** The peer id string of an Ed25519 identity multihash, or undefined if it is not one. */
export function peerIdStringFromSubject(subject: Uint8Array): string | undefined {
  if (subject.length !== SUBJECT_LENGTH) return undefined
  if (!bytesEqual(subject.subarray(0, ED25519_IDENTITY_PREFIX.length), ED25519_IDENTITY_PREFIX)) {
    return undefined
  }
  try {
    const peerId = peerIdFromPublicKey(
      publicKeyFromRaw(subject.slice(ED25519_IDENTITY_PREFIX.length)),
    )
    return bytesEqual(peerId.toMultihash().bytes, subject) ? peerId.toString() : undefined
  } catch {
    return undefined
  }
}
