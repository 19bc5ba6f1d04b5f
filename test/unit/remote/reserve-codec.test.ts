/**
 * The reservation messages: round trips, and every malformed, oversized or out-of-range field is
 * refused with JobCodecError.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { JobCodecError } from '../../../src/errors.ts'
import {
  decodeReserveRequest,
  decodeReserveResponse,
  encodeReserveRequest,
  encodeReserveResponse,
  MAX_RESERVE_MESSAGE,
  type ReserveResponse,
} from '../../../src/remote/reserve-codec.ts'

const TC = 'cd'.repeat(32)
const json = (x: unknown) => Buffer.from(JSON.stringify(x))

describe('reservation codec', () => {
  it('round-trips requests and responses', () => {
    assert.deepEqual(decodeReserveRequest(encodeReserveRequest({ v: 1, toolchain: TC })), {
      v: 1,
      toolchain: TC,
    })
    const r = { v: 1, toolchain: TC, estimateMs: 1234 }
    assert.deepEqual(decodeReserveRequest(encodeReserveRequest(r)), r)
    const g = { v: 1, status: 'granted', ttlMs: 2000 } as const
    assert.deepEqual(decodeReserveResponse(encodeReserveResponse(g)), g)
    const early: ReserveResponse = {
      v: 1,
      status: 'granted',
      ttlMs: 2000,
      features: ['early-start'],
    }
    assert.deepEqual(decodeReserveResponse(encodeReserveResponse(early)), early)
    assert.deepEqual(decodeReserveResponse(json({ v: 1, status: 'busy', extra: 1 })), {
      v: 1,
      status: 'busy',
    })
  })

  it('refuses malformed requests', () => {
    const bad: unknown[] = [
      { v: 2, toolchain: TC },
      { toolchain: TC },
      { v: 1, toolchain: 'AB'.repeat(32) },
      { v: 1, toolchain: TC.slice(2) },
      { v: 1, toolchain: TC, estimateMs: -1 },
      { v: 1, toolchain: TC, estimateMs: 1.5 },
      { v: 1, toolchain: TC, estimateMs: 1e12 },
      { v: 1, toolchain: TC, estimateMs: '5' },
      [1, 2],
      null,
    ]
    for (const b of bad)
      assert.throws(() => decodeReserveRequest(json(b)), JobCodecError, JSON.stringify(b))
    assert.throws(() => decodeReserveRequest(Buffer.from([0xff, 0xfe])), JobCodecError)
    assert.throws(() => decodeReserveRequest(Buffer.from('{"v":1,')), JobCodecError)
  })

  it('refuses oversized messages either way', () => {
    const big = json({ v: 1, toolchain: TC, pad: 'x'.repeat(MAX_RESERVE_MESSAGE) })
    assert.throws(() => decodeReserveRequest(big), JobCodecError)
    assert.throws(() => decodeReserveResponse(big), JobCodecError)
  })

  it('refuses malformed responses', () => {
    const bad: unknown[] = [
      { v: 1, status: 'maybe' },
      { v: 1, status: 'granted' },
      { v: 1, status: 'granted', ttlMs: 0 },
      { v: 1, status: 'granted', ttlMs: 3_600_000 },
      { v: 1, status: 'granted', ttlMs: 10, features: 'early-start' },
      { v: 1, status: 'granted', ttlMs: 10, features: [1] },
      { v: 1, status: 'granted', ttlMs: 10, features: ['x'.repeat(33)] },
      { v: 1, status: 'granted', ttlMs: 10, features: Array(9).fill('a') },
    ]
    for (const b of bad)
      assert.throws(() => decodeReserveResponse(json(b)), JobCodecError, JSON.stringify(b))
  })
})
