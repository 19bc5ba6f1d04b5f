/**
 * A job stream's wider receive window: granted with one window update that carries the whole
 * increase (the sender may send that much more at once), once; nothing for a stream that is not
 * js-yamux's or whose window is already as wide. The streams are js-yamux's own class, with its
 * own `sendWindowUpdate` (under meshcc's rule for updates, as in the daemon). Real connections
 * carry it in the remote job tests.
 */
import assert from 'node:assert/strict'
import { YamuxStream } from '@chainsafe/libp2p-yamux/stream'
import type { Stream } from '@libp2p/interface'
import { streamPair } from '@libp2p/utils'
import { describe, it } from 'node:test'
import { widenReceiveWindow } from '../../../src/mesh/stream-window.ts'
import { sendFewerWindowUpdates } from '../../../src/mesh/yamux-window-updates.ts'

interface Frame {
  type: number
  flag: number
  streamID: number
  length: number
}

const WINDOW = 256 * 1024
const MiB = 2 ** 20
const ESTABLISHED = 3
const WINDOW_UPDATE = 1

/** The window fields js-yamux keeps private. */
interface Window {
  recvWindow: number
  recvWindowCapacity: number
}

function yamuxStream(consumed = 0): { s: Stream; y: Window; sent: Frame[] } {
  const sent: Frame[] = []
  const y = Object.create(YamuxStream.prototype) as YamuxStream
  Object.assign(y, {
    streamId: 5,
    state: ESTABLISHED,
    recvWindow: WINDOW,
    recvWindowCapacity: WINDOW - consumed,
    maxStreamWindowSize: 16 * MiB,
    epochStart: 0,
    getRTT: () => -1,
    sendFrame: (f: Frame) => {
      sent.push(f)
      return true
    },
  })
  return { s: y as unknown as Stream, y: y as unknown as Window, sent }
}

describe('widenReceiveWindow', () => {
  sendFewerWindowUpdates()

  it('grants the whole increase in one window update', () => {
    const { s, y, sent } = yamuxStream(1000)
    assert.equal(widenReceiveWindow(s, 2 * MiB), true)
    assert.deepEqual(sent, [
      { type: WINDOW_UPDATE, flag: 0, streamID: 5, length: 2 * MiB - WINDOW + 1000 },
    ])
    assert.equal(y.recvWindow, 2 * MiB)
    assert.equal(y.recvWindowCapacity, 2 * MiB)
  })

  it('grants once: a window already as wide is left alone', () => {
    const { s, sent } = yamuxStream()
    widenReceiveWindow(s, 2 * MiB)
    assert.equal(widenReceiveWindow(s, 2 * MiB), false)
    assert.equal(widenReceiveWindow(s, MiB), false)
    assert.equal(sent.length, 1)
  })

  it('does nothing to a stream that is not a yamux stream', async () => {
    const [a, b] = await streamPair()
    assert.equal(widenReceiveWindow(a, 2 * MiB), false)
    await Promise.all([a.close(), b.close()])
  })
})
