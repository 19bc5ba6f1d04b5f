/**
 * Fewer yamux window updates. js-yamux 8 answers every data frame a stream receives with a window
 * update, even a 67-byte frame into a 256 KiB window. On a remote job's streams those updates
 * were two of the client's four socket writes per job, and as many of the builder's: each a
 * system call and an encryption here, and on the other side a wake-up, a decryption and a frame
 * to handle, all for no data (the micro benchmark's profile: socket writes were the largest item
 * of both daemons).
 *
 * go-yamux, like hashicorp/yamux before it, sends an update only once the consumed part of the
 * window reaches half of it, or when a flag must go out (the ACK of a new stream). This applies
 * that rule to js-yamux's streams: an established stream skips the update while less than half
 * its window is consumed; everything else (flags, the window's growth, pause and resume) is
 * js-yamux's own code. A sender never waits for it: it still has half a window when the update
 * leaves. Both ends of a meshcc connection run this; a peer that does not is unaffected, since
 * updates are only ever permissions to send more.
 *
 * It replaces `YamuxStream.prototype.sendWindowUpdate` (the package's `./stream` export), once
 * per process, before the first node starts. A class that does not look as expected (another
 * version of the package) is left alone.
 */
import { YamuxStream } from '@chainsafe/libp2p-yamux/stream'

/** `StreamState.Established` in @chainsafe/libp2p-yamux 8. */
const ESTABLISHED = 3

interface WindowFields {
  state: number
  recvWindow: number
  recvWindowCapacity: number
}

type Patched = { sendWindowUpdate(): void; [PATCHED]?: true }
const PATCHED = Symbol.for('meshcc.yamux-window-updates')

/** Applies the rule (idempotent); false when js-yamux's stream class is not the one expected. */
export function sendFewerWindowUpdates(): boolean {
  const proto = YamuxStream.prototype as unknown as Patched
  if (proto[PATCHED] === true) return true
  const original = proto.sendWindowUpdate
  if (typeof original !== 'function' || original.length !== 0) return false
  proto.sendWindowUpdate = function (this: WindowFields & Patched): void {
    const { state, recvWindow, recvWindowCapacity } = this
    if (
      state === ESTABLISHED &&
      typeof recvWindow === 'number' &&
      typeof recvWindowCapacity === 'number' &&
      recvWindow - recvWindowCapacity < recvWindow / 2
    )
      return
    original.call(this)
  }
  proto[PATCHED] = true
  return true
}
