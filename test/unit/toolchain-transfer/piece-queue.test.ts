import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ChunkRef } from '../../../src/toolchain/store.ts'
import { PieceQueue, pieceKey } from '../../../src/toolchain-transfer/piece-queue.ts'

const refs: ChunkRef[] = Array.from({ length: 5 }, (_, i) => ({
  fileSha256: 'a'.repeat(64),
  index: i,
  sha256: String(i).repeat(64).slice(0, 64),
  size: 100,
}))

describe('piece queue', () => {
  it('hands each piece out once while pieces are pending, across peers', () => {
    const q = new PieceQueue(refs)
    const got = new Set<string>()
    for (let i = 0; i < 5; i++) {
      const a = q.next(i % 2 ? 'p1' : 'p2')
      assert.ok(a && !a.duplicate)
      got.add(a.key)
    }
    assert.equal(got.size, 5)
    assert.equal(q.remaining, 5)
  })

  it('end game: duplicates the oldest in-flight piece on another peer, at most maxCopies', () => {
    let t = 0
    const q = new PieceQueue(refs.slice(0, 2), { now: () => t++ })
    const first = q.next('p1')!
    q.next('p1')
    // p1 has everything in flight: nothing more for it.
    assert.equal(q.next('p1'), undefined)
    const dup = q.next('p2')!
    assert.equal(dup.duplicate, true)
    assert.equal(dup.key, first.key, 'oldest first')
    const dup2 = q.next('p2')!
    assert.notEqual(dup2.key, first.key)
    // Both pieces now have two copies in flight.
    assert.equal(q.next('p3'), undefined)
  })

  it('the first copy to arrive is claimed, later copies are discarded', () => {
    const q = new PieceQueue(refs.slice(0, 1))
    const a = q.next('p1')!
    q.next('p2')
    assert.equal(q.claim(a.key, 'p2'), true)
    assert.equal(q.claim(a.key, 'p1'), false)
    q.done(a.key)
    assert.equal(q.finished, true)
  })

  it('a failed claimed write requeues the piece; a lacking peer is not asked again', () => {
    const q = new PieceQueue(refs.slice(0, 1))
    const a = q.next('bad')!
    assert.equal(q.claim(a.key, 'bad'), true)
    q.failed(a.key, 'bad', { claimed: true })
    const again = q.next('good')!
    assert.equal(again.key, a.key)
    assert.equal(again.duplicate, false)
    q.failed(again.key, 'good', { lacking: true })
    assert.equal(q.next('good'), undefined)
    assert.equal(q.stuck(['good']), true)
    assert.equal(q.stuck(['good', 'other']), false)
    assert.equal(q.next('other')?.key, a.key)
  })

  it('dropping a peer requeues its in-flight pieces', () => {
    const q = new PieceQueue(refs.slice(0, 2))
    const a = q.next('p1')!
    const b = q.next('p1')!
    q.dropPeer('p1')
    const keys = [q.next('p2')!.key, q.next('p2')!.key].sort()
    assert.deepEqual(keys, [a.key, b.key].sort())
  })

  it('wakes waiters when a piece completes', async () => {
    const q = new PieceQueue(refs.slice(0, 1))
    const a = q.next('p1')!
    const woke = q.changed()
    q.claim(a.key, 'p1')
    q.done(a.key)
    await woke
    assert.equal(pieceKey(refs[0]!), a.key)
  })
})
