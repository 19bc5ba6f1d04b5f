/**
 * The builder's reservation table: a grant holds a slot for its TTL and no longer, belongs to the
 * member that asked, is used once, and never more are granted than slots are free.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SlotReservations } from '../../../src/remote/slot-reservations.ts'

function clocked(ttlMs = 2000) {
  let t = 1000
  const table = new SlotReservations({ ttlMs, now: () => t })
  return { table, advance: (ms: number) => (t += ms) }
}

describe('slot reservations', () => {
  it('grants up to the free slots, then refuses', () => {
    const { table } = clocked()
    const a = table.grant('A', { free: 2 })
    const b = table.grant('B', { free: 2 })
    assert.ok(a && b && a !== b)
    assert.equal(table.size, 2)
    assert.equal(table.grant('A', { free: 2 }), undefined)
    assert.equal(table.grant('C', { free: 0 }), undefined)
    assert.equal(table.counters.refused, 2)
    // A slot that starts running a job (free drops) leaves no room for a third grant either.
    assert.equal(table.grant('C', { free: 1 }), undefined)
  })

  it('a token is taken once, only by the peer it was granted to', () => {
    const { table } = clocked()
    const t = table.grant('A', { free: 1 })
    assert.ok(t)
    assert.equal(table.take(t, 'B'), false, 'another member cannot use it')
    assert.equal(table.size, 1)
    assert.equal(table.take(t, 'A'), true)
    assert.equal(table.take(t, 'A'), false, 'used once')
    assert.equal(table.size, 0)
    assert.equal(table.take('x'.repeat(22), 'A'), false)
  })

  it('expires after its TTL and frees the slot', () => {
    const { table, advance } = clocked(2000)
    const t = table.grant('A', { free: 1 })
    assert.ok(t)
    assert.equal(table.heldBy('A'), 1)
    advance(1999)
    assert.equal(table.size, 1)
    assert.equal(table.grant('B', { free: 1 }), undefined)
    advance(1)
    assert.equal(table.size, 0)
    assert.equal(table.take(t, 'A'), false, 'an expired token is worth nothing')
    assert.equal(table.counters.expired, 1)
    assert.ok(table.grant('B', { free: 1 }))
  })

  it('bounds the grants one member may hold', () => {
    const table = new SlotReservations({ perPeer: 1 })
    assert.ok(table.grant('A', { free: 4 }))
    assert.equal(table.grant('A', { free: 4 }), undefined)
    assert.ok(table.grant('B', { free: 4 }))
  })

  it('tells when unused grants expire (real timer)', async () => {
    let expired = 0
    const table = new SlotReservations({ ttlMs: 30, onExpire: () => expired++ })
    assert.ok(table.grant('A', { free: 1 }))
    await new Promise((r) => setTimeout(r, 80))
    assert.equal(expired, 1)
    assert.equal(table.size, 0)
  })
})
