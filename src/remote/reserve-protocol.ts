/**
 * `/meshcc/reserve/1.0.0`: a client asks a builder to hold one compile slot before it sends the
 * job. One stream on the already-open, admitted connection, one request, one response
 * (`reserve-codec.ts`); the builder answers at once (granted with a token, or busy), it never
 * waits for a slot. The client runs it while it preprocesses, so the round trip costs no wall
 * time per job.
 */
import type { Connection, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import {
  decodeReserveRequest,
  decodeReserveResponse,
  encodeReserveRequest,
  encodeReserveResponse,
  MAX_RESERVE_MESSAGE,
  type ReserveRequest,
  type ReserveResponse,
} from './reserve-codec.ts'

export const RESERVE_PROTOCOL = '/meshcc/reserve/1.0.0'

const frames = (stream: Stream) =>
  lpStream(stream, { maxDataLength: MAX_RESERVE_MESSAGE, maxBufferSize: MAX_RESERVE_MESSAGE + 16 })

/**
 * Builder side: reads the request (within `readTimeoutMs`), answers with `decide`'s verdict and
 * closes. A malformed request is answered `refused`.
 */
export async function serveReservation(
  stream: Stream,
  decide: (request: ReserveRequest) => ReserveResponse,
  { readTimeoutMs = 5_000 }: { readTimeoutMs?: number } = {},
): Promise<void> {
  const lp = frames(stream)
  let response: ReserveResponse
  try {
    const msg = await lp.read({ signal: AbortSignal.timeout(readTimeoutMs) })
    try {
      response = decide(decodeReserveRequest(msg.subarray()))
    } catch {
      response = { v: 1, status: 'refused' }
    }
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    return
  }
  try {
    await lp.write(encodeReserveResponse(response))
    await stream.close()
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
  }
}

/** Client side, on an open connection to the builder. Throws when the exchange fails. */
export async function requestReservation(
  conn: Pick<Connection, 'newStream'>,
  request: ReserveRequest,
  { signal }: { signal?: AbortSignal } = {},
): Promise<ReserveResponse> {
  const opts = signal === undefined ? {} : { signal }
  const stream = await conn.newStream(RESERVE_PROTOCOL, opts)
  try {
    const lp = frames(stream)
    await lp.write(encodeReserveRequest(request), opts)
    const msg = await lp.read(opts)
    const response = decodeReserveResponse(msg.subarray())
    await stream.close(opts).catch(() => {})
    return response
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    throw err
  }
}
