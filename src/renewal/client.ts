/**
 * The member's side of `/meshcc/renew/1.0.0`: finds a member that holds the organisation key
 * and asks it to renew this node's certificate.
 *
 * Who holds the key is not written anywhere a member can read, so candidates are tried in
 * order of likelihood: connected members whose identify record lists the renewal protocol
 * (only key holders serve it; libp2p also lists a protocol a peer opened to us, which costs one
 * failed negotiation at worst), then connected members whose certificate carries the `admin`
 * role, then `admin` members known from gossip that this node is not connected to (dialled on
 * demand; the mesh keeps a bounded set of connections). A certificate received is believed
 * only if it chains to this node's trust anchor, names this node's peer id, is valid now and
 * lasts longer than the current one.
 *
 * @example
 * ```ts
 * const r = await requestRenewal({ mesh, identity: () => mesh.identity(), signal })
 * if (r.ok) await saveRenewed(paths, r.certificate)
 * ```
 */
import type { Connection, PeerId } from '@libp2p/interface'
import { requestOnce } from '../enroll/frame.ts'
import type { Certificate } from '../identity/certificate.ts'
import type { NodeIdentity } from '../identity/node-identity.ts'
import { verifyCertificate } from '../identity/verify-certificate.ts'
import type { Mesh } from '../mesh/mesh-service.ts'
import {
  decodeRenewReply,
  encodeRenewRequest,
  MAX_RENEW_REPLY_BYTES,
  RENEW_PROTOCOL,
  RENEW_TIMEOUT_MS,
} from './wire.ts'

/** Refusals after which asking again (here or elsewhere) cannot help: a new invitation can. */
export const TERMINAL_REASONS: ReadonlySet<string> = new Set([
  'expired',
  'revoked',
  'wrong-org',
  'bad-signature',
  'subject-mismatch',
])

/** At most this many key holders are asked per attempt. */
const MAX_CANDIDATES = 6

export type RenewalAttempt =
  | { ok: true; certificate: Uint8Array; cert: Certificate; by: string }
  | {
      ok: false
      /** `no-admin-reachable`, or the last refusal or failure. */
      reason: string
      /** The certificate cannot be renewed any more (expired, revoked): join again. */
      terminal: boolean
      /** What each candidate answered, for the log. */
      tried: Array<{ peer: string; result: string }>
    }

export interface RequestRenewalInit {
  mesh: Pick<Mesh, 'node' | 'admission' | 'snapshot' | 'dial'>
  identity: () => NodeIdentity
  now?: () => number
  signal?: AbortSignal
}

export async function requestRenewal(init: RequestRenewalInit): Promise<RenewalAttempt> {
  const { mesh, signal } = init
  const current = init.identity()
  const tried: Array<{ peer: string; result: string }> = []
  let refusal: string | undefined
  for (const peer of await candidates(init)) {
    signal?.throwIfAborted()
    let reply: Awaited<ReturnType<typeof ask>>
    try {
      reply = await ask(mesh, peer, current.certificate, signal)
    } catch (err) {
      tried.push({ peer, result: `${(err as Error).name}: ${(err as Error).message}` })
      continue
    }
    if (reply === undefined) {
      tried.push({ peer, result: 'unreadable reply' })
      continue
    }
    if (!reply.ok) {
      tried.push({ peer, result: reply.reason })
      refusal = reply.reason
      if (TERMINAL_REASONS.has(reply.reason)) {
        return { ok: false, reason: reply.reason, terminal: true, tried }
      }
      continue
    }
    const checked = verifyCertificate(reply.certificate, {
      trustedOrgKeys: [current.trustAnchor],
      expectedPeerId: mesh.node.peerId,
      ...(init.now === undefined ? {} : { now: init.now() }),
    })
    if (!checked.ok) {
      tried.push({ peer, result: `sent a certificate that is ${checked.reason}` })
      continue
    }
    if (checked.cert.exp <= current.cert.exp) {
      tried.push({ peer, result: 'sent a certificate that is no newer' })
      continue
    }
    return { ok: true, certificate: reply.certificate, cert: checked.cert, by: peer }
  }
  return {
    ok: false,
    reason: refusal ?? (tried.length === 0 ? 'no-admin-known' : 'no-admin-reachable'),
    terminal: false,
    tried,
  }
}

/** Peer ids to ask, most likely key holders first. */
async function candidates(init: RequestRenewalInit): Promise<string[]> {
  const { mesh } = init
  const serving: string[] = []
  const admins: string[] = []
  for (const m of mesh.admission.members()) {
    const id = m.peerId.toString()
    const protocols = await mesh.node.peerStore
      .get(m.peerId)
      .then((p) => p.protocols)
      .catch(() => [] as string[])
    if (protocols.includes(RENEW_PROTOCOL)) serving.push(id)
    else if (m.cert.roles.includes('admin')) admins.push(id)
  }
  let known: string[] = []
  try {
    known = mesh
      .snapshot()
      .peers.filter((p) => !p.connected && p.roles.includes('admin'))
      .map((p) => p.peerId)
  } catch {
    // no directory yet
  }
  return [...new Set([...serving, ...admins, ...known])].slice(0, MAX_CANDIDATES)
}

/** Sends the renewal request to `peer` over an admitted connection (dialling it if needed). */
async function ask(
  mesh: RequestRenewalInit['mesh'],
  peer: string,
  certificate: Uint8Array,
  signal: AbortSignal | undefined,
): Promise<ReturnType<typeof decodeRenewReply>> {
  let conn = admittedConnection(mesh, peer)
  if (conn === undefined) {
    await mesh.dial(peer)
    const open = mesh.node.getConnections().find((c) => c.remotePeer.toString() === peer)
    if (open === undefined) throw new Error('no connection after dialling')
    const step = AbortSignal.timeout(RENEW_TIMEOUT_MS)
    const ok = await mesh.admission.whenMember(open, {
      signal: signal === undefined ? step : AbortSignal.any([signal, step]),
    })
    if (!ok) throw new Error('not admitted')
    conn = open
  }
  const reply = await requestOnce(conn, RENEW_PROTOCOL, encodeRenewRequest({ certificate }), {
    maxReplyBytes: MAX_RENEW_REPLY_BYTES,
    timeoutMs: RENEW_TIMEOUT_MS,
    ...(signal === undefined ? {} : { signal }),
  })
  return decodeRenewReply(reply)
}

function admittedConnection(
  mesh: RequestRenewalInit['mesh'],
  peer: string,
): Connection | undefined {
  const member = mesh.admission.member(peer)
  if (member === undefined) return undefined
  return mesh.node
    .getConnections(member.peerId as PeerId)
    .find((c) => c.status === 'open' && member.connections.has(c.id))
}
