/**
 * The key holder's side of `/meshcc/renew/1.0.0`: reads one bounded request, renews the
 * presented certificate for the peer Noise authenticated on this connection (`renewCertificate`:
 * organisation, signature, subject = that peer, validity now, the current revocation list,
 * and at least half of its lifetime gone), and answers with the new certificate (same name,
 * roles and groups, a fresh validity window) or the reason for refusal. Wrap it in
 * `requireMember` so only admitted members reach it.
 *
 * @example
 * ```ts
 * await mesh.node.handle(RENEW_PROTOCOL, requireMember(mesh.admission, renewalHandler({
 *   org, crl: () => loadCrl(ids, [org]),
 * })), { maxInboundStreams: 2 })
 * ```
 */
import type { Connection, Stream } from '@libp2p/interface'
import { answerOnce } from '../enroll/frame.ts'
import { decodeCertificate } from '../identity/certificate.ts'
import type { RevocationList } from '../identity/crl.ts'
import { renewCertificate } from '../identity/renew.ts'
import type { Org } from '../identity/types.ts'
import {
  decodeRenewRequest,
  encodeRenewReply,
  MAX_RENEW_REPLY_BYTES,
  MAX_RENEW_REQUEST_BYTES,
  RENEW_TIMEOUT_MS,
  type RenewReply,
} from './wire.ts'

/** Share of a certificate's lifetime that must have passed before it is renewed. */
export const MIN_ELAPSED_FOR_RENEWAL = 1 / 2

export interface RenewalResult {
  ok: boolean
  reason?: string
  /** Host label of the renewed certificate. */
  name?: string
  /** Expiry of the new certificate, unix seconds. */
  expiresAt?: number
}

export interface RenewalInit {
  org: Org
  /** The current revocation list: a revoked member is refused (it needs a new invitation). */
  crl: () => Promise<RevocationList | undefined>
  /** Lifetime of the certificates issued (default 14 days). */
  certTtlSeconds?: number
  now?: () => number
  /** Called for every answered request (for the daemon's log). */
  onResult?: (peerId: string, result: RenewalResult) => void
}

export function renewalHandler(
  init: RenewalInit,
): (stream: Stream, connection: Connection) => Promise<void> {
  const limits = {
    maxRequestBytes: MAX_RENEW_REQUEST_BYTES,
    maxFrameBytes: MAX_RENEW_REPLY_BYTES,
    timeoutMs: RENEW_TIMEOUT_MS,
  }
  return async (stream, connection) => {
    await answerOnce(stream, limits, async (bytes) => {
      const request = bytes === undefined ? undefined : decodeRenewRequest(bytes)
      const reply = request === undefined ? malformed : await renew(init, request, connection)
      const cert = reply.ok ? decodeCertificate(reply.certificate) : undefined
      init.onResult?.(connection.remotePeer.toString(), {
        ok: reply.ok,
        ...(reply.ok ? {} : { reason: reply.reason }),
        ...(cert === undefined ? {} : { name: cert.name, expiresAt: cert.exp }),
      })
      return encodeRenewReply(reply)
    })
  }
}

const malformed: RenewReply = { ok: false, reason: 'malformed' }

async function renew(
  init: RenewalInit,
  request: { certificate: Uint8Array },
  connection: Connection,
): Promise<RenewReply> {
  let crl: RevocationList | undefined
  try {
    crl = await init.crl()
  } catch {
    // An unreadable list must not become a way around it: refuse until it is readable.
    return { ok: false, reason: 'internal' }
  }
  return renewCertificate(init.org, request.certificate, connection.remotePeer, {
    crl,
    minElapsed: MIN_ELAPSED_FOR_RENEWAL,
    ...(init.now === undefined ? {} : { now: init.now() }),
    ...(init.certTtlSeconds === undefined ? {} : { ttlSeconds: init.certTtlSeconds }),
  })
}
