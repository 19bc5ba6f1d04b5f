import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, it } from 'node:test'
import type { Connection, Stream } from '@libp2p/interface'
import { JOB_PROTOCOL } from '../../../src/remote/job-protocol.ts'
import { JobStreams } from '../../../src/remote/job-streams.ts'

interface FakeStream {
  id: number
  status: string
  writeStatus: string
  remoteReadStatus: string
  aborted?: Error
  abort(err: Error): void
}

/** A connection whose `newStream` hands out numbered streams (after a tick, like a round trip). */
function fakeConnection() {
  const opened: FakeStream[] = []
  const protocols: string[] = []
  const conn = {
    status: 'open',
    async newStream(protocol: string) {
      protocols.push(protocol)
      await sleep(1)
      const s: FakeStream = {
        id: opened.length,
        status: 'open',
        writeStatus: 'writable',
        remoteReadStatus: 'readable',
        abort(err: Error) {
          this.aborted = err
          this.status = 'aborted'
        },
      }
      opened.push(s)
      return s as unknown as Stream
    },
  }
  return { conn: conn as unknown as Connection, opened, protocols }
}

const id = (s: Stream) => (s as unknown as FakeStream).id

describe('JobStreams', () => {
  it('opens the next stream ahead: the second job gets it without waiting', async () => {
    const { conn, opened, protocols } = fakeConnection()
    const streams = new JobStreams()
    assert.equal(id(await streams.open(conn)), 0)
    await sleep(10) // the spare is negotiated meanwhile
    assert.equal(opened.length, 2)
    assert.equal(id(await streams.open(conn)), 1, 'the spare')
    await sleep(10)
    assert.equal(opened.length, 3, 'and the next spare is on its way')
    assert.ok(protocols.every((p) => p === JOB_PROTOCOL))
    streams.close()
  })

  it('drops a spare that went stale or is no longer open, and opens a stream instead', async () => {
    const { conn, opened } = fakeConnection()
    const streams = new JobStreams({ maxIdleMs: 30 })
    await streams.open(conn)
    await sleep(10)
    const spare = opened[1]!
    spare.remoteReadStatus = 'closed' // the builder gave up on it
    const s = await streams.open(conn)
    assert.notEqual(id(s), 1)
    assert.ok(spare.aborted !== undefined)
    await sleep(80) // the next spare outlives maxIdleMs: its timer aborts it
    const idle = opened.at(-1)!
    assert.ok(idle.aborted !== undefined, 'an unused spare is given up')
    const fresh = await streams.open(conn)
    assert.notEqual(id(fresh), idle.id)
    streams.close()
  })

  it('keeps no spare once closed, and remembers early start per connection', async () => {
    const a = fakeConnection()
    const b = fakeConnection()
    const streams = new JobStreams()
    streams.close()
    await streams.open(a.conn)
    await sleep(10)
    assert.equal(a.opened.length, 1)
    assert.equal(streams.earlyStart(a.conn), false)
    streams.noteGrant(a.conn, true)
    assert.equal(streams.earlyStart(a.conn), true)
    assert.equal(streams.earlyStart(b.conn), false)
  })
})
