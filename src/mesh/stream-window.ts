/**
 * A wider receive window for one yamux stream, granted at once.
 *
 * Why: every yamux stream starts with a 256 KiB window in each direction, and js-yamux widens it
 * only as the stream proves fast (doubling per quick round, up to 16 MiB). A remote job's stream
 * is new and carries one large message each way: the compressed preprocessed unit (460 KB for a
 * C++ unit of 2.6 MB) and the object. With 256 KiB, at most that much is in flight per round
 * trip: within an office (1 ms) that is still 250 MB/s, but between offices (30 ms) it is
 * 8.5 MB/s, and a 460 KB unit takes two round trips instead of one; and each half window read
 * costs an update frame to send and to handle. With the grant, a message of up to the granted
 * size leaves in one burst. On loopback, where a round trip costs next to nothing, the builder
 * made 6.8 `writev` calls per C++ job instead of 8.3 (its sockets and its sandbox launcher's
 * pipe; one run of 10 jobs each way), and the CPU figures moved within their noise (also
 * `bench/micro/libp2p-floor.ts --grant`).
 *
 * How: the receiver raises its window and tells the sender with a window update, the standard
 * yamux way (the sender may then send that much more). Nothing is negotiated: a peer that never
 * grants simply keeps the default, and a peer that receives a grant is only allowed to send more.
 * Memory stays bounded by the job protocol's message limits: the window is what a peer may send
 * before this side reads, and both sides read job streams as data arrives.
 *
 * The update is queued like any frame: called in the same turn as a write on the stream, it
 * leaves in the same socket write (`tcp-write-batching.ts`).
 */
import type { Stream } from '@libp2p/interface'

/** The fields and method of js-yamux 8's `YamuxStream` this relies on. */
interface YamuxWindow {
  recvWindow: number
  recvWindowCapacity: number
  sendWindowUpdate(): void
}

function isYamuxWindow(stream: object): stream is YamuxWindow {
  const s = stream as Partial<YamuxWindow>
  return (
    typeof s.recvWindow === 'number' &&
    typeof s.recvWindowCapacity === 'number' &&
    typeof s.sendWindowUpdate === 'function'
  )
}

/**
 * Lets the remote send up to `bytes` on `stream` before it waits for this side (js-yamux may
 * double it once more by its own growth rule). The update goes at once unless less than half
 * the window would be new (`yamux-window-updates.ts`'s rule; the next update then carries it).
 * False when the stream is not a yamux stream (another muxer, a test's stream pair) or its
 * window is already at least that wide.
 */
export function widenReceiveWindow(stream: Stream, bytes: number): boolean {
  if (!isYamuxWindow(stream) || stream.recvWindow >= bytes) return false
  stream.recvWindow = bytes
  stream.sendWindowUpdate()
  return true
}
