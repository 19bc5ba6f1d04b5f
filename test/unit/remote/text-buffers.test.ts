/**
 * The pool of preprocessed-text buffers: a buffer given back is the one the next job of a size
 * that fits gets; oversized texts are never pooled; the pool keeps its larger buffers.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  giveTextBuffer,
  MAX_POOLED,
  MAX_POOLED_BYTES,
  takeTextBuffer,
} from '../../../src/remote/text-buffers.ts'

describe('text buffers', () => {
  it('reuses a buffer given back, for any text that fits', () => {
    const a = takeTextBuffer(100_000)
    assert.ok(a.length >= 100_000)
    giveTextBuffer(a)
    const b = takeTextBuffer(90_000)
    assert.equal(b, a, 'the same buffer again')
    const c = takeTextBuffer(90_000)
    assert.notEqual(c, a, 'a leased buffer is not handed out twice')
    giveTextBuffer(b)
    giveTextBuffer(b)
    assert.equal(takeTextBuffer(1), b)
    assert.notEqual(takeTextBuffer(1), b, 'given back twice, pooled once')
  })

  it('never pools a text larger than the limit', () => {
    const big = takeTextBuffer(MAX_POOLED_BYTES + 1)
    assert.equal(big.length, MAX_POOLED_BYTES + 1)
    giveTextBuffer(big)
    assert.notEqual(takeTextBuffer(MAX_POOLED_BYTES + 1), big)
  })

  it('keeps at most MAX_POOLED buffers, the larger ones', () => {
    const sizes = Array.from({ length: MAX_POOLED + 2 }, (_, i) => 2 ** (17 + i))
    const bufs = sizes.map((n) => takeTextBuffer(n))
    for (const b of bufs) giveTextBuffer(b)
    const largest = bufs.at(-1)!
    assert.equal(takeTextBuffer(largest.length), largest)
    assert.notEqual(takeTextBuffer(bufs[0]!.length), bufs[0], 'the smallest was dropped')
  })
})
