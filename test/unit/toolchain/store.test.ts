import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { lstat, readFile, readlink, readdir, rm, writeFile, chmod } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import {
  ToolchainIncompleteError,
  ToolchainIntegrityError,
  ToolchainNotFoundError,
} from '../../../src/errors.ts'
import { DigestBuilder } from '../../../src/toolchain/hash-file.ts'
import { CHUNK_SIZE } from '../../../src/toolchain/limits.ts'
import { buildManifest, encodeManifest, manifestId } from '../../../src/toolchain/manifest.ts'
import { ToolchainStore } from '../../../src/toolchain/store.ts'

const dirs: string[] = []
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))))
function freshStore(): ToolchainStore {
  const d = mkdtempSync(join(tmpdir(), 'meshcc-tc-store-'))
  dirs.push(d)
  return new ToolchainStore(join(d, 'toolchains'))
}

function digest(bytes: Uint8Array) {
  const d = new DigestBuilder()
  d.update(bytes)
  return d.finish()
}

// A toolchain with a chunked 5.5 MiB "cc1", a small driver, and a link.
const big = randomBytes(5 * CHUNK_SIZE + CHUNK_SIZE / 2)
const driver = Buffer.from('#!/bin/sh\n')
const manifest = buildManifest({
  platform: 'linux-x86_64',
  targets: ['x86_64-linux-gnu'],
  drivers: { c: 'usr/bin/gcc' },
  compilerId: 'test gcc',
  files: [
    { path: 'usr/bin/gcc', mode: 0o755, ...digest(driver) },
    { path: 'usr/lib/cc1', mode: 0o755, ...digest(big) },
    { path: 'usr/share/copy-of-driver', mode: 0o644, ...digest(driver) },
  ],
  symlinks: [{ path: 'usr/bin/cc', target: 'gcc' }],
})
const bytes = encodeManifest(manifest)
const id = manifestId(bytes)
const bigSha = createHash('sha256').update(big).digest('hex')
const driverSha = createHash('sha256').update(driver).digest('hex')

function chunkOf(i: number) {
  return big.subarray(i * CHUNK_SIZE, Math.min(big.length, (i + 1) * CHUNK_SIZE))
}

describe('toolchain store', () => {
  it('accepts a manifest only under its own id', async () => {
    const store = freshStore()
    await assert.rejects(
      store.putManifest(bytes, { expectedId: 'a'.repeat(64) }),
      ToolchainIntegrityError,
    )
    assert.equal(await store.has(id), false)
    assert.equal(await store.putManifest(bytes, { expectedId: id }), id)
    assert.equal(await store.has(id), true)
    assert.deepEqual((await store.getManifest(id)).manifest, manifest)
  })

  it('lists what is missing, verifies every chunk, assembles and serves files', async () => {
    const store = freshStore()
    await store.putManifest(bytes)
    assert.deepEqual(
      (await store.missingBlobs(manifest)).map((f) => f.sha256).sort(),
      [bigSha, driverSha].sort(),
    )
    const missing = await store.missingChunks(id)
    assert.equal(missing.length, 6 + 1) // 6 chunks of cc1, 1 for the (deduplicated) driver
    // A tampered chunk is refused and not kept.
    const bad = Buffer.from(chunkOf(2))
    bad[100]! ^= 1
    await assert.rejects(store.writeChunk(bigSha, 2, bad), ToolchainIntegrityError)
    await assert.rejects(store.writeChunk(bigSha, 2, chunkOf(3)), ToolchainIntegrityError)
    await assert.rejects(store.writeChunk(bigSha, 6, chunkOf(0)), ToolchainIntegrityError)
    assert.equal((await store.missingChunks(id)).length, 7)
    await assert.rejects(store.writeChunk('b'.repeat(64), 0, driver), ToolchainNotFoundError)

    // Out of order; the blob appears only when the last chunk arrives.
    for (const i of [5, 0, 3, 1, 4])
      assert.deepEqual(await store.writeChunk(bigSha, i, chunkOf(i)), { complete: false })
    assert.equal(await store.hasBlob(bigSha), false)
    // Partial chunks can already be served to other peers.
    assert.deepEqual(Buffer.from(await store.readChunk(bigSha, 3)), chunkOf(3))
    await assert.rejects(store.materialize(id), ToolchainIncompleteError)
    assert.deepEqual(await store.writeChunk(bigSha, 2, chunkOf(2)), { complete: true })
    assert.deepEqual(await store.writeChunk(driverSha, 0, driver), { complete: true })
    assert.deepEqual(await store.missingChunks(id), [])
    assert.deepEqual(await readFile(store.blobPath(bigSha)), big)
    assert.deepEqual(Buffer.from(await store.readChunk(bigSha, 5)), chunkOf(5))
    assert.deepEqual(Buffer.from(await store.readChunk(driverSha, 0)), driver)
    await assert.rejects(store.readChunk(bigSha, 6), ToolchainNotFoundError)

    const root = await store.materialize(id)
    assert.equal(root, store.treePath(id))
    assert.deepEqual(await readFile(join(root, 'usr/lib/cc1')), big)
    // Trees are read-only: programs 0555, data 0444 (hard links to the blobs where modes agree).
    const gccSt = await lstat(join(root, 'usr/bin/gcc'))
    const copySt = await lstat(join(root, 'usr/share/copy-of-driver'))
    assert.equal(gccSt.mode & 0o7777, 0o555)
    assert.equal(copySt.mode & 0o7777, 0o444)
    assert.equal(gccSt.ino, (await lstat(store.blobPath(driverSha))).ino)
    assert.notEqual(copySt.ino, gccSt.ino)
    assert.equal(
      (await lstat(join(root, 'usr/lib/cc1'))).ino,
      (await lstat(store.blobPath(bigSha))).ino,
    )
    assert.equal(await readlink(join(root, 'usr/bin/cc')), 'gcc')
    assert.equal(await store.materialize(id), root) // once only
    assert.deepEqual(await readdir(join(store.root, 'trees')), [id])

    const [summary] = await store.list()
    assert.equal(summary?.id, id)
    assert.equal(summary?.complete, true)
    assert.equal(summary?.materialized, true)
    assert.equal(summary?.bytes, big.length + 2 * driver.length)
    const usage = await store.usage()
    assert.equal(usage.blobs, 2)
    assert.equal(usage.blobBytes, big.length + driver.length)

    assert.equal((await store.remove(id)).freedBytes, big.length + driver.length)
    assert.deepEqual(await store.list(), [])
    assert.equal(await store.hasBlob(bigSha), false)
  })

  it('detects a blob damaged on disk when materialising', async () => {
    const store = freshStore()
    await store.putManifest(bytes)
    for (let i = 0; i < 6; i++) await store.writeChunk(bigSha, i, chunkOf(i))
    await store.writeChunk(driverSha, 0, driver)
    await chmod(store.blobPath(driverSha), 0o644)
    await writeFile(store.blobPath(driverSha), '#!/bin/sh\nrm -rf /\n')
    await assert.rejects(store.materialize(id), ToolchainIntegrityError)
    assert.deepEqual(await readdir(join(store.root, 'trees')), [])
  })

  it('assembles once when the last chunks arrive concurrently', async () => {
    const store = freshStore()
    await store.putManifest(bytes)
    for (let i = 0; i < 4; i++) await store.writeChunk(bigSha, i, chunkOf(i))
    const results = await Promise.all([
      store.writeChunk(bigSha, 4, chunkOf(4)),
      store.writeChunk(bigSha, 5, chunkOf(5)),
      store.writeChunk(bigSha, 5, chunkOf(5)),
    ])
    assert.ok(results.some((r) => r.complete))
    assert.deepEqual(await readFile(store.blobPath(bigSha)), big)
    assert.deepEqual(await readdir(join(store.root, 'tmp')), [])
  })

  it('resumes a large file after a restart, and serves what it already has meanwhile', async () => {
    const store = freshStore()
    await store.putManifest(bytes)
    for (const i of [0, 1, 3]) await store.writeChunk(bigSha, i, chunkOf(i))
    // A new process on the same store: the chunks written are kept and can be served.
    const again = new ToolchainStore(store.root)
    const missing = (await again.missingChunks(id)).filter((c) => c.fileSha256 === bigSha)
    assert.deepEqual(
      missing.map((c) => c.index),
      [2, 4, 5],
    )
    assert.deepEqual(Buffer.from(await again.readChunk(bigSha, 3)), chunkOf(3))
    await assert.rejects(again.readChunk(bigSha, 2), ToolchainNotFoundError)
    for (const i of [5, 2])
      assert.equal((await again.writeChunk(bigSha, i, chunkOf(i))).complete, false)
    assert.equal((await again.writeChunk(bigSha, 4, chunkOf(4))).complete, true)
    assert.deepEqual(await readFile(again.blobPath(bigSha)), big)
    assert.equal((await lstat(again.blobPath(bigSha))).mode & 0o7777, 0o555)
    assert.deepEqual(await readdir(join(again.root, 'partial')), [])
  })

  it('refuses a file whose chunks all verify but whose whole hash does not (no false blob)', async () => {
    // A hostile manifest: cc1's chunk list is right, its file hash names other content.
    const forged = buildManifest({
      ...manifest,
      files: manifest.files.map((f) =>
        f.path === 'usr/lib/cc1' ? { ...f, sha256: driverSha.replace(/^./, 'e') } : f,
      ),
    })
    const store = freshStore()
    const forgedId = await store.putManifest(encodeManifest(forged))
    const fake = forged.files.find((f) => f.path === 'usr/lib/cc1')!.sha256
    for (let i = 0; i < 5; i++) await store.writeChunk(fake, i, chunkOf(i))
    await assert.rejects(store.writeChunk(fake, 5, chunkOf(5)), ToolchainIntegrityError)
    assert.equal(await store.hasBlob(fake), false)
    assert.equal(
      (await store.missingChunks(forgedId)).filter((c) => c.fileSha256 === fake).length,
      6,
    )
  })

  it('refuses ids that are not hashes (no path tricks)', async () => {
    const store = freshStore()
    await assert.rejects(store.getManifest('../../etc/passwd'), ToolchainNotFoundError)
    await assert.rejects(store.readChunk('../x', 0), ToolchainNotFoundError)
  })
})
