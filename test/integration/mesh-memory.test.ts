/**
 * In-process mesh over the libp2p memory transport: members of one organisation find each other
 * from a single bootstrap address (the rest via the DHT), admit each other, exchange adverts, and
 * show each other in the directory; a member that stops drops out once its advert expires.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Org } from '../../src/identity/types.ts'
import { startMemoryNode, stopNode, testOrg, waitFor } from '../helpers/mesh.ts'
import type { TestNode } from '../helpers/mesh.ts'

describe('memory-transport mesh of one organisation', () => {
  let org: Org
  const nodes: TestNode[] = []

  before(async () => {
    org = testOrg('acme')
    const first = await startMemoryNode(org, { fields: { cores: 8, freeSlots: 7 } })
    nodes.push(first)
    const boot = first.mesh.addrs()
    for (let i = 1; i < 4; i++) {
      nodes.push(
        await startMemoryNode(org, { bootstrap: boot, fields: { cores: 2 + i, freeSlots: i } }),
      )
    }
  })

  after(async () => {
    await Promise.all(nodes.map((n) => stopNode(n)))
  })

  it('every node admits every other and sees its advert in the directory', async () => {
    const started = Date.now()
    for (const n of nodes) {
      await waitFor(
        () => {
          const peers = n.mesh.snapshot().peers
          return (
            peers.length === nodes.length - 1 && peers.every((p) => p.connected && p.cores !== null)
          )
        },
        { what: `full directory on ${n.fields.host}` },
      )
    }
    const elapsed = Date.now() - started
    for (const n of nodes) {
      const snap = n.mesh.snapshot()
      assert.equal(snap.self.peerId, n.mesh.peerId.toString())
      assert.equal(snap.self.org, 'acme')
      assert.equal(snap.self.cores, n.fields.cores)
      for (const other of nodes.filter((o) => o !== n)) {
        const row = snap.peers.find((p) => p.peerId === other.mesh.peerId.toString())
        assert.ok(row, `${n.fields.host} lists ${other.fields.host}`)
        assert.equal(row.org, 'acme')
        assert.equal(row.cores, other.fields.cores)
        assert.equal(row.freeSlots, other.fields.freeSlots)
        assert.equal(row.host, other.fields.host)
        assert.equal(row.platform, 'linux')
        assert.deepEqual(row.toolchains, other.fields.toolchains)
        assert.ok(row.certExpiry > Date.now())
      }
    }
    console.log(`# 4 members converged in ${elapsed} ms`)
  })

  it('publishes a changed advert promptly and measures round-trip times', async () => {
    const [a, b] = nodes as [TestNode, TestNode]
    a.fields.freeSlots = 0
    a.fields.queuedJobs = 5
    a.mesh.changed()
    await waitFor(
      () => {
        const row = b.mesh.snapshot().peers.find((p) => p.peerId === a.mesh.peerId.toString())
        return row?.freeSlots === 0 && row.queuedJobs === 5
      },
      { timeoutMs: 3_000, what: 'changed advert' },
    )
    await waitFor(() => b.mesh.snapshot().peers.every((p) => typeof p.rttMs === 'number'), {
      what: 'rtt',
    })
  })

  it('drops a member that stops once its advert expires', async () => {
    const gone = nodes.pop() as TestNode
    const id = gone.mesh.peerId.toString()
    await stopNode(gone)
    const expiry = nodes[0]?.mesh.adverts.expiryMs ?? 0
    const t0 = Date.now()
    for (const n of nodes) {
      await waitFor(() => !n.mesh.snapshot().peers.some((p) => p.peerId === id), {
        timeoutMs: expiry + 3_000,
        what: 'expiry of the stopped member',
      })
    }
    // It must have lingered (soft state) no longer than the expiry window plus a sweep period.
    assert.ok(Date.now() - t0 <= expiry + 3_000)
    for (const n of nodes) assert.equal(n.mesh.snapshot().peers.length, nodes.length - 1)
  })
})
