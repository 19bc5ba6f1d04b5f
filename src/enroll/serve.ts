/**
 * The admin node's side of `/meshcc/enroll/1.0.0`: reads one bounded request, redeems the
 * invitation for the peer Noise authenticated on this connection (`redeemInvitation`: org,
 * proof, expiry, revocation list, then the persisted use count), and answers with the
 * certificate or the reason for refusal. The connection is not admitted by doing so: the joiner
 * closes it and connects again as a member, with the certificate it just received.
 *
 * @example
 * ```ts
 * await node.handle(ENROLL_PROTOCOL, enrollmentHandler({ org, ledger, crl: () => loadCrl(…) }), {
 *   maxInboundStreams: 1,
 * })
 * ```
 */
import type { Connection, Stream } from '@libp2p/interface'
import type { RevocationList } from '../identity/crl.ts'
import { type InvitationLedger, redeemInvitation } from '../identity/invitation-ledger.ts'
import type { Org } from '../identity/types.ts'
import { answerOnce } from './frame.ts'
import {
  decodeEnrollRequest,
  ENROLL_TIMEOUT_MS,
  type EnrollReply,
  encodeEnrollReply,
  MAX_ENROLL_REPLY_BYTES,
  MAX_ENROLL_REQUEST_BYTES,
} from './wire.ts'

export interface EnrollmentInit {
  org: Org
  ledger: InvitationLedger
  /** The current revocation list: a revoked peer cannot come back with a new invitation. */
  crl: () => Promise<RevocationList | undefined>
  certTtlSeconds?: number
  /** Called for every answered request (for the daemon's log). */
  onResult?: (peerId: string, reply: EnrollReply & { name?: string }) => void
}

export function enrollmentHandler(
  init: EnrollmentInit,
): (stream: Stream, connection: Connection) => Promise<void> {
  return async (stream, connection) => {
    const limits = {
      maxRequestBytes: MAX_ENROLL_REQUEST_BYTES,
      maxFrameBytes: MAX_ENROLL_REPLY_BYTES,
      timeoutMs: ENROLL_TIMEOUT_MS,
    }
    await answerOnce(stream, limits, async (bytes) => {
      const request = bytes === undefined ? undefined : decodeEnrollRequest(bytes)
      let reply: EnrollReply
      if (request === undefined) reply = { ok: false, reason: 'malformed' }
      else {
        const r = await redeemInvitation(
          init.ledger,
          request.invitation,
          request.proof,
          connection.remotePeer,
          {
            org: init.org,
            name: request.name,
            crl: await init.crl(),
            ...(init.certTtlSeconds === undefined ? {} : { certTtlSeconds: init.certTtlSeconds }),
          },
        )
        reply = r.ok ? { ok: true, certificate: r.certificate } : { ok: false, reason: r.reason }
      }
      init.onResult?.(connection.remotePeer.toString(), {
        ...reply,
        ...(request === undefined ? {} : { name: request.name }),
      })
      return encodeEnrollReply(reply)
    })
  }
}
