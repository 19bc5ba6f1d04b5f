/**
 * The window-update rule applied to js-yamux's streams (go-yamux's): an established stream sends
 * no update while less than half its receive window is consumed, and sends js-yamux's own update
 * once it is; a frame that must carry a flag (the ACK of a new stream) always goes out. The
 * streams are js-yamux's own class, driven through the method the rule replaces. (Real
 * connections moving megabytes through the rule: the toolchain transfer and remote job tests.)
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { sendFewerWindowUpdates } from '../../../src/mesh/yamux-window-updates.ts'
import {
  ACK,
  ESTABLISHED,
  fakeYamuxStream as stream,
  SYN_RECEIVED,
  WINDOW,
  WINDOW_UPDATE,
} from '../../helpers/yamux-stream.ts'

describe('yamux window updates', () => {
  it('applies once per process and finds the class it expects', () => {
    assert.equal(sendFewerWindowUpdates(), true)
    assert.equal(sendFewerWindowUpdates(), true)
  })

  it('sends nothing while less than half the window is consumed', () => {
    for (const consumed of [0, 87, 1309, WINDOW / 2 - 1]) {
      const { s, sent } = stream(ESTABLISHED, consumed)
      s.sendWindowUpdate()
      assert.deepEqual(sent, [], `consumed ${consumed}`)
    }
  })

  it('restores the whole window once half of it is consumed', () => {
    const { s, sent } = stream(ESTABLISHED, WINDOW / 2 + 10)
    s.sendWindowUpdate()
    assert.deepEqual(sent, [{ type: WINDOW_UPDATE, flag: 0, streamID: 7, length: WINDOW / 2 + 10 }])
  })

  it('always sends a frame that carries the ACK of a new stream', () => {
    const { s, sent } = stream(SYN_RECEIVED, 39)
    s.sendWindowUpdate()
    assert.deepEqual(sent, [{ type: WINDOW_UPDATE, flag: ACK, streamID: 7, length: 39 }])
  })
})
