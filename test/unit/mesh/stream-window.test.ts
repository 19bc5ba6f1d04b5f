/**
 * A job stream's wider receive window: granted with one window update that carries the whole
 * increase (the sender may send that much more at once), once; nothing for a stream that is not
 * js-yamux's or whose window is already as wide. The streams are js-yamux's own class, with its
 * own `sendWindowUpdate` (under meshcc's rule for updates, as in the daemon). Real connections
 * carry it in the remote job tests.
 */
import assert from 'node:assert/strict'
import type { Stream } from '@libp2p/interface'
import { streamPair } from '@libp2p/utils'
import { describe, it } from 'node:test'
import { widenReceiveWindow } from '../../../src/mesh/stream-window.ts'
import { sendFewerWindowUpdates } from '../../../src/mesh/yamux-window-updates.ts'
import { ESTABLISHED, fakeYamuxStream, WINDOW, WINDOW_UPDATE } from '../../helpers/yamux-stream.ts'

const MiB = 2 ** 20

function yamuxStream(consumed = 0) {
  const { s, window, sent } = fakeYamuxStream(ESTABLISHED, consumed, 5)
  return { s: s as unknown as Stream, y: window, sent }
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
