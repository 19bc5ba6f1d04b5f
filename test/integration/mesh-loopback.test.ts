/**
 * Several real nodes as separate processes on loopback TCP, each with its own MESHCC_HOME, peer
 * key and certificate: they find each other from one bootstrap address, show each other in
 * `peers`, a member that restarts keeps its peer id and rejoins by itself (remembered members are
 * redialled at start), a member that vanishes (SIGKILL) drops out, and a node of another
 * organisation is refused.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { revoke } from '../../src/identity/crl.ts'
import { saveCrl } from '../../src/identity/crl-store.ts'
import { identityPaths } from '../../src/identity/paths.ts'
import type { Org } from '../../src/identity/types.ts'
import { testOrg, waitFor } from '../helpers/mesh.ts'
import { MeshProcess, prepareHome, removeHome } from '../helpers/mesh-process.ts'

describe('mesh of separate processes on loopback', () => {
  let org: Org
  const homes: string[] = []
  const procs: MeshProcess[] = []
  let a: MeshProcess
  let aAddrs: string[] = []
  const ids: string[] = []

  async function spawnNode(home: string, env: Record<string, string> = {}): Promise<MeshProcess> {
    const p = new MeshProcess(home, env)
    procs.push(p)
    return p
  }

  before(async () => {
    org = testOrg('loop')
    for (const name of ['alpha', 'beta', 'gamma', 'delta']) {
      const { home, peerId } = await prepareHome(org, name)
      homes.push(home)
      ids.push(peerId)
    }
    a = await spawnNode(homes[0] as string, { MESH_CORES: '8' })
    aAddrs = (await a.ready()).addrs
    assert.ok(aAddrs.every((x) => x.startsWith('/ip4/127.0.0.1/tcp/')))
  })

  after(async () => {
    await Promise.all(procs.map((p) => p.kill('SIGKILL')))
    await Promise.all(homes.map((h) => removeHome(h)))
  })

  it('three processes admit each other and exchange adverts', async () => {
    const t0 = Date.now()
    const b = await spawnNode(homes[1] as string, {
      MESH_BOOTSTRAP: aAddrs.join(','),
      MESH_CORES: '4',
    })
    const c = await spawnNode(homes[2] as string, {
      MESH_BOOTSTRAP: aAddrs.join(','),
      MESH_CORES: '2',
    })
    assert.equal((await b.ready()).peerId, ids[1])
    assert.equal((await c.ready()).peerId, ids[2])
    for (const [i, p] of [a, b, c].entries()) {
      const snap = await waitFor(
        async () => {
          const s = await p.snapshot()
          return s.peers.length === 2 && s.peers.every((x) => x.connected && x.cores !== null)
            ? s
            : undefined
        },
        { timeoutMs: 20_000, intervalMs: 300, what: `directory of node ${i}` },
      )
      assert.equal(snap.self.peerId, ids[i])
      assert.equal(snap.self.org, 'loop')
      const others = ids
        .slice(0, 3)
        .filter((_, j) => j !== i)
        .sort()
      assert.deepEqual(snap.peers.map((x) => x.peerId).sort(), others)
      for (const row of snap.peers) {
        assert.equal(row.org, 'loop')
        assert.equal(row.platform, process.platform)
        assert.ok(row.addrs.every((x) => x.startsWith('/ip4/127.0.0.1/')))
      }
      const alpha = snap.peers.find((x) => x.peerId === ids[0])
      if (alpha) assert.equal(alpha.cores, 8)
    }
    for (const p of [a, b, c]) {
      assert.deepEqual(
        p.events.filter((e) => e.event === 'member:refused'),
        [],
        'no member refused',
      )
    }
    console.log(`# 3 processes converged in ${Date.now() - t0} ms (including Node start-up)`)
  })

  it('a member restarting keeps its peer id and rejoins without a bootstrap address', async () => {
    const c = procs[2] as MeshProcess
    await c.kill('SIGTERM')
    assert.equal(c.events.at(-1)?.event, 'stopped')
    // Restarted with no bootstrap: it must redial the members it remembers (persistent peer store).
    const c2 = await spawnNode(homes[2] as string, { MESH_CORES: '3' })
    assert.equal((await c2.ready()).peerId, ids[2])
    await waitFor(
      async () => {
        const s = await a.snapshot()
        return s.peers.find((x) => x.peerId === ids[2] && x.connected && x.cores === 3)
      },
      { timeoutMs: 20_000, intervalMs: 300, what: 'gamma back in alpha directory' },
    )
    await waitFor(async () => (await c2.snapshot()).peers.filter((x) => x.connected).length === 2, {
      timeoutMs: 20_000,
      intervalMs: 300,
      what: 'gamma sees both',
    })
    for (const p of [a, procs[1] as MeshProcess, c2]) {
      assert.deepEqual(
        p.events.filter((e) => e.event === 'member:refused'),
        [],
        'no member refused',
      )
    }
  })

  it('a revocation written on one node (as `meshcc org revoke` does) cuts the member off everywhere', async () => {
    const b = procs[1] as MeshProcess
    const c = procs.at(-1) as MeshProcess
    const d = await spawnNode(homes[3] as string, { MESH_BOOTSTRAP: aAddrs.join(',') })
    assert.equal((await d.ready()).peerId, ids[3])
    for (const p of [a, b, c]) {
      await waitFor(
        async () => (await p.snapshot()).peers.some((x) => x.peerId === ids[3] && x.connected),
        {
          timeoutMs: 20_000,
          intervalMs: 300,
          what: 'delta admitted',
        },
      )
    }
    const marks = [b, c].map((p) => p.events.length)
    const t0 = Date.now()
    const crl = revoke(org, undefined, { peerId: ids[3] as string })
    await saveCrl(identityPaths(homes[0] as string), crl, [
      { org: org.org, publicKey: org.publicKey },
    ])
    // alpha notices the file, publishes the list, and beta and gamma cut delta off by themselves.
    for (const [i, p] of [b, c].entries()) {
      const e = await p.waitEvent(
        (x) => x.event === 'member:refused' && x['peerId'] === ids[3],
        15_000,
        marks[i],
      )
      assert.equal(e['reason'], 'certificate no longer valid: revoked')
    }
    console.log(
      `# revocation written on alpha applied by beta and gamma after ${Date.now() - t0} ms`,
    )
    for (const p of [a, b, c]) {
      await waitFor(async () => !(await p.snapshot()).peers.some((x) => x.peerId === ids[3]), {
        timeoutMs: 10_000,
        intervalMs: 300,
        what: 'delta gone',
      })
    }
    await d.kill('SIGTERM')
  })

  it('a member that vanishes drops out of the directory', async () => {
    const b = procs[1] as MeshProcess
    await b.kill('SIGKILL')
    const t0 = Date.now()
    await waitFor(async () => !(await a.snapshot()).peers.some((x) => x.peerId === ids[1]), {
      timeoutMs: 10_000,
      intervalMs: 200,
      what: 'beta gone',
    })
    console.log(`# vanished member gone from the directory after ${Date.now() - t0} ms`)
  })

  it('a node of another organisation is refused', async () => {
    const evil = testOrg('evil')
    const { home, peerId } = await prepareHome(evil, 'mallory')
    homes.push(home)
    const from = a.events.length
    const m = await spawnNode(home, { MESH_BOOTSTRAP: aAddrs.join(',') })
    await m.ready()
    const refused = await a.waitEvent(
      (e) => e.event === 'member:refused' && e['peerId'] === peerId,
      10_000,
      from,
    )
    assert.equal(refused['reason'], 'wrong-org')
    const s = await a.snapshot()
    assert.ok(!s.peers.some((x) => x.peerId === peerId))
  })
})
