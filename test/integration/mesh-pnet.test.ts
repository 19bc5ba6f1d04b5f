/**
 * Optional organisation pre-shared key (libp2p private network): members holding the key mesh as
 * usual; a node without it (even one holding a valid certificate) cannot complete a connection,
 * so it never reaches Noise, identify, the DHT, gossip or admission.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { generateKey } from '@libp2p/pnet'
import { multiaddr } from '@multiformats/multiaddr'
import { startMemoryNode, stopNode, testOrg, waitFor } from '../helpers/mesh.ts'
import type { TestNode } from '../helpers/mesh.ts'

function psk(): Uint8Array {
  const key = new Uint8Array(95)
  generateKey(key)
  return key
}

describe('private network key', () => {
  const nodes: TestNode[] = []
  after(async () => {
    await Promise.all(nodes.map((n) => stopNode(n)))
  })

  it('admits key holders and keeps everyone else out before any protocol runs', async () => {
    const org = testOrg('psk')
    const key = psk()
    const a = await startMemoryNode(org, { init: { psk: key } })
    nodes.push(a)
    const b = await startMemoryNode(org, { init: { psk: key }, bootstrap: a.mesh.addrs() })
    nodes.push(b)
    await waitFor(
      () =>
        a.mesh
          .snapshot()
          .peers.some((p) => p.peerId === b.mesh.peerId.toString() && p.cores !== null),
      {
        what: 'b admitted over the private network',
      },
    )
    // Same organisation and a valid certificate, but the wrong key: no connection at all.
    const c = await startMemoryNode(org, { init: { psk: psk() } })
    nodes.push(c)
    const opened: string[] = []
    a.mesh.node.addEventListener('connection:open', (e) =>
      opened.push(e.detail.remotePeer.toString()),
    )
    await assert.rejects(
      c.mesh.node.dial(multiaddr(a.mesh.addrs()[0] as string), {
        signal: AbortSignal.timeout(5_000),
      }),
    )
    // And without any key.
    const d = await startMemoryNode(org)
    nodes.push(d)
    await assert.rejects(
      d.mesh.node.dial(multiaddr(a.mesh.addrs()[0] as string), {
        signal: AbortSignal.timeout(5_000),
      }),
    )
    assert.deepEqual(opened, [])
    assert.equal(a.mesh.snapshot().peers.length, 1)
  })
})
