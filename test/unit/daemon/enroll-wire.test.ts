/**
 * The enrollment protocol's frames: round trips, and refusal of anything malformed (the only
 * meshcc protocol an outsider reaches must not trust its input).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  decodeEnrollReply,
  decodeEnrollRequest,
  encodeEnrollReply,
  encodeEnrollRequest,
} from '../../../src/enroll/wire.ts'

const bytes = (s: string) => new TextEncoder().encode(s)

describe('enroll wire', () => {
  it('round-trips requests and replies', () => {
    const req = {
      invitation: new Uint8Array([1, 2, 3]),
      proof: new Uint8Array(32).fill(7),
      name: 'host-a',
    }
    assert.deepEqual(decodeEnrollRequest(encodeEnrollRequest(req)), req)
    const cert = new Uint8Array([9, 8, 7])
    assert.deepEqual(decodeEnrollReply(encodeEnrollReply({ ok: true, certificate: cert })), {
      ok: true,
      certificate: cert,
    })
    assert.deepEqual(decodeEnrollReply(encodeEnrollReply({ ok: false, reason: 'used-up' })), {
      ok: false,
      reason: 'used-up',
    })
  })

  it('refuses malformed frames', () => {
    for (const s of [
      '',
      'null',
      '[]',
      '{"v":2,"invitation":"AQID","proof":"AQID","name":"a"}',
      '{"v":1,"invitation":"!!","proof":"AQID","name":"a"}',
      '{"v":1,"invitation":"AQID","proof":"AQID"}',
      '{"v":1,"invitation":"AQID","proof":"AQID","name":7}',
    ]) {
      assert.equal(decodeEnrollRequest(bytes(s)), undefined, s)
    }
    assert.equal(decodeEnrollRequest(new Uint8Array([0xff, 0xfe])), undefined)
    assert.equal(decodeEnrollReply(bytes('{"v":1,"ok":true}')), undefined)
    assert.equal(decodeEnrollReply(bytes('{"v":1,"ok":"yes","reason":"x"}')), undefined)
    // A long reason is cut: it is shown to the user.
    const long = decodeEnrollReply(bytes(`{"v":1,"ok":false,"reason":"${'x'.repeat(500)}"}`))
    assert.ok(long !== undefined && !long.ok && long.reason.length === 64)
  })
})
