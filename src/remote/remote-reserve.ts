/**
 * The daemon's `ReserveFn`: a real slot reservation on the builder, after the client's own
 * bookkeeping. First the advert accounting (`advertReserve`): a member our figures show full is
 * skipped with no network at all (`no-room`). Otherwise one `/meshcc/reserve/1.0.0` exchange on
 * the open connection: granted (the token becomes the slot's lease, sent with the job), or busy
 * at once (the placement moves on to the next candidate). Trouble on the way (no connection, a
 * reset, a malformed answer, a sandbox that refuses) rejects, which the placement counts like an
 * unreachable member. A builder too old to know the protocol is granted on the advert alone, as
 * before, and its job is then admitted or turned away BUSY when it arrives.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { advertReserve } from '../scheduler/advert-reserve.ts'
import type { Placement } from '../scheduler/placement.ts'
import type { ReserveFn } from '../scheduler/types.ts'
import { RESERVE_VERSION, type ReserveRequest } from './reserve-codec.ts'
import { requestReservation } from './reserve-protocol.ts'
import type { JobDialer } from './remote-executor.ts'

const MAX_ESTIMATE_MS = 86_400_000

export function remoteReserve(node: JobDialer, placement: () => Placement | undefined): ReserveFn {
  const own = advertReserve(placement)
  return async (peer, request, options) => {
    const mine = await own(peer, request, options)
    if (!mine.granted) return mine
    const { signal } = options
    const target = peerIdFromString(peer)
    const conn = await node.dial(target, signal === undefined ? {} : { signal })
    if (!conn.remotePeer.equals(target))
      throw new Error(`connection for ${peer} leads to ${conn.remotePeer}`)
    const req: ReserveRequest = { v: RESERVE_VERSION, toolchain: request.toolchain }
    if (request.estimateMs !== undefined && Number.isFinite(request.estimateMs))
      req.estimateMs = Math.min(MAX_ESTIMATE_MS, Math.max(0, Math.round(request.estimateMs)))
    let reply: Awaited<ReturnType<typeof requestReservation>>
    try {
      reply = await requestReservation(conn, req, signal === undefined ? {} : { signal })
    } catch (err) {
      if ((err as { name?: string } | null)?.name === 'UnsupportedProtocolError')
        return { granted: true }
      throw err
    }
    if (reply.status === 'granted') return { granted: true, lease: reply.token }
    if (reply.status === 'busy') return { granted: false, reason: 'busy' }
    throw new Error(`${peer} refused the reservation (its sandbox does not run jobs)`)
  }
}
