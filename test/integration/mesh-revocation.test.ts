/**
 * Revocation spreading: an admin member publishes a newer revocation list; every member verifies
 * it (organisation signature, newer sequence), stores it, re-checks its members and cuts the
 * revoked peer off, without being told anything but the gossip. A forged list is refused.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { loadCrl } from '../../src/identity/crl-store.ts'
import { revoke, signCrl } from '../../src/identity/crl.ts'
import type { Org } from '../../src/identity/types.ts'
import { identityPaths } from '../../src/identity/paths.ts'
import type { IdentityPaths } from '../../src/identity/paths.ts'
import { CRL_TOPIC } from '../../src/mesh/crl-gossip.ts'
import { IdentityRevocations } from '../../src/mesh/identity-revocations.ts'
import { memberCredentials, startMemoryNode, stopNode, testOrg, waitFor } from '../helpers/mesh.ts'
import type { TestNode } from '../helpers/mesh.ts'

describe('revocation list spreads through the mesh', () => {
  let org: Org
  const nodes: TestNode[] = []
  const revs: IdentityRevocations[] = []
  const dirs: string[] = []
  const paths: IdentityPaths[] = []

  before(async () => {
    org = testOrg('rev')
    const trusted = () => [{ org: org.org, publicKey: org.publicKey }]
    for (let i = 0; i < 4; i++) {
      const dir = await mkdtemp(join(tmpdir(), 'meshcc-crl-'))
      dirs.push(dir)
      const p = identityPaths(dir)
      paths.push(p)
      const r = await IdentityRevocations.load(p, trusted)
      revs.push(r)
      nodes.push(
        await startMemoryNode(org, {
          credentials: (k) => memberCredentials(org, k, { crl: () => r.current() }),
          bootstrap: i === 0 ? [] : (nodes[0] as TestNode).mesh.addrs(),
          init: { revocations: r },
        }),
      )
    }
    for (const n of nodes) {
      await waitFor(() => n.mesh.admission.members().length === 3, { what: 'full mesh' })
    }
  })

  after(async () => {
    await Promise.all(nodes.map((n) => stopNode(n)))
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
  })

  it('refuses a forged list, then cuts a revoked member off everywhere', async () => {
    const [admin, b, c, revoked] = nodes as [TestNode, TestNode, TestNode, TestNode]
    const id = revoked.mesh.peerId.toString()
    const rejected: string[] = []
    b.mesh.addEventListener('revocations:rejected', (e) => {
      rejected.push((e as CustomEvent<{ reason: string }>).detail.reason)
    })
    // A list signed by a different key under the same organisation name, relayed by a member.
    const forged = signCrl(testOrg('rev'), { seq: 5, serials: [], subjects: [] })
    // Published once: the relaying member must already know b subscribes to the topic, or the
    // message reaches nobody (a full mesh of admissions comes before the subscriptions).
    const pubsub = revoked.mesh.node.services.pubsub
    await waitFor(() => pubsub.getSubscribers(CRL_TOPIC).some((p) => p.equals(b.mesh.peerId)), {
      what: 'b subscribed to revocation lists, as the relay sees it',
    })
    await pubsub.publish(CRL_TOPIC, forged.bytes)
    await waitFor(() => rejected.length > 0, { what: 'forged list rejected' })
    assert.deepEqual(rejected, ['invalid revocation list'])
    assert.equal(revs[1]?.current(), undefined)

    const t0 = Date.now()
    const crl = revoke(org, undefined, { peerId: revoked.mesh.peerId })
    assert.equal(await revs[0]?.offer(crl.bytes), 'accepted')
    const cutHere = await admin.mesh.revocationsChanged()
    assert.deepEqual(cutHere.map(String), [id])
    for (const n of [admin, b, c]) {
      await waitFor(
        () =>
          !n.mesh.admission.isMember(id) &&
          n.mesh.node.getConnections(revoked.mesh.peerId).length === 0,
        {
          timeoutMs: 5_000,
          what: 'revoked member cut off',
        },
      )
    }
    console.log(`# revocation reached and applied on all members in ${Date.now() - t0} ms`)
    for (const [i, p] of paths.slice(0, 3).entries()) {
      const stored = await loadCrl(p, [{ org: org.org, publicKey: org.publicKey }])
      assert.equal(stored?.seq, 1, `node ${i} stored the list`)
    }
    // The others are still members of each other, and the revoked node cannot come back.
    assert.equal(b.mesh.admission.isMember(c.mesh.peerId), true)
    await assert.rejects(revoked.mesh.dial(b.mesh.addrs()[0] as string))
    assert.equal(b.mesh.admission.isMember(id), false)
  })
})
