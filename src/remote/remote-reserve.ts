/**
 * The daemon's `ReserveFn`: a real slot reservation on the builder, after the client's own
 * bookkeeping. First the advert accounting (`advertReserve`): a member our figures show full is
 * skipped with no network at all (`no-room`). Otherwise the job's own stream is opened on the
 * open connection and starts with the reservation (`job-protocol.ts`): granted (the open stream,
 * a {@link JobChannel}, becomes the slot's lease: the job goes on it once preprocessed, and the
 * placement gives it up if the slot is released unused), or busy at once (the placement moves on
 * to the next candidate). Trouble on the way (no connection, a reset, a malformed answer, a
 * builder that does not speak this job protocol, a sandbox that refuses) rejects, which the
 * placement counts like an unreachable member.
 *
 * The stream comes negotiated ahead where it can (`job-streams.ts`), and a builder known to
 * start compiles early gets the job's head in the same write as the reservation.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { advertReserve } from '../scheduler/advert-reserve.ts'
import type { Placement } from '../scheduler/placement.ts'
import type { ReserveFn } from '../scheduler/types.ts'
import { JobChannel } from './job-protocol.ts'
import { JobStreams } from './job-streams.ts'
import type { JobDialer } from './remote-executor.ts'
import { reserveRequest } from './reserve-codec.ts'

export function remoteReserve(
  node: JobDialer,
  placement: () => Placement | undefined,
  streams: JobStreams = new JobStreams(),
): ReserveFn {
  const own = advertReserve(placement)
  return async (peer, request, options) => {
    const mine = await own(peer, request, options)
    if (!mine.granted) return mine
    const { signal } = options
    const opts = signal === undefined ? {} : { signal }
    const target = peerIdFromString(peer)
    const conn = await node.dial(target, opts)
    if (!conn.remotePeer.equals(target))
      throw new Error(`connection for ${peer} leads to ${conn.remotePeer}`)
    const channel = new JobChannel(await streams.open(conn, opts), peer)
    let reply: Awaited<ReturnType<JobChannel['reserve']>>
    try {
      // A builder whose grants offer early start gets the job's head right behind the
      // reservation: its compile starts a round trip sooner.
      const ahead = streams.earlyStart(conn) ? request.ahead : undefined
      reply = await channel.reserve(reserveRequest(request), { ...opts, ahead })
      // Given up meanwhile (the placement's timeout): a late grant must not hold the slot.
      signal?.throwIfAborted()
    } catch (err) {
      channel.abort(err)
      throw err
    }
    if (reply.status === 'granted') {
      streams.noteGrant(conn, channel.earlyStart)
      return { granted: true, lease: channel }
    }
    channel.abort(new Error(`reservation ${reply.status}`))
    if (reply.status === 'busy') return { granted: false, reason: 'busy' }
    throw new Error(`${peer} refused the reservation (its sandbox does not run jobs)`)
  }
}
