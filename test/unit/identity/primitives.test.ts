import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { issueCertificate } from '../../../src/identity/certificate.ts'
import {
  DOMAIN_CERT,
  DOMAIN_CRL,
  generateSecretKey,
  publicKeyOf,
  sha256,
  signWithDomain,
  verifyWithDomain,
} from '../../../src/identity/ed25519.ts'
import {
  canonicalJson,
  fromBase64Url,
  parseCanonicalObject,
  toBase64Url,
} from '../../../src/identity/encoding.ts'
import { decodeEnvelope, encodeEnvelope, KIND_CERT } from '../../../src/identity/envelope.ts'
import { parseDuration } from '../../../src/identity/duration.ts'
import { verifyCertificate } from '../../../src/identity/verify-certificate.ts'
import { newOrg, newPeerId } from './fixtures.ts'

describe('identity primitives', () => {
  it('separates signature domains', () => {
    const sk = generateSecretKey()
    const tbs = new TextEncoder().encode('{"v":1}')
    const sig = signWithDomain(sk, DOMAIN_CERT, tbs)
    assert.equal(verifyWithDomain(publicKeyOf(sk), DOMAIN_CERT, tbs, sig), true)
    assert.equal(verifyWithDomain(publicKeyOf(sk), DOMAIN_CRL, tbs, sig), false)
    assert.equal(verifyWithDomain(publicKeyOf(sk), DOMAIN_CERT, tbs, sig.subarray(1)), false)
  })

  it('uses strict verification: a small-order trusted key forges nothing', async () => {
    // Under ZIP-215 rules the identity point "verifies" this signature for every message.
    const identityPoint = new Uint8Array(32)
    identityPoint[0] = 1
    const sig = new Uint8Array(64)
    sig[0] = 1
    const tbs = new TextEncoder().encode('anything')
    assert.equal(verifyWithDomain(identityPoint, DOMAIN_CERT, tbs, sig), false)
    // the same through a certificate, if a trust list were misconfigured with that key
    const real = issueCertificate(newOrg('acme'), {
      peerId: await newPeerId(),
      name: 'n',
      roles: ['admin'],
    })
    const len = new DataView(real.buffer).getUint32(2)
    const tbsObj = parseCanonicalObject(real.subarray(6, 6 + len)) as Record<string, string>
    tbsObj['issuer'] = toBase64Url(sha256(identityPoint))
    const forged = encodeEnvelope({ kind: KIND_CERT, tbs: canonicalJson(tbsObj), sig })
    const subject = fromBase64Url(tbsObj['subject'] as string)
    assert.ok(subject)
    const trustedOrgKeys = [{ org: 'acme', publicKey: identityPoint }]
    assert.deepEqual(verifyCertificate(forged, { trustedOrgKeys, expectedPeerId: subject }), {
      ok: false,
      reason: 'bad-signature',
    })
  })

  it('bounds envelopes before parsing them', () => {
    const sig = new Uint8Array(64)
    const big = encodeEnvelope({ kind: KIND_CERT, tbs: new Uint8Array(17 * 1024), sig })
    assert.ok(decodeEnvelope(big, KIND_CERT, 32 * 1024), 'well-formed under a larger limit')
    assert.equal(decodeEnvelope(big, KIND_CERT, 16 * 1024), undefined, 'refused over the limit')
    const lying = big.slice(0, 1000) // header claims 17 KiB of TBS
    assert.equal(decodeEnvelope(lying, KIND_CERT, 32 * 1024), undefined)
    const decoded = decodeEnvelope(big, KIND_CERT, 32 * 1024)
    big[10] = 9
    assert.equal(decoded?.tbs[4], 0, 'decoded parts are copies')
  })

  it('accepts only canonical JSON objects', () => {
    const ok = canonicalJson({ b: [1, 'x'], a: true })
    assert.equal(new TextDecoder().decode(ok), '{"a":true,"b":[1,"x"]}')
    assert.deepEqual(parseCanonicalObject(ok), { a: true, b: [1, 'x'] })
    for (const text of [
      '{"b":1,"a":2}',
      '{"a":1.0}',
      '{"a":"\\u0041"}',
      '{ "a":1}',
      '[1]',
      '{"a":null}',
      '{"a":1,"a":1}',
    ]) {
      assert.equal(parseCanonicalObject(new TextEncoder().encode(text)), undefined, text)
    }
    assert.equal(parseCanonicalObject(Uint8Array.of(0x7b, 0xff, 0x7d)), undefined, 'invalid UTF-8')
    assert.throws(() => canonicalJson({ a: 0.5 }), RangeError)
  })

  it('parses durations', () => {
    assert.equal(parseDuration('90s'), 90)
    assert.equal(parseDuration('15m'), 900)
    assert.equal(parseDuration('1h'), 3600)
    assert.equal(parseDuration('2d'), 172800)
    assert.equal(parseDuration('120'), 120)
    for (const bad of ['', '0', '1x', '-1h', '1.5h', 'h'])
      assert.equal(parseDuration(bad), undefined, bad)
  })
})
