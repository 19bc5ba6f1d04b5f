import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { nodePaths } from '../../../src/config/paths.ts'
import { DaemonUnavailableError, ProtocolError } from '../../../src/errors.ts'
import { daemonPeersSource, parsePeersSnapshot } from '../../../src/monitor/daemon-source.ts'
import { decodeControlBody, encodeControl } from '../../../src/protocol/local-wire.ts'
import { peer, snapshot } from './snapshot-fixture.ts'

const home = mkdtempSync(join(tmpdir(), 'meshcc-peers-'))
after(() => rmSync(home, { recursive: true, force: true }))

/** A control socket that records each request and answers with `reply`. */
async function fakeDaemon(reply: unknown): Promise<{ requests: unknown[]; close: () => void }> {
  const paths = nodePaths({ MESHCC_HOME: home })
  mkdirSync(join(home, 'run'), { recursive: true })
  rmSync(paths.socket, { force: true })
  const requests: unknown[] = []
  const server = createServer((socket) => {
    let buf = Buffer.alloc(0)
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk])
      if (buf.length < 8) return
      const len = buf.readUInt32LE(4)
      if (buf.length < 8 + len) return
      assert.equal(buf.subarray(0, 4).toString('latin1'), 'MCJ1')
      requests.push(decodeControlBody(buf.subarray(8, 8 + len)))
      socket.end(encodeControl(reply, { request: false }))
    })
  })
  await new Promise<void>((resolve) => server.listen(paths.socket, resolve))
  return { requests, close: () => server.close() }
}

describe('daemonPeersSource', () => {
  it("asks the daemon with { cmd: 'peers' } and returns its snapshot", async () => {
    const s = snapshot([peer('bravo')])
    const daemon = await fakeDaemon({ ok: true, snapshot: s })
    try {
      const got = await daemonPeersSource(nodePaths({ MESHCC_HOME: home })).snapshot(
        AbortSignal.timeout(5000),
      )
      assert.deepEqual(daemon.requests, [{ cmd: 'peers' }])
      assert.deepEqual(got, JSON.parse(JSON.stringify(s)))
    } finally {
      daemon.close()
    }
  })

  it('also takes the snapshot at the top level of the reply', async () => {
    const s = snapshot([])
    const daemon = await fakeDaemon({ ok: true, ...s })
    try {
      const got = await daemonPeersSource(nodePaths({ MESHCC_HOME: home })).snapshot(
        AbortSignal.timeout(5000),
      )
      assert.equal(got.self.peerId, s.self.peerId)
    } finally {
      daemon.close()
    }
  })

  it('fails with DaemonUnavailableError when no daemon listens', async () => {
    const paths = nodePaths({ MESHCC_HOME: join(home, 'nobody') })
    await assert.rejects(
      daemonPeersSource(paths).snapshot(AbortSignal.timeout(5000)),
      DaemonUnavailableError,
    )
  })
})

describe('parsePeersSnapshot', () => {
  it('accepts a snapshot and refuses other shapes', () => {
    const s = snapshot([peer('bravo')])
    assert.equal(parsePeersSnapshot(s), s)
    for (const bad of [
      null,
      [],
      {},
      { self: s.self },
      { self: {}, peers: [] },
      { self: s.self, peers: {} },
      { self: s.self, peers: [{ org: 'x' }] },
    ]) {
      assert.throws(() => parsePeersSnapshot(bad), ProtocolError, JSON.stringify(bad))
    }
  })
})
