/**
 * An outsider (a libp2p node with no certificate) against a real joined daemon, on every meshcc
 * protocol that daemon announces — whatever protocols are added later, without this test
 * listing them: it learns them from the daemon's own identify record. Each one must serve it
 * nothing (the stream ends without a byte of answer), except `/meshcc/enroll/1.0.0`, the one
 * protocol a joiner without a certificate needs (it answers with a refusal, never a
 * certificate). Then the daemon cuts the outsider off.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { createMeshNode, type MeshNode } from '../../src/mesh/create-node.ts'
import { type JoinedNode, joinedNode } from '../helpers/joined-node.ts'

const ENROLL = '/meshcc/enroll/1.0.0'

describe('an outsider is served nothing on any meshcc protocol of a real daemon', {
  timeout: 90_000,
}, () => {
  let a: JoinedNode
  let outsider: MeshNode
  before(async () => {
    a = await joinedNode()
    outsider = await createMeshNode({
      privateKey: await generateKeyPair('Ed25519'),
      gater: {},
      transport: 'tcp',
      listen: ['/ip4/127.0.0.1/tcp/0'],
      mdns: false,
    })
    await outsider.start()
  })
  after(async () => {
    await outsider?.stop()
    await a?.h.cleanup()
  })

  it('learns the protocols, is refused on each, and is cut off', async () => {
    const target = peerIdFromString(a.peerId)
    await outsider.dial(multiaddr(a.join.addrs[0] as string), {
      signal: AbortSignal.timeout(8_000),
    })
    let protocols: string[] = []
    for (let i = 0; i < 40 && protocols.length === 0; i++) {
      const p = await outsider.peerStore.get(target).catch(() => undefined)
      protocols = (p?.protocols ?? []).filter((x) => x.startsWith('/meshcc/'))
      if (protocols.length === 0) await sleep(100)
    }
    // The daemon is a builder and a toolchain holder: jobs, reservations and blobs at least.
    for (const must of ['/meshcc/auth/', '/meshcc/job/', '/meshcc/blob/'])
      assert.ok(
        protocols.some((p) => p.startsWith(must)),
        `${must} among ${protocols.join(' ')}`,
      )
    const served: string[] = []
    for (const protocol of protocols) {
      if (protocol.startsWith('/meshcc/auth/')) continue // admission itself: refuses by design
      const answer = await outsider
        .dialProtocol(target, protocol, { signal: AbortSignal.timeout(8_000) })
        .then(async (stream) => {
          const lp = lpStream(stream, { maxDataLength: 64 * 1024 })
          await lp.write(new TextEncoder().encode('{"v":1}'))
          return (await lp.read({ signal: AbortSignal.timeout(8_000) })).subarray()
        })
        .catch(() => undefined)
      if (answer === undefined) continue
      if (protocol === ENROLL) {
        // A joiner without a certificate may ask; a malformed request gets a refusal only.
        assert.doesNotMatch(new TextDecoder().decode(answer), /certificate"\s*:\s*"/)
        continue
      }
      served.push(`${protocol}: ${answer.length} bytes`)
    }
    assert.deepEqual(served, [], 'protocols that answered an outsider')
    // Admission gives up on it within seconds and closes the connection.
    const deadline = Date.now() + 20_000
    while (outsider.getConnections(target).length > 0 && Date.now() < deadline) await sleep(200)
    assert.equal(outsider.getConnections(target).length, 0, 'still connected after 20 s')
  })
})
