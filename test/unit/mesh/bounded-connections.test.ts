import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { MeshNode } from '../../../src/mesh/create-node.ts'
import { DenyCache } from '../../../src/mesh/deny-cache.ts'
import { Discovery } from '../../../src/mesh/discovery.ts'

async function peers(n: number): Promise<PeerId[]> {
  const out: PeerId[] = []
  for (let i = 0; i < n; i++) out.push(peerIdFromPrivateKey(await generateKeyPair('Ed25519')))
  return out
}

interface FakeConn {
  remotePeer: PeerId
  timeline: { open: number }
  streams: Array<{ protocol?: string }>
  closed: boolean
  close(): Promise<void>
  abort(): void
}

function fakeNode(self: PeerId) {
  const conns: FakeConn[] = []
  const dials: string[] = []
  const connect = (p: PeerId, ageMs: number, protocols: string[] = ['/meshsub/1.2.0']) => {
    const c: FakeConn = {
      remotePeer: p,
      timeline: { open: Date.now() - ageMs },
      streams: protocols.map((protocol) => ({ protocol })),
      closed: false,
      close: async () => {
        c.closed = true
        conns.splice(conns.indexOf(c), 1)
      },
      abort: () => {},
    }
    conns.push(c)
    return c
  }
  const node = {
    peerId: self,
    addEventListener: () => {},
    removeEventListener: () => {},
    getConnections: (p?: PeerId) =>
      p === undefined ? [...conns] : conns.filter((c) => c.remotePeer.equals(p)),
    dial: async (p: PeerId) => {
      dials.push(p.toString())
      return { remotePeer: p }
    },
  } as unknown as MeshNode
  return { node, connect, dials, conns }
}

describe('bounded member connections', () => {
  it('stops dialling discovered peers once the target is reached', async () => {
    const [self, ...others] = await peers(6)
    const { node, connect, dials } = fakeNode(self as PeerId)
    const discovery = new Discovery({ node, denied: new DenyCache(), targetPeers: 3, maxPeers: 5 })
    for (const p of others.slice(0, 3)) connect(p, 60_000)
    assert.equal(discovery.wantsPeers(), false)
    discovery.maybeDial(others[4] as PeerId, { yieldMs: 0 })
    assert.deepEqual(dials, [])
    await node.getConnections()[0]?.close()
    assert.equal(discovery.wantsPeers(), true)
    discovery.maybeDial(others[4] as PeerId, { yieldMs: 0 })
    assert.deepEqual(dials, [others[4]?.toString()])
  })

  it('closes random idle member connections down to the maximum, never busy or young ones', async () => {
    const [self, ...others] = await peers(13)
    const { node, connect, conns } = fakeNode(self as PeerId)
    const outsider = others[11] as PeerId
    const isMember = (p: string) => p !== outsider.toString()
    const discovery = new Discovery({
      node,
      denied: new DenyCache(),
      targetPeers: 2,
      maxPeers: 4,
      isMember,
    })
    const busy = connect(others[0] as PeerId, 60_000, ['/meshsub/1.2.0', '/meshcc/job/1.0.0'])
    const young = connect(others[1] as PeerId, 1_000)
    connect(outsider, 60_000)
    for (const p of others.slice(2, 8)) connect(p, 60_000, ['/meshsub/1.2.0', '/ipfs/ping/1.0.0'])
    // 9 peers connected, maximum 4: five idle members go.
    const closed = discovery.prune()
    assert.equal(closed.length, 5)
    assert.equal(new Set(conns.map((c) => c.remotePeer.toString())).size, 4)
    assert.ok(!busy.closed && !young.closed)
    assert.ok(
      conns.some((c) => c.remotePeer.equals(outsider)),
      'admission handles outsiders',
    )
    assert.deepEqual(discovery.prune(), [])
  })
})
