import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodeAdvert, encodeAdvert, MAX_ADVERT_BYTES } from '../../../src/mesh/advert-codec.ts'
import type { Advert } from '../../../src/mesh/types.ts'

const good: Advert = {
  host: 'build-1',
  platform: 'linux',
  arch: 'x64',
  cores: 16,
  freeSlots: 12,
  load: 0.25,
  queuedJobs: 3,
  speed: 1.4,
  toolchains: ['gcc-12-x86_64-linux-gnu', 'clang-19'],
  version: '0.1.0',
  certExpiry: 1_800_000_000_000,
  addrs: ['/ip4/10.0.0.5/tcp/4001/p2p/12D3KooWBnkAt5zvZxFsLaejFS8Cmr1qyekzB4kjBBJH6izmMvr7'],
  seq: 1_764_000_000_001,
  ts: 1_764_000_000_000,
}

const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o))

describe('advert codec', () => {
  it('round-trips a valid advert', () => {
    const r = decodeAdvert(encodeAdvert(good))
    assert.ok(r.ok)
    assert.deepEqual(r.advert, good)
  })

  it('reads a missing addrs field as none', () => {
    const r = decodeAdvert(enc({ ...good, addrs: undefined }))
    assert.ok(r.ok)
    assert.deepEqual(r.advert.addrs, [])
  })

  it('drops unknown fields', () => {
    const r = decodeAdvert(enc({ ...good, evil: 'x' }))
    assert.ok(r.ok)
    assert.equal('evil' in r.advert, false)
  })

  const bad: Array<[string, unknown]> = [
    ['negative cores', { ...good, cores: -1 }],
    ['fractional slots', { ...good, freeSlots: 1.5 }],
    ['string load', { ...good, load: '0.1' }],
    ['NaN-ish speed', { ...good, speed: null }],
    ['missing platform', { ...good, platform: undefined }],
    ['toolchains not strings', { ...good, toolchains: [1] }],
    ['too many toolchains', { ...good, toolchains: Array.from({ length: 65 }, (_, i) => `t${i}`) }],
    ['long host', { ...good, host: 'h'.repeat(129) }],
    ['array', [good]],
    ['too many addrs', { ...good, addrs: Array.from({ length: 9 }, () => '/ip4/1.2.3.4/tcp/1') }],
    ['addr not a string', { ...good, addrs: [42] }],
    ['null', null],
  ]
  for (const [what, value] of bad) {
    it(`rejects ${what}`, () => {
      assert.equal(decodeAdvert(enc(value)).ok, false)
    })
  }

  it('rejects non-JSON, invalid UTF-8 and oversize input', () => {
    assert.equal(decodeAdvert(new TextEncoder().encode('{')).ok, false)
    assert.equal(decodeAdvert(new Uint8Array([0xff, 0xfe])).ok, false)
    const big = enc({ ...good, host: 'x'.repeat(MAX_ADVERT_BYTES) })
    assert.deepEqual(decodeAdvert(big), { ok: false, reason: 'oversize' })
    assert.throws(() =>
      encodeAdvert({ ...good, toolchains: Array.from({ length: 64 }, () => 'y'.repeat(100)) }),
    )
  })
})
