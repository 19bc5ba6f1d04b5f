/**
 * Batched socket writes (`tcp-write-batching.ts`): the buffers a connection sends in one turn
 * leave in one `writev`, in order, and the socket is uncorked right after; the transport wrapper
 * patches the raw connection of both dialled and accepted connections before the upgrade.
 */
import assert from 'node:assert/strict'
import { createServer, connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { after, before, describe, it } from 'node:test'
import type { MultiaddrConnection, Transport, Upgrader } from '@libp2p/interface'
import { batchedWrites, corkWrites } from '../../../src/mesh/tcp-write-batching.ts'

/** A raw connection as @libp2p/tcp makes it: `sendData` writes each buffer of the list. */
function rawConnection(socket: Socket) {
  return {
    socket,
    sendData(data: Uint8Array[]) {
      let canSendMore = true
      for (const buf of data) canSendMore = socket.write(buf)
      return { sentBytes: 0, canSendMore }
    },
  }
}

/** Counts the socket's calls into its handle: `_write` per buffer, `_writev` per batch. */
function countWrites(socket: Socket) {
  const calls = { write: 0, writev: 0 }
  const s = socket as unknown as Record<string, (...a: unknown[]) => unknown>
  const write = s['_write']!.bind(socket)
  const writev = s['_writev']!.bind(socket)
  s['_write'] = (...a: unknown[]) => {
    calls.write++
    return write(...a)
  }
  s['_writev'] = (...a: unknown[]) => {
    calls.writev++
    return writev(...a)
  }
  return calls
}

describe('batched TCP writes', () => {
  let server: ReturnType<typeof createServer>
  let received: Buffer[] = []
  let port = 0
  const accepted = new Set<Socket>()
  before(async () => {
    server = createServer((s) => {
      accepted.add(s)
      s.on('data', (d) => received.push(d))
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    port = (server.address() as { port: number }).port
  })
  after(() => {
    for (const s of accepted) s.destroy()
    server.close()
  })

  const open = async () => {
    const socket = connect(port, '127.0.0.1')
    socket.setNoDelay(true)
    await once(socket, 'connect')
    return socket
  }
  const frames = ['a', 'bb', 'ccc', 'dddd', 'eeeee'].map((s) => [Buffer.from(s), Buffer.from('|')])

  it('sends the buffers of one turn in one writev, in order', async () => {
    received = []
    const socket = await open()
    const calls = countWrites(socket)
    const conn = rawConnection(socket)
    assert.equal(corkWrites(conn as unknown as MultiaddrConnection), true)
    for (const f of frames) conn.sendData(f)
    assert.equal(socket.writableCorked, 1, 'corked for the rest of the turn')
    await new Promise((r) => process.nextTick(r))
    assert.equal(socket.writableCorked, 0, 'uncorked on the next tick')
    assert.deepEqual(calls, { write: 0, writev: 1 })
    // A later turn is a new batch (of one buffer here: a plain write).
    conn.sendData([Buffer.from('f')])
    await new Promise((r) => setImmediate(r))
    assert.deepEqual(calls, { write: 1, writev: 1 })
    socket.end()
    await once(socket, 'close')
    const want = 'a|bb|ccc|dddd|eeeee|f'
    for (let i = 0; i < 200 && Buffer.concat(received).length < want.length; i++)
      await new Promise((r) => setTimeout(r, 5))
    assert.equal(Buffer.concat(received).toString(), want)
  })

  it('without it, each buffer is its own write', async () => {
    const socket = await open()
    const calls = countWrites(socket)
    const conn = rawConnection(socket)
    for (const f of frames) conn.sendData(f)
    await new Promise((r) => setImmediate(r))
    assert.ok(calls.write >= 2, `writes: ${JSON.stringify(calls)}`)
    socket.destroy()
  })

  it('refuses a connection without a socket (another transport) and leaves it alone', () => {
    const conn = { sendData: () => ({ sentBytes: 0, canSendMore: true }) }
    const before = conn.sendData
    assert.equal(corkWrites(conn as unknown as MultiaddrConnection), false)
    assert.equal(conn.sendData, before)
  })

  it('patches dialled and accepted connections before the upgrader sees them', async () => {
    const seen: string[] = []
    const upgrader = {
      upgradeOutbound: async (c: { sendData: unknown }) => {
        seen.push(`out:${(c.sendData as { name: string }).name}`)
        return 'conn'
      },
      upgradeInbound: async (c: { sendData: unknown }) => {
        seen.push(`in:${(c.sendData as { name: string }).name}`)
      },
      getStreamMuxers: () => new Map([['x', 1]]),
    } as unknown as Upgrader
    const socket = await open()
    const fake = {
      dial: async (_ma: unknown, o: { upgrader: Upgrader }) =>
        o.upgrader.upgradeOutbound(
          rawConnection(socket) as unknown as MultiaddrConnection,
          {} as never,
        ),
      createListener: (o: { upgrader: Upgrader }) => ({
        accept: () =>
          o.upgrader.upgradeInbound(
            rawConnection(socket) as unknown as MultiaddrConnection,
            {} as never,
          ),
        muxers: () => o.upgrader.getStreamMuxers(),
      }),
    } as unknown as Transport
    const t = batchedWrites(() => fake)({})
    assert.equal(await t.dial({} as never, { upgrader } as never), 'conn')
    const listener = t.createListener({ upgrader } as never) as unknown as {
      accept(): Promise<void>
      muxers(): Map<string, number>
    }
    await listener.accept()
    // The patched `sendData` is the wrapper (an anonymous function), not the raw one.
    assert.deepEqual(seen, ['out:', 'in:'])
    assert.equal(listener.muxers().get('x'), 1, 'other upgrader methods still work')
    socket.destroy()
  })
})
