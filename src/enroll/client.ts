/**
 * The joiner's side of `/meshcc/enroll/1.0.0` (`meshcc join --invite TOKEN`): with the node's
 * own peer key, a bare libp2p node (TCP, Noise, yamux, the private-network key if any; no
 * listening, no discovery, no other protocol) dials the addresses in the invitation, sends the
 * signed invitation and the proof bound to its peer id, and receives a certificate. It checks
 * that the answering peer is the inviter the token names, and that the certificate chains to
 * the organisation key in the token, is valid now and is for this node's own peer id, before
 * anyone saves it.
 *
 * @example
 * ```ts
 * const inv = parseInvitation(token)
 * const { certificate, cert } = await enroll({ invitation: inv, privateKey, name: hostname() })
 * await saveNodeIdentity(paths, { certificate, trustAnchor: inv.orgKey })
 * ```
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2pOptions } from 'libp2p'
import { EnrollmentError } from '../errors.ts'
import type { Certificate } from '../identity/certificate.ts'
import { type Invitation, invitationProof } from '../identity/invitation.ts'
import { verifyCertificate } from '../identity/verify-certificate.ts'
import { requestOnce } from './frame.ts'
import {
  decodeEnrollReply,
  ENROLL_PROTOCOL,
  ENROLL_TIMEOUT_MS,
  encodeEnrollRequest,
  MAX_ENROLL_REPLY_BYTES,
} from './wire.ts'

export interface EnrollOptions {
  invitation: Invitation
  /** This node's peer key: the certificate is bound to its peer id. */
  privateKey: PrivateKey
  /** Host label to ask for. */
  name: string
  /** Addresses to try besides the invitation's (`meshcc join --bootstrap`). */
  extraAddrs?: readonly string[]
  /** The organisation's private-network key, when the mesh uses one. */
  psk?: Uint8Array
  signal?: AbortSignal
}

export interface Enrolled {
  certificate: Uint8Array
  cert: Certificate
  /** The address that answered. */
  addr: string
}

export async function enroll(o: EnrollOptions): Promise<Enrolled> {
  const { invitation: inv, signal } = o
  signal?.throwIfAborted()
  const peerId = peerIdFromPrivateKey(o.privateKey)
  const inviter = inv.inviterPeerId
  const targets = [...new Set([...inv.addrs, ...(o.extraAddrs ?? [])])].map((a) =>
    inviter !== undefined && !a.includes('/p2p/') ? `${a}/p2p/${inviter}` : a,
  )
  if (targets.length === 0) {
    throw new EnrollmentError('the invitation names no address of the inviting node', {
      hint: 'make the invitation while the inviting daemon runs (`meshcc join` there first), or pass --bootstrap ADDR',
    })
  }
  const options: Libp2pOptions = {
    privateKey: o.privateKey,
    addresses: { listen: [] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    nodeInfo: { name: 'meshcc-enroll', version: '1' },
  }
  if (o.psk !== undefined) options.connectionProtector = preSharedKey({ psk: o.psk })
  const node = await createLibp2p(options)
  const failures: string[] = []
  try {
    for (const addr of targets) {
      const step = AbortSignal.timeout(ENROLL_TIMEOUT_MS)
      const s = signal === undefined ? step : AbortSignal.any([signal, step])
      let connection: Awaited<ReturnType<typeof node.dial>>
      try {
        connection = await node.dial(multiaddr(addr), { signal: s })
      } catch (err) {
        failures.push(`${addr}: ${(err as Error).message}`)
        continue
      }
      try {
        if (inviter !== undefined && connection.remotePeer.toString() !== inviter) {
          failures.push(`${addr}: answered by ${connection.remotePeer}, not the inviter ${inviter}`)
          continue
        }
        const request = encodeEnrollRequest({
          invitation: inv.signed,
          proof: invitationProof(inv, peerId),
          name: o.name,
        })
        const reply = decodeEnrollReply(
          await requestOnce(connection, ENROLL_PROTOCOL, request, {
            maxReplyBytes: MAX_ENROLL_REPLY_BYTES,
            timeoutMs: ENROLL_TIMEOUT_MS,
            signal: s,
          }),
        )
        if (reply === undefined) {
          failures.push(`${addr}: unreadable reply`)
          continue
        }
        if (!reply.ok) throw refusal(reply.reason)
        const checked = verifyCertificate(reply.certificate, {
          trustedOrgKeys: [inv.orgKey],
          expectedPeerId: peerId,
        })
        if (!checked.ok) {
          throw new EnrollmentError(
            `the inviting node sent a certificate that is ${checked.reason}`,
          )
        }
        return { certificate: reply.certificate, cert: checked.cert, addr }
      } catch (err) {
        if (err instanceof EnrollmentError) throw err
        failures.push(`${addr}: ${(err as Error).message}`)
      } finally {
        await connection.close().catch(() => {})
      }
    }
  } finally {
    await Promise.resolve(node.stop()).catch(() => {})
  }
  signal?.throwIfAborted()
  throw new EnrollmentError(`could not reach the inviting node (${failures.join('; ')})`, {
    hint: 'check that its daemon runs (`meshcc peers` there) and that this machine can reach the address',
  })
}

const reasons: Record<string, string> = {
  'used-up': 'the invitation has already been used as many times as it allows',
  expired: 'the invitation has expired',
  revoked: 'this node has been revoked from the organisation',
  'bad-proof': 'the invitation token is damaged (its secret does not match)',
  'wrong-org': 'the node that answered holds another organisation',
  malformed: 'the inviting node could not read the request',
  'not-admin': 'the node that answered cannot issue certificates',
}

function refusal(reason: string): EnrollmentError {
  return Object.assign(
    new EnrollmentError(`the inviting node refused: ${reasons[reason] ?? reason}`, {
      hint: 'ask an admin for a new invitation (`meshcc org invite` on the admin node)',
    }),
    { reason },
  )
}
