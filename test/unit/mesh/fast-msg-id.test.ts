import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { fastMessageId } from '../../../src/mesh/fast-msg-id.ts'

const msg = {
  from: new Uint8Array([0, 36, 8, 1]),
  seqno: new Uint8Array([0, 0, 0, 1]),
  topic: 'meshcc/adverts/1',
  data: new TextEncoder().encode('{"a":1}'),
  signature: new Uint8Array(64).fill(7),
}

describe('fast gossip message id', () => {
  it('is the same for a byte-identical copy', () => {
    const copy = {
      ...msg,
      from: new Uint8Array(msg.from),
      data: new Uint8Array(msg.data),
      signature: new Uint8Array(msg.signature),
    }
    assert.equal(fastMessageId(copy), fastMessageId(msg))
  })

  it('differs when any field differs, so a forged copy is validated on its own', () => {
    const base = fastMessageId(msg)
    const forged = new Uint8Array(msg.signature)
    forged[0] = 8
    assert.notEqual(fastMessageId({ ...msg, signature: forged }), base)
    assert.notEqual(fastMessageId({ ...msg, data: new TextEncoder().encode('{"a":2}') }), base)
    assert.notEqual(fastMessageId({ ...msg, seqno: new Uint8Array([0, 0, 0, 2]) }), base)
    assert.notEqual(fastMessageId({ ...msg, topic: 'meshcc/crl/1' }), base)
    assert.notEqual(fastMessageId({ ...msg, key: new Uint8Array(0) }), base)
    // Bytes moved from one field to the next do not collide.
    const a = { topic: 't', from: new Uint8Array([1, 2]), seqno: new Uint8Array([3]) }
    const b = { topic: 't', from: new Uint8Array([1]), seqno: new Uint8Array([2, 3]) }
    assert.notEqual(fastMessageId(a), fastMessageId(b))
  })
})
