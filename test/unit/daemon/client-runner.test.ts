/**
 * The daemon's runner of commands on the native client (`daemon/client-runner.ts`): the first
 * command's frame goes out at once (in the caller's turn of the event loop, before whatever the
 * daemon does next), later ones only after the answer to the one before, in order.
 */
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import type { Socket } from 'node:net'
import { describe, it } from 'node:test'
import { clientRunner } from '../../../src/daemon/client-runner.ts'
import { decodeRunPayload, encodeRunAnswer } from '../../../src/protocol/client-run-wire.ts'

/** A socket that records what is written and lets the test answer. */
function fakeSocket() {
  const emitter = new EventEmitter()
  const written: string[][] = []
  const socket = Object.assign(emitter, {
    destroyed: false,
    writable: true,
    write(frame: Buffer) {
      written.push(decodeRunPayload(frame.subarray(5)))
      return true
    },
    destroy() {
      this.destroyed = true
    },
  })
  const answer = (code: number) =>
    emitter.emit(
      'data',
      encodeRunAnswer({ status: code, stdout: Buffer.alloc(0), stderr: Buffer.from(`${code}`) }),
    )
  return { socket: socket as unknown as Socket, written, answer }
}

describe('client runner', () => {
  it('sends the first command in the same turn, the next after its answer', async () => {
    const { socket, written, answer } = fakeSocket()
    const run = clientRunner(socket)
    const first = run(['/usr/bin/cc1', 'a'], {})
    assert.deepEqual(written, [['/usr/bin/cc1', 'a']], 'written synchronously')
    const second = run(['/usr/bin/gcc', 'b'], {})
    await new Promise((r) => setImmediate(r))
    assert.equal(written.length, 1, 'the second waits for the first answer')
    answer(0)
    assert.equal((await first).stderr.toString(), '0')
    await new Promise((r) => setImmediate(r))
    assert.deepEqual(written[1], ['/usr/bin/gcc', 'b'])
    answer(3)
    assert.equal((await second).exitCode, 3)
    // Idle again: the next one goes out at once.
    const third = run(['/usr/bin/cc1', 'c'], {})
    assert.equal(written.length, 3)
    answer(0)
    await third
  })
})
