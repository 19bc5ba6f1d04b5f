import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Libp2p, Peer, PeerData, PeerId } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { skipKnownProtocolMerges } from '../../../src/mesh/protocol-merges.ts'

/** A peer store that keeps protocol lists and counts the merges that reached it. */
function fakeNode() {
  const records = new Map<string, Set<string>>()
  const calls: PeerData[] = []
  const events = new EventTarget()
  const peerStore = {
    merge: async (id: PeerId, data: PeerData): Promise<Peer> => {
      calls.push(data)
      const set = records.get(id.toString()) ?? new Set<string>()
      const before = set.size
      for (const p of data.protocols ?? []) set.add(p)
      records.set(id.toString(), set)
      const peer = { id, protocols: [...set] } as unknown as Peer
      if (set.size !== before) {
        events.dispatchEvent(new CustomEvent('peer:update', { detail: { peer } }))
      }
      return peer
    },
    delete: async (id: PeerId) => {
      records.delete(id.toString())
    },
  }
  const node = {
    peerStore,
    addEventListener: events.addEventListener.bind(events),
  } as unknown as Libp2p
  /** Another writer of the record (identify, admission's tags…). */
  const update = (peer: PeerId) =>
    events.dispatchEvent(
      new CustomEvent('peer:update', { detail: { peer: { id: peer, protocols: [] } } }),
    )
  return { node, calls, update }
}

describe('skipKnownProtocolMerges', () => {
  it('skips merging a protocol the record already lists, and nothing else', async () => {
    const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const other = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const { node, calls, update } = fakeNode()
    const clock = { t: 0 }
    const skipped = skipKnownProtocolMerges(node, { refreshMs: 60_000, now: () => clock.t })
    const store = node.peerStore
    await store.merge(peer, { protocols: ['/job/1'] })
    assert.equal(calls.length, 1)
    for (let i = 0; i < 10; i++) {
      const p = await store.merge(peer, { protocols: ['/job/1'] })
      assert.deepEqual(p.protocols, ['/job/1'])
    }
    assert.equal(calls.length, 1)
    assert.equal(skipped(), 10)
    // A protocol not listed yet, another peer, other fields: merged.
    await store.merge(peer, { protocols: ['/reserve/1'] })
    await store.merge(other, { protocols: ['/job/1'] })
    await store.merge(peer, { protocols: ['/job/1'], tags: { x: { value: 1 } } })
    assert.equal(calls.length, 4)
    await store.merge(peer, { protocols: ['/job/1', '/reserve/1'] })
    assert.equal(calls.length, 4)
    // Someone else changed the record: merged again once.
    update(peer)
    await store.merge(peer, { protocols: ['/job/1'] })
    await store.merge(peer, { protocols: ['/job/1'] })
    assert.equal(calls.length, 5)
    // Deleted: merged again.
    await store.delete(peer)
    await store.merge(peer, { protocols: ['/job/1'] })
    assert.equal(calls.length, 6)
    // Refreshed once the entry is older than refreshMs.
    clock.t += 60_000
    await store.merge(peer, { protocols: ['/job/1'] })
    await store.merge(peer, { protocols: ['/job/1'] })
    assert.equal(calls.length, 7)
  })
})
