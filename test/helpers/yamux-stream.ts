/**
 * A js-yamux stream (its own class and methods) with only the window state set, for the tests of
 * meshcc's window handling: the frames it sends are collected instead of written.
 */
import { YamuxStream } from '@chainsafe/libp2p-yamux/stream'

export interface Frame {
  type: number
  flag: number
  streamID: number
  length: number
}

/** js-yamux 8's defaults and wire values. */
export const WINDOW = 256 * 1024
export const SYN_RECEIVED = 2
export const ESTABLISHED = 3
export const WINDOW_UPDATE = 1
export const ACK = 2

/** The window fields js-yamux keeps private. */
export interface WindowState {
  recvWindow: number
  recvWindowCapacity: number
}

/** A stream in `state` with `consumed` bytes of its 256 KiB receive window unread-for. */
export function fakeYamuxStream(
  state: number,
  consumed: number,
  streamId = 7,
): { s: YamuxStream; window: WindowState; sent: Frame[] } {
  const sent: Frame[] = []
  const s = Object.create(YamuxStream.prototype) as YamuxStream
  Object.assign(s, {
    streamId,
    state,
    recvWindow: WINDOW,
    recvWindowCapacity: WINDOW - consumed,
    maxStreamWindowSize: 16 * 1024 * 1024,
    epochStart: 0,
    getRTT: () => -1,
    sendFrame: (f: Frame) => {
      sent.push(f)
      return true
    },
  })
  return { s, window: s as unknown as WindowState, sent }
}
