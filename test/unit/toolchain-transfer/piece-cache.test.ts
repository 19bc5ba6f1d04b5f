import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { decodePiece } from '../../../src/toolchain-transfer/codec.ts'
import { PieceCache } from '../../../src/toolchain-transfer/piece-cache.ts'

describe('piece cache', () => {
  it('compresses a piece once for many requesters, and not for those without zstd', async () => {
    const cache = new PieceCache(1024 * 1024)
    const piece = Buffer.alloc(256 * 1024, 'abc')
    let reads = 0
    const raw = async () => {
      reads++
      return piece
    }
    const first = await cache.encode('f/0', raw, ['zstd'])
    assert.equal(first.enc, 'zstd')
    assert.ok(first.body.byteLength < piece.byteLength / 10)
    const second = await cache.encode('f/0', raw, ['zstd'])
    assert.equal(second.hit, true)
    assert.equal(reads, 1, 'a hit needs no read')
    assert.deepEqual(Buffer.from(await decodePiece(second.body, second.enc, second.size)), piece)
    const plain = await cache.encode('f/0', raw, [])
    assert.equal(plain.enc, 'identity')
    assert.equal(plain.body, piece)
  })

  it('remembers incompressible pieces without keeping bytes, and stays within its bound', async () => {
    const cache = new PieceCache(300 * 1024)
    const noise = randomBytes(128 * 1024)
    const r = await cache.encode('n/0', async () => noise, ['zstd'])
    assert.equal(r.enc, 'identity')
    assert.equal(cache.bytes, 0)
    // Half noise, half zeros: compresses to about half, so each entry is ~256 KiB.
    const halfNoise = () => Buffer.concat([randomBytes(256 * 1024), Buffer.alloc(256 * 1024)])
    for (let i = 0; i < 10; i++) {
      const r = await cache.encode(`c/${i}`, async () => halfNoise(), ['zstd'])
      assert.equal(r.enc, 'zstd')
    }
    assert.ok(cache.bytes > 200 * 1024, `keeps the latest (${cache.bytes})`)
    assert.ok(cache.bytes <= 300 * 1024)
  })
})
