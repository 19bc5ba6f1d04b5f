/**
 * Compressed pieces: a zstd piece is decoded within the size the requester expects (a
 * decompression bomb is cut off, not inflated), a zstd piece that decodes to the wrong bytes is
 * refused by the store, pieces packed at rest are served from disk without compressing again
 * (and survive a new cache), and pieces received compressed are kept packed for serving on.
 */
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { constants, zstdCompress } from 'node:zlib'
import { after, before, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Connection } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { streamPair } from '@libp2p/utils'
import { BlobProtocolError, ToolchainIntegrityError } from '../../../src/errors.ts'
import { ToolchainStore } from '../../../src/toolchain/store.ts'
import { BlobSession } from '../../../src/toolchain-transfer/blob-client.ts'
import { blobHandler } from '../../../src/toolchain-transfer/blob-protocol.ts'
import { decodePiece } from '../../../src/toolchain-transfer/codec.ts'
import { packToolchain } from '../../../src/toolchain-transfer/pack-toolchain.ts'
import { PackedPieces } from '../../../src/toolchain-transfer/packed-pieces.ts'
import { PieceCache } from '../../../src/toolchain-transfer/piece-cache.ts'
import {
  makeToolchain,
  type SyntheticToolchain,
  storeToolchain,
} from '../../helpers/toolchain-fixture.ts'

const zstd = promisify(zstdCompress)
const dir = mkdtempSync(join(tmpdir(), 'meshcc-packed-'))
after(() => rm(dir, { recursive: true, force: true }))
let store: ToolchainStore
let tc: SyntheticToolchain
let conn: Connection

before(async () => {
  store = new ToolchainStore(join(dir, 'holder'))
  tc = makeToolchain({ bigFiles: [5.2], smallFiles: 3, compressible: true })
  await storeToolchain(store, tc)
  conn = { remotePeer: peerIdFromPrivateKey(await generateKeyPair('Ed25519')) } as Connection
})

const big = () => tc.manifest.files.find((f) => f.chunks)!

describe('compressed pieces', () => {
  it('cuts a decompression bomb off at the expected size', async () => {
    const bomb = await zstd(Buffer.alloc(64 * 1024 * 1024), {
      params: { [constants.ZSTD_c_compressionLevel]: 3 },
    })
    assert.ok(bomb.byteLength < 64 * 1024, 'a small frame that inflates to 64 MiB')
    const before = process.memoryUsage().arrayBuffers
    await assert.rejects(decodePiece(bomb, 'zstd', 1024 * 1024), BlobProtocolError)
    assert.ok(process.memoryUsage().arrayBuffers - before < 32 * 1024 * 1024)
    await assert.rejects(decodePiece(Buffer.from('not zstd at all'), 'zstd', 10), BlobProtocolError)
    // A frame that decodes to fewer bytes than announced is refused too.
    await assert.rejects(decodePiece(await zstd(Buffer.alloc(10)), 'zstd', 11), BlobProtocolError)
  })

  it('refuses a zstd piece that decodes to the wrong content', async () => {
    const f = big()
    const content = tc.contents.get(f.path)!
    // A lying holder: right size, one byte changed, sent compressed.
    const liar = {
      getManifest: (id: string) => store.getManifest(id),
      readChunk: async (sha: string, i: number) => {
        const b = Buffer.from(await store.readChunk(sha, i))
        b[7]! ^= 0x40
        return b
      },
    }
    const [client, server] = await streamPair()
    const done = blobHandler(liar)(server, conn)
    const s = new BlobSession(client, 'liar', { compress: true })
    const got = await s.chunkPacked(f.sha256, 1, 1024 * 1024)
    assert.ok(got.packed !== undefined, 'it came compressed')
    assert.ok(!Buffer.from(got.bytes).equals(content.subarray(1024 * 1024, 2 * 1024 * 1024)))
    const fetcher = new ToolchainStore(join(dir, 'fetcher-liar'))
    await fetcher.putManifest(tc.bytes)
    await assert.rejects(fetcher.writeChunk(f.sha256, 1, got.bytes), ToolchainIntegrityError)
    assert.deepEqual(await fetcher.missingChunks(tc.id).then((m) => m.length), 6 + 4)
    await s.close()
    await done
  })

  it('packs a toolchain at rest and serves the packed pieces without compressing', async () => {
    const packed = new PackedPieces(join(store.root, 'packed'))
    await packToolchain(store, new PieceCache(1, packed), tc.id)
    const files = (await readdir(packed.dir, { recursive: true })).filter((n) => n.includes('.'))
    assert.equal(files.length, 6 + 4, 'one packed file per piece')
    // A new cache (a restarted node) finds them on disk: the raw piece is never read.
    let reads = 0
    const source = {
      getManifest: (id: string) => store.getManifest(id),
      readChunk: async (sha: string, i: number) => {
        reads++
        return store.readChunk(sha, i)
      },
    }
    const [client, server] = await streamPair()
    const done = blobHandler(source, { cache: new PieceCache(undefined, packed) })(server, conn)
    const s = new BlobSession(client, 'holder', { compress: true })
    const f = big()
    const content = tc.contents.get(f.path)!
    const got = await s.chunkPacked(f.sha256, 2, 1024 * 1024)
    assert.ok(Buffer.from(got.bytes).equals(content.subarray(2 * 1048576, 3 * 1048576)))
    assert.ok(got.packed !== undefined && got.packed.byteLength < (1024 * 1024) / 2)
    assert.equal(reads, 0, 'served from the packed copy')
    await s.close()
    await done
    // Removing the toolchain removes its packed pieces.
    const copy = new ToolchainStore(join(dir, 'copy'))
    await storeToolchain(copy, tc)
    await packToolchain(copy, new PieceCache(1, new PackedPieces(join(copy.root, 'packed'))), tc.id)
    await copy.remove(tc.id)
    const left = await readdir(join(copy.root, 'packed'), { recursive: true })
    assert.deepEqual(
      left.filter((n) => n.includes('.')),
      [],
    )
  })

  it('keeps pieces received compressed, to serve them on as they came', async () => {
    const packed = new PackedPieces(join(dir, 'kept'))
    const cache = new PieceCache(undefined, packed)
    const frame = await zstd(Buffer.alloc(200_000, 'x'))
    cache.keep(`${'a'.repeat(64)}/3`, { enc: 'zstd', body: frame, size: 200_000 })
    let kept: Awaited<ReturnType<PackedPieces['read']>>
    for (let i = 0; i < 50 && kept === undefined; i++) {
      kept = await packed.read(`${'a'.repeat(64)}/3`)
      if (kept === undefined) await new Promise((r) => setTimeout(r, 10))
    }
    assert.equal(kept?.size, 200_000)
    assert.ok(Buffer.from(kept!.body!).equals(frame))
    const hit = await cache.encode(`${'a'.repeat(64)}/3`, async () => assert.fail('read'), ['zstd'])
    assert.equal(hit.enc, 'zstd')
  })
})
