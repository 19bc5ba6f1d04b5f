import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  decodeCertificate,
  issueCertificate,
  MAX_CERT_BYTES,
} from '../../../src/identity/certificate.ts'
import { revoke } from '../../../src/identity/crl.ts'
import { canonicalJson, type CanonicalValue } from '../../../src/identity/encoding.ts'
import { verifyCertificate } from '../../../src/identity/verify-certificate.ts'
import { newOrg, newPeerId, tamperTbs } from './fixtures.ts'

const HOUR = 3600
const T0 = Date.UTC(2026, 0, 1)

async function setup() {
  const org = newOrg('acme')
  const peer = await newPeerId()
  const bytes = issueCertificate(org, {
    peerId: peer,
    name: 'build-01',
    roles: ['client', 'builder'],
    groups: ['ci', 'amd64'],
    ttlSeconds: 24 * HOUR,
    now: T0,
  })
  return {
    org,
    peer,
    bytes,
    opts: { trustedOrgKeys: [org], expectedPeerId: peer, now: T0 + HOUR * 1000 },
  }
}

const encode = (t: Record<string, unknown>) => canonicalJson(t as CanonicalValue)

describe('certificate', () => {
  it('round-trips and verifies', async () => {
    const { peer, bytes, opts } = await setup()
    const r = verifyCertificate(bytes, opts)
    assert.equal(r.ok, true)
    assert.ok(r.ok)
    assert.equal(r.cert.peerId, peer.toString())
    assert.deepEqual(r.cert.roles, ['builder', 'client'])
    assert.deepEqual(r.cert.groups, ['amd64', 'ci'])
    assert.equal(r.cert.name, 'build-01')
    assert.equal(r.cert.org, 'acme')
    assert.equal(r.cert.exp - r.cert.nbf, 24 * HOUR)
    assert.match(r.cert.serial, /^[0-9a-f]{32}$/)
    assert.deepEqual(r.cert.subject, peer.toMultihash().bytes)
    assert.deepEqual(r.cert.bytes, bytes)
    // the peer id string form is accepted too
    assert.equal(verifyCertificate(bytes, { ...opts, expectedPeerId: peer.toString() }).ok, true)
  })

  it('gives every certificate a fresh serial', async () => {
    const { org, peer } = await setup()
    const a = decodeCertificate(
      issueCertificate(org, { peerId: peer, name: 'x', roles: ['client'] }),
    )
    const b = decodeCertificate(
      issueCertificate(org, { peerId: peer, name: 'x', roles: ['client'] }),
    )
    assert.ok(a && b)
    assert.notEqual(a.serial, b.serial)
  })

  it('rejects a tampered TBS (bad-signature)', async () => {
    const { bytes, opts } = await setup()
    const extended = tamperTbs(
      bytes,
      (t) => {
        t['exp'] = (t['exp'] as number) + 365 * 24 * HOUR
      },
      encode,
    )
    assert.notEqual(decodeCertificate(extended), undefined, 'tampered TBS is still well-formed')
    assert.deepEqual(verifyCertificate(extended, opts), { ok: false, reason: 'bad-signature' })
    const promoted = tamperTbs(
      bytes,
      (t) => {
        t['roles'] = ['admin', 'builder', 'client']
      },
      encode,
    )
    assert.deepEqual(verifyCertificate(promoted, opts), { ok: false, reason: 'bad-signature' })
  })

  it('rejects a flipped signature bit (bad-signature)', async () => {
    const { bytes, opts } = await setup()
    const copy = bytes.slice()
    copy[copy.length - 1] = (copy[copy.length - 1] as number) ^ 1
    assert.deepEqual(verifyCertificate(copy, opts), { ok: false, reason: 'bad-signature' })
  })

  it('rejects another organisation (wrong-org)', async () => {
    const { bytes, opts } = await setup()
    const other = newOrg('acme') // same name, other key
    assert.deepEqual(verifyCertificate(bytes, { ...opts, trustedOrgKeys: [other] }), {
      ok: false,
      reason: 'wrong-org',
    })
    assert.deepEqual(verifyCertificate(bytes, { ...opts, trustedOrgKeys: [] }), {
      ok: false,
      reason: 'wrong-org',
    })
  })

  it('rejects a trusted key listed under another org name (wrong-org)', async () => {
    const { org, bytes, opts } = await setup()
    const renamed = { org: 'evil', publicKey: org.publicKey }
    assert.deepEqual(verifyCertificate(bytes, { ...opts, trustedOrgKeys: [renamed] }), {
      ok: false,
      reason: 'wrong-org',
    })
  })

  it('rejects a certificate of another peer (subject-mismatch)', async () => {
    const { bytes, opts } = await setup()
    const other = await newPeerId()
    assert.deepEqual(verifyCertificate(bytes, { ...opts, expectedPeerId: other }), {
      ok: false,
      reason: 'subject-mismatch',
    })
    assert.deepEqual(verifyCertificate(bytes, { ...opts, expectedPeerId: 'not-a-peer-id' }), {
      ok: false,
      reason: 'subject-mismatch',
    })
  })

  it('enforces the validity window with 5 minutes of skew', async () => {
    const { bytes, opts } = await setup()
    const nbf = T0
    const exp = T0 + 24 * HOUR * 1000
    const at = (now: number) => verifyCertificate(bytes, { ...opts, now })
    assert.equal(at(nbf - 299_000).ok, true)
    assert.deepEqual(at(nbf - 301_000), { ok: false, reason: 'not-yet-valid' })
    assert.equal(at(exp + 299_000).ok, true)
    assert.deepEqual(at(exp + 301_000), { ok: false, reason: 'expired' })
  })

  it('rejects revoked serials and subjects of its own org only (revoked)', async () => {
    const { org, peer, bytes, opts } = await setup()
    const cert = decodeCertificate(bytes)
    assert.ok(cert)
    const bySerial = revoke(org, undefined, { serial: cert.serial })
    assert.deepEqual(verifyCertificate(bytes, { ...opts, crl: bySerial }), {
      ok: false,
      reason: 'revoked',
    })
    const bySubject = revoke(org, undefined, { peerId: peer })
    assert.deepEqual(verifyCertificate(bytes, { ...opts, crl: bySubject }), {
      ok: false,
      reason: 'revoked',
    })
    // a fresh certificate for a revoked peer is still refused; another peer is not
    const fresh = issueCertificate(org, { peerId: peer, name: 'again', roles: ['client'], now: T0 })
    assert.deepEqual(verifyCertificate(fresh, { ...opts, crl: bySubject }), {
      ok: false,
      reason: 'revoked',
    })
    const unrelated = revoke(org, undefined, { peerId: await newPeerId() })
    assert.equal(verifyCertificate(bytes, { ...opts, crl: unrelated }).ok, true)
    // a list signed by another org does not apply
    const foreign = revoke(newOrg('other'), undefined, { peerId: peer })
    assert.equal(verifyCertificate(bytes, { ...opts, crl: foreign }).ok, true)
  })

  it('checks the required role (missing-role)', async () => {
    const { bytes, opts } = await setup()
    assert.equal(verifyCertificate(bytes, { ...opts, requiredRole: 'builder' }).ok, true)
    assert.deepEqual(verifyCertificate(bytes, { ...opts, requiredRole: 'admin' }), {
      ok: false,
      reason: 'missing-role',
    })
  })

  it('rejects truncated, oversize and trailing-data encodings (malformed)', async () => {
    const { bytes, opts } = await setup()
    for (const cut of [0, 1, 5, 6, 50, bytes.length - 64, bytes.length - 1]) {
      assert.deepEqual(
        verifyCertificate(bytes.subarray(0, cut), opts),
        { ok: false, reason: 'malformed' },
        `cut ${cut}`,
      )
    }
    const trailing = new Uint8Array(bytes.length + 1)
    trailing.set(bytes)
    assert.deepEqual(verifyCertificate(trailing, opts), { ok: false, reason: 'malformed' })
    const huge = new Uint8Array(MAX_CERT_BYTES + 1)
    huge.set(bytes)
    assert.deepEqual(verifyCertificate(huge, opts), { ok: false, reason: 'malformed' })
    // a well-signed certificate padded over the limit is refused before parsing
    const org = newOrg('acme')
    const peer = await newPeerId()
    const big = issueCertificate(org, {
      peerId: peer,
      name: 'n'.repeat(253),
      roles: ['client'],
      groups: Array.from({ length: 32 }, (_, i) => `g${i}-${'x'.repeat(58)}`),
    })
    assert.ok(big.length < MAX_CERT_BYTES, 'the largest legal certificate fits the limit')
  })

  it('rejects wrong envelope version or kind (malformed)', async () => {
    const { bytes, opts } = await setup()
    const v2 = bytes.slice()
    v2[0] = 2
    assert.deepEqual(verifyCertificate(v2, opts), { ok: false, reason: 'malformed' })
    const crlKind = bytes.slice()
    crlKind[1] = 2
    assert.deepEqual(verifyCertificate(crlKind, opts), { ok: false, reason: 'malformed' })
  })

  it('rejects non-canonical or invalid TBS fields (malformed)', async () => {
    const { bytes, opts } = await setup()
    const cases: Array<
      [string, (t: Record<string, unknown>) => void, ((t: Record<string, unknown>) => Uint8Array)?]
    > = [
      [
        'unknown role',
        (t) => {
          t['roles'] = ['builder', 'root']
        },
      ],
      [
        'unsorted roles',
        (t) => {
          t['roles'] = ['client', 'builder']
        },
      ],
      [
        'duplicate roles',
        (t) => {
          t['roles'] = ['client', 'client']
        },
      ],
      [
        'no roles',
        (t) => {
          t['roles'] = []
        },
      ],
      [
        'extra field',
        (t) => {
          t['isCA'] = true
        },
      ],
      [
        'missing field',
        (t) => {
          delete t['groups']
        },
      ],
      [
        'short serial',
        (t) => {
          t['serial'] = 'abcd'
        },
      ],
      [
        'bad subject',
        (t) => {
          t['subject'] = 'AAAA'
        },
      ],
      [
        'exp before nbf',
        (t) => {
          t['exp'] = (t['nbf'] as number) - 1
        },
      ],
      [
        'float time',
        (t) => {
          t['nbf'] = 1.5
        },
        (t) =>
          new TextEncoder().encode(JSON.stringify(Object.fromEntries(Object.entries(t).sort()))),
      ],
      [
        'control char in name',
        (t) => {
          t['name'] = 'a\u0007b'
        },
      ],
      [
        'bad org name',
        (t) => {
          t['org'] = 'a b'
        },
      ],
      [
        'version 2',
        (t) => {
          t['v'] = 2
        },
      ],
      [
        'whitespace',
        () => {},
        (t) =>
          new TextEncoder().encode(
            JSON.stringify(Object.fromEntries(Object.entries(t).sort()), null, 1),
          ),
      ],
      [
        'unsorted keys',
        () => {},
        (t) =>
          new TextEncoder().encode(JSON.stringify(Object.fromEntries(Object.entries(t).reverse()))),
      ],
      [
        'duplicate key',
        () => {},
        (t) => {
          const s = new TextDecoder().decode(encode(t))
          return new TextEncoder().encode(s.replace('{', '{"exp":1,'))
        },
      ],
    ]
    for (const [label, edit, enc] of cases) {
      const bad = tamperTbs(bytes, edit, enc ?? encode)
      assert.deepEqual(verifyCertificate(bad, opts), { ok: false, reason: 'malformed' }, label)
    }
    // sanity: the helper itself keeps a valid certificate valid when nothing changes
    assert.equal(
      verifyCertificate(
        tamperTbs(bytes, () => {}, encode),
        opts,
      ).ok,
      true,
    )
  })

  it('refuses to issue invalid certificates', async () => {
    const org = newOrg()
    const peer = await newPeerId()
    assert.throws(() => issueCertificate(org, { peerId: peer, name: 'x', roles: [] }), RangeError)
    assert.throws(
      () => issueCertificate(org, { peerId: peer, name: 'x', roles: ['root' as 'admin'] }),
      RangeError,
    )
    assert.throws(
      () => issueCertificate(org, { peerId: peer, name: '', roles: ['client'] }),
      RangeError,
    )
    assert.throws(
      () => issueCertificate(org, { peerId: peer, name: 'x', roles: ['client'], ttlSeconds: 0 }),
      RangeError,
    )
    assert.throws(
      () => issueCertificate(org, { peerId: 'nope', name: 'x', roles: ['client'] }),
      RangeError,
    )
  })
})
