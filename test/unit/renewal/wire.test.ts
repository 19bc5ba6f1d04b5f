/**
 * The `/meshcc/renew/1.0.0` codec and the shared JSON framing: round trips, and every kind of
 * malformed frame rejected (never thrown).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { encodeJsonFrame, parseJsonFrame } from '../../../src/enroll/frame.ts'
import { MAX_CERT_BYTES } from '../../../src/identity/certificate.ts'
import { toBase64Url } from '../../../src/identity/encoding.ts'
import {
  decodeRenewReply,
  decodeRenewRequest,
  encodeRenewReply,
  encodeRenewRequest,
  MAX_RENEW_REQUEST_BYTES,
} from '../../../src/renewal/wire.ts'

const text = (s: string) => new TextEncoder().encode(s)
const json = (v: unknown) => text(JSON.stringify(v))
const cert = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff)

describe('JSON frames', () => {
  it('round-trips an object', () => {
    assert.deepEqual(parseJsonFrame(encodeJsonFrame({ v: 1, a: 'b' })), { v: 1, a: 'b' })
  })
  it('rejects non-objects, broken JSON and invalid UTF-8', () => {
    for (const bad of [
      text('[1,2]'),
      text('null'),
      text('"x"'),
      text('42'),
      text('{"v":1'),
      text(''),
      Uint8Array.of(0x7b, 0xff, 0xfe, 0x7d),
    ]) {
      assert.equal(parseJsonFrame(bad), undefined, new TextDecoder().decode(bad))
    }
  })
})

describe('renewal requests', () => {
  it('round-trip the certificate bytes exactly', () => {
    const r = decodeRenewRequest(encodeRenewRequest({ certificate: cert }))
    assert.deepEqual(r?.certificate, cert)
  })

  it('reject malformed requests', () => {
    const good = toBase64Url(cert)
    const cases: Array<[string, Uint8Array]> = [
      ['wrong version', json({ v: 2, certificate: good })],
      ['no version', json({ certificate: good })],
      ['missing certificate', json({ v: 1 })],
      ['certificate not a string', json({ v: 1, certificate: 5 })],
      ['not base64url', json({ v: 1, certificate: 'a+b/c=' })],
      ['empty certificate', json({ v: 1, certificate: '' })],
      ['extra field', json({ v: 1, certificate: good, peer: 'x' })],
      ['array', json([1, good])],
      ['not JSON', text('certificate please')],
      [
        'certificate above the limit',
        json({ v: 1, certificate: toBase64Url(new Uint8Array(MAX_CERT_BYTES + 1)) }),
      ],
      [
        'frame above the limit',
        text(`{"v":1,"certificate":"${good}","pad":"${'x'.repeat(MAX_RENEW_REQUEST_BYTES)}"}`),
      ],
    ]
    for (const [what, bytes] of cases) assert.equal(decodeRenewRequest(bytes), undefined, what)
  })
})

describe('renewal replies', () => {
  it('round-trip a certificate and a refusal', () => {
    const ok = decodeRenewReply(encodeRenewReply({ ok: true, certificate: cert }))
    assert.ok(ok?.ok)
    assert.deepEqual(ok.certificate, cert)
    assert.deepEqual(decodeRenewReply(encodeRenewReply({ ok: false, reason: 'revoked' })), {
      ok: false,
      reason: 'revoked',
    })
  })

  it('reject malformed replies', () => {
    const good = toBase64Url(cert)
    const cases: Array<[string, Uint8Array]> = [
      ['wrong version', json({ v: 0, ok: true, certificate: good })],
      ['ok not boolean', json({ v: 1, ok: 'yes', certificate: good })],
      ['ok without certificate', json({ v: 1, ok: true })],
      ['ok with a reason too', json({ v: 1, ok: true, certificate: good, reason: 'x' })],
      ['refusal without reason', json({ v: 1, ok: false })],
      ['reason not a word', json({ v: 1, ok: false, reason: 'Revoked!\n' })],
      ['reason too long', json({ v: 1, ok: false, reason: `a${'-'.repeat(40)}` })],
      ['reason not a string', json({ v: 1, ok: false, reason: 3 })],
      ['bad base64', json({ v: 1, ok: true, certificate: '***' })],
      ['not JSON', text('\u0000\u0001')],
    ]
    for (const [what, bytes] of cases) assert.equal(decodeRenewReply(bytes), undefined, what)
  })
})
