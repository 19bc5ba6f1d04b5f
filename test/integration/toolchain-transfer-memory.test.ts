/**
 * Toolchain transfer between in-process members (memory transport): a member that lacks a
 * toolchain finds its holders through adverts, or through the DHT alone, pulls chunks from two
 * holders at once, verifies and materialises it; a holder serving a tampered chunk is dropped and
 * the transfer completes from the honest one; a non-member gets nothing; concurrent requests for
 * one toolchain make one transfer; a job that finds the manifest mid-transfer waits for it.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { ToolchainUnavailableError } from '../../src/errors.ts'
import type { Org } from '../../src/identity/types.ts'
import { ToolchainStore } from '../../src/toolchain/store.ts'
import { BlobSession } from '../../src/toolchain-transfer/blob-client.ts'
import type { TransferProgressEvent } from '../../src/toolchain-transfer/fetcher.ts'
import { BLOB_PROTOCOL } from '../../src/toolchain-transfer/wire.ts'
import { type BlobServer, serveBlobs } from '../../src/toolchain-transfer/blob-protocol.ts'
import {
  startToolchainTransfer,
  type ToolchainTransfer,
} from '../../src/toolchain-transfer/service.ts'
import {
  memberCredentials,
  outsiderCredentials,
  startMemoryNode,
  stopNode,
  type TestNode,
  testOrg,
  waitFor,
} from '../helpers/mesh.ts'
import {
  makeToolchain,
  storeToolchain,
  type SyntheticToolchain,
  treeMatches,
} from '../helpers/toolchain-fixture.ts'

interface Member {
  node: TestNode
  store: ToolchainStore
  transfer?: ToolchainTransfer
  server?: BlobServer
  /** Ids kept out of this member's advert (to test the DHT path alone). */
  hidden: Set<string>
}

describe('toolchain transfer between members (memory transport)', () => {
  let org: Org
  const members: Member[] = []
  let a: Member
  let b: Member
  let c: Member
  let d: Member
  let evil: Member
  const nodes: TestNode[] = []

  async function member(boot: string[], withTransfer = true): Promise<Member> {
    const node = await startMemoryNode(org, { bootstrap: boot, fields: { toolchains: [] } })
    nodes.push(node)
    const m: Member = {
      node,
      store: new ToolchainStore(join(node.home, 'toolchains')),
      hidden: new Set(),
    }
    if (withTransfer) {
      m.transfer = await startToolchainTransfer({
        mesh: node.mesh,
        store: m.store,
        provideTimeoutMs: 5_000,
        fetcher: { perPeer: 4, dhtTimeoutMs: 3_000, progressDelayMs: 0 },
        onAdvertChange: () => {
          node.fields.toolchains = m.transfer!.held().filter((id) => !m.hidden.has(id))
          node.mesh.changed()
        },
      })
    }
    members.push(m)
    return m
  }

  /** Stores `t` complete on each holder and announces it (DHT + advert). */
  async function hold(t: SyntheticToolchain, ...holders: Member[]): Promise<void> {
    for (const h of holders) {
      await storeToolchain(h.store, t)
      await waitFor(() => h.transfer!.announce(t.id), { what: 'DHT provide', timeoutMs: 20_000 })
    }
  }

  before(async () => {
    org = testOrg('tc')
    a = await member([])
    const boot = a.node.mesh.addrs()
    b = await member(boot)
    c = await member(boot)
    d = await member(boot)
    // A member whose server flips a byte in every chunk it serves.
    evil = await member(boot, false)
    evil.server = await serveBlobs(evil.node.mesh, {
      getManifest: (id) => evil.store.getManifest(id),
      readChunk: async (sha, i) => {
        const buf = Buffer.from(await evil.store.readChunk(sha, i))
        buf[buf.length >> 1]! ^= 0x55
        return buf
      },
    })
    for (const m of members)
      await waitFor(() => m.node.mesh.snapshot().peers.filter((p) => p.connected).length === 4, {
        what: 'full mesh',
      })
  })

  after(async () => {
    for (const m of members) await m.transfer?.stop()
    await Promise.all(nodes.map((n) => stopNode(n)))
  })

  it('finds holders through adverts and pulls from two of them at once', async () => {
    const t = makeToolchain({ bigFiles: [6.5, 5.5], smallFiles: 20 })
    await hold(t, a, b)
    for (const h of [a, b])
      await waitFor(
        () =>
          c.node.mesh
            .snapshot()
            .peers.find((p) => p.peerId === h.node.mesh.peerId.toString())
            ?.toolchains.includes(t.id),
        { what: 'advert listing the toolchain' },
      )
    const events: string[] = []
    let lastChunks: TransferProgressEvent | undefined
    const r = await c.transfer!.ensureToolchain(t.id, {
      dht: false,
      onProgress: (p) => {
        events.push(p.phase)
        if (p.phase === 'chunks') lastChunks = p
      },
    })
    assert.ok(r.transfer, 'something was transferred')
    const peers = r.transfer.peers
    for (const h of [a, b]) {
      const st = peers[h.node.mesh.peerId.toString()]
      assert.ok(
        st && st.chunks > 0,
        `chunks came from ${h.node.fields.host}: ${JSON.stringify(peers)}`,
      )
      assert.equal(st.via, 'advert')
    }
    const total = t.manifest.files.reduce((s, f) => s + f.size, 0)
    assert.equal(r.transfer.bytes, total)
    assert.ok(await treeMatches(r.root, t.manifest))
    assert.equal(r.root, c.store.treePath(t.id))
    assert.ok(events.includes('chunks') && events.includes('materialize'), events.join())
    assert.equal(lastChunks?.done, lastChunks?.total)
    assert.equal(lastChunks?.total, total)
    assert.ok((lastChunks?.bytesPerSecond ?? 0) > 0, 'a transfer rate')
    // Now a holder itself: listed in its advert, and a second call transfers nothing.
    await waitFor(() => c.node.fields.toolchains.includes(t.id), { what: 'own advert' })
    const again = await c.transfer!.ensureToolchain(t.id)
    assert.equal(again.transfer, undefined)
  })

  it('finds holders through the DHT alone', async () => {
    const t = makeToolchain({ bigFiles: [6], smallFiles: 5 })
    a.hidden.add(t.id)
    b.hidden.add(t.id)
    await hold(t, a, b)
    await new Promise((r) => setTimeout(r, 600))
    for (const p of d.node.mesh.snapshot().peers) assert.ok(!p.toolchains.includes(t.id))
    const r = await d.transfer!.ensureToolchain(t.id, { adverts: false })
    assert.ok(r.transfer)
    const used = Object.entries(r.transfer.peers).filter(([, s]) => s.chunks > 0)
    assert.ok(used.length >= 2, `pulled from ${used.length} holders`)
    for (const [, s] of used) assert.equal(s.via, 'dht')
    assert.ok(await treeMatches(r.root, t.manifest))
  })

  it('drops a member serving a tampered chunk and completes from the honest one', async () => {
    const t = makeToolchain({ bigFiles: [6], smallFiles: 4 })
    await hold(t, a)
    await storeToolchain(evil.store, t)
    const evilId = evil.node.mesh.peerId.toString()
    // The honest holder must be known from its advert first (adverts of a change go out after
    // a fifth of a period): this is about the tampering, not about discovery.
    const honest = a.node.mesh.peerId.toString()
    await waitFor(
      () =>
        d.node.mesh
          .snapshot()
          .peers.some((p) => p.peerId === honest && p.toolchains.includes(t.id)),
      { what: "the honest holder's advert" },
    )
    const r = await d.transfer!.ensureToolchain(t.id, { hintPeers: [evilId], dht: false })
    assert.ok(r.transfer)
    const drop = r.transfer.dropped.find((x) => x.peer === evilId)
    assert.ok(drop, `evil dropped: ${JSON.stringify(r.transfer.dropped)}`)
    assert.match(drop.reason, /verification/)
    assert.equal(r.transfer.peers[evilId]?.chunks, 0)
    assert.ok(evil.server!.served().pieces > 0, 'the tampering member was asked')
    assert.ok(await treeMatches(r.root, t.manifest))
  })

  it('fails cleanly when the only holder is dishonest', async () => {
    const t = makeToolchain({ bigFiles: [5], smallFiles: 1 })
    await storeToolchain(evil.store, t)
    await assert.rejects(
      c.transfer!.ensureToolchain(t.id, {
        hintPeers: [evil.node.mesh.peerId.toString()],
        dht: false,
        adverts: false,
      }),
      ToolchainUnavailableError,
    )
    assert.equal((await c.store.list()).find((x) => x.id === t.id)?.complete, false)
  })

  it('concurrent requests for one toolchain make one transfer', async () => {
    const t = makeToolchain({ bigFiles: [5], smallFiles: 6 })
    await hold(t, b)
    const before = b.transfer!.server.served().pieces
    const aborter = new AbortController()
    const calls = [
      c.transfer!.ensureToolchain(t.id, { dht: false }),
      c.transfer!.ensureToolchain(t.id, { dht: false }),
      c.transfer!.ensureToolchain(t.id, { dht: false, signal: aborter.signal }),
    ]
    assert.deepEqual(c.transfer!.fetcher.inProgress(), [t.id])
    aborter.abort(new Error('caller gave up'))
    await assert.rejects(calls[2]!, /caller gave up/)
    const [r1, r2] = await Promise.all(calls.slice(0, 2))
    assert.equal(r1!.root, r2!.root)
    const chunks = (await c.store.getManifest(t.id)).manifest.files.reduce(
      (n, f) => n + (f.chunks?.length ?? 1),
      0,
    )
    assert.equal(
      b.transfer!.server.served().pieces - before,
      chunks + 1,
      'manifest + each chunk once',
    )
    assert.ok(await treeMatches(r1!.root, t.manifest))
  })

  it('a job that finds the manifest stored mid-transfer waits for the pieces', async () => {
    const t = makeToolchain({ bigFiles: [6], smallFiles: 4 })
    await hold(t, a)
    const pulling = d.transfer!.ensureToolchain(t.id, { dht: false })
    // What a builder's second job does: the manifest is there, so it goes straight to the tree.
    await waitFor(() => d.store.has(t.id), { what: 'manifest stored', intervalMs: 1 })
    assert.equal((await d.store.missingChunks(t.id)).length > 0, true, 'pieces still to come')
    const root = await d.store.materialize(t.id)
    assert.equal(root, (await pulling).root)
    assert.ok(await treeMatches(root, t.manifest))
  })

  it('refuses a non-member', async () => {
    const t = makeToolchain({ bigFiles: [], smallFiles: 2 })
    await hold(t, a)
    // No bootstrap: the outsider's first connection to A is the one it asks on, so the request
    // reaches A while A's admission is still deciding, and the gate must refuse it.
    const outsider = await startMemoryNode(testOrg('other'), {
      credentials: (k) => outsiderCredentials(memberCredentials(testOrg('x'), k).certificate()),
    })
    nodes.push(outsider)
    const before = a.transfer!.server.served().pieces
    const ask = async (n: TestNode) => {
      const stream = await n.mesh.node.dialProtocol(
        multiaddr(a.node.mesh.addrs()[0]!),
        BLOB_PROTOCOL,
        { signal: AbortSignal.timeout(5_000) },
      )
      const s = new BlobSession(stream, 'a', { requestTimeoutMs: 5_000 })
      return s.manifest(t.id)
    }
    await assert.rejects(ask(outsider), /closed the stream|abort|reset/i)
    assert.equal(a.transfer!.server.served().pieces, before)
    // The same request from a member making its first connection the same way is served.
    const late = await startMemoryNode(org)
    nodes.push(late)
    assert.deepEqual(Buffer.from(await ask(late)), Buffer.from(t.bytes))
    assert.equal(a.transfer!.server.served().pieces, before + 1)
  })
})
