import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { MeshNode } from '../../../src/mesh/create-node.ts'
import { DenyCache } from '../../../src/mesh/deny-cache.ts'
import { Discovery } from '../../../src/mesh/discovery.ts'

const ids = [
  '12D3KooWBnkAt5zvZxFsLaejFS8Cmr1qyekzB4kjBBJH6izmMvr7',
  '12D3KooWLxqRJSwGJSnFewFwkL3wgGqAS6UE11Y2HsSzc1hQhRCr',
  '12D3KooWN9WNPU7XaPcSgViTPT1x1rWewcXhrAGDcN7kXeuhYpFi',
]
  .map((s) => peerIdFromString(s))
  .sort((a, b) => (a.toString() < b.toString() ? -1 : 1)) as [PeerId, PeerId, PeerId]
const [low, mid, high] = ids

function fakeNode(self: PeerId) {
  const dials: string[] = []
  const connected = new Set<string>()
  const node = {
    peerId: self,
    addEventListener: () => {},
    removeEventListener: () => {},
    getConnections: (p?: PeerId) =>
      p === undefined ? [] : connected.has(p.toString()) ? [{ remotePeer: p }] : [],
    dial: async (p: PeerId) => {
      dials.push(p.toString())
      return { remotePeer: p }
    },
  } as unknown as MeshNode
  return { node, dials, connected }
}

describe('discovery dialling', () => {
  it('dials a peer with a greater id at once, and yields to one with a lower id', async () => {
    const { node, dials, connected } = fakeNode(mid)
    const denied = new DenyCache()
    const d = new Discovery({ node, denied })
    d.maybeDial(high, { yieldMs: 50 })
    d.maybeDial(low, { yieldMs: 50 })
    d.maybeDial(mid) // ourselves
    await new Promise((r) => setTimeout(r, 10))
    assert.deepEqual(dials, [high.toString()])
    // The lower peer did not connect within the yield time: we dial it after all.
    await new Promise((r) => setTimeout(r, 1_200))
    assert.deepEqual(dials, [high.toString(), low.toString()])
    // A connected or denied peer is not dialled.
    connected.add(high.toString())
    denied.deny(low, 60_000, 'wrong-org')
    d.maybeDial(high, { yieldMs: 0 })
    d.maybeDial(low, { yieldMs: 0 })
    await new Promise((r) => setTimeout(r, 10))
    assert.equal(dials.length, 2)
    d.stop()
  })

  it('skips the deferred dial when the other side connected meanwhile', async () => {
    const { node, dials, connected } = fakeNode(high)
    const d = new Discovery({ node, denied: new DenyCache() })
    d.maybeDial(low, { yieldMs: 20 })
    connected.add(low.toString())
    await new Promise((r) => setTimeout(r, 1_100))
    assert.deepEqual(dials, [])
    d.stop()
  })

  it('dials advert addresses only when they name the advert author', async () => {
    const merged: string[][] = []
    const { node, dials } = fakeNode(low)
    ;(node as unknown as { peerStore: unknown }).peerStore = {
      merge: async (_p: PeerId, { multiaddrs }: { multiaddrs: { toString(): string }[] }) => {
        merged.push(multiaddrs.map(String))
      },
    }
    const d = new Discovery({ node, denied: new DenyCache() })
    d.foundInAdvert(high, [
      `/ip4/10.0.0.2/tcp/4001/p2p/${high}`,
      `/ip4/10.0.0.3/tcp/4001/p2p/${mid}`,
      '/ip4/10.0.0.4/tcp/4001',
      'garbage',
    ])
    // Repeated adverts of the same author within 10 s are not acted on again.
    d.foundInAdvert(high, [`/ip4/10.0.0.9/tcp/1/p2p/${high}`])
    await new Promise((r) => setTimeout(r, 20))
    assert.deepEqual(merged, [[`/ip4/10.0.0.2/tcp/4001/p2p/${high}`, '/ip4/10.0.0.4/tcp/4001']])
    assert.deepEqual(dials, [high.toString()])
    d.stop()
  })
})
