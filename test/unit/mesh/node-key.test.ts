import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { loadOrCreatePeerKey, peerKeyPath } from '../../../src/mesh/node-key.ts'

describe('persistent peer key', () => {
  let home: string
  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'meshcc-key-'))
  })
  after(async () => {
    await rm(home, { recursive: true, force: true })
  })

  it('creates an Ed25519 key with mode 0600 and returns the same one afterwards', async () => {
    const path = peerKeyPath(home)
    assert.equal(path, join(home, 'identity', 'peer.key'))
    const k1 = await loadOrCreatePeerKey(path)
    assert.equal(k1.type, 'Ed25519')
    assert.equal((await stat(path)).mode & 0o777, 0o600)
    const k2 = await loadOrCreatePeerKey(path)
    assert.equal(peerIdFromPrivateKey(k2).toString(), peerIdFromPrivateKey(k1).toString())
  })

  it('gives every concurrent caller the same key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshcc-key-race-'))
    try {
      const path = peerKeyPath(dir)
      const keys = await Promise.all(Array.from({ length: 8 }, () => loadOrCreatePeerKey(path)))
      const ids = new Set(keys.map((k) => peerIdFromPrivateKey(k).toString()))
      assert.equal(ids.size, 1)
      const onDisk = await loadOrCreatePeerKey(path)
      assert.ok(ids.has(peerIdFromPrivateKey(onDisk).toString()))
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('refuses a corrupt key file instead of replacing it', async () => {
    const path = join(home, 'bad.key')
    await writeFile(path, 'not a key')
    await assert.rejects(loadOrCreatePeerKey(path), { code: 'ERR_MESHCC_PEER_KEY' })
    assert.equal(await readFile(path, 'utf8'), 'not a key')
  })

  it('honours an aborted signal', async () => {
    await assert.rejects(loadOrCreatePeerKey(join(home, 'x.key'), { signal: AbortSignal.abort() }))
  })
})
