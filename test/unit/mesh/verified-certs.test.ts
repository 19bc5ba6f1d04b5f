import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { issueCertificate } from '../../../src/identity/certificate.ts'
import { revoke } from '../../../src/identity/crl.ts'
import type { RevocationList } from '../../../src/identity/crl.ts'
import { orgFromSecretKey } from '../../../src/identity/org-key.ts'
import { identityCredentials } from '../../../src/mesh/identity-credentials.ts'
import type { MemberCertificate } from '../../../src/mesh/types.ts'
import { VerifiedCerts } from '../../../src/mesh/verified-certs.ts'

async function setup() {
  const org = orgFromSecretKey('acme', new Uint8Array(randomBytes(32)))
  const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const other = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const now = Date.now()
  const bytes = issueCertificate(org, { peerId: peer, name: 'n', roles: ['builder'], now })
  const memo = new VerifiedCerts<MemberCertificate>()
  let crl: RevocationList | undefined
  const credentials = identityCredentials({
    identity: () => {
      throw new Error('unused')
    },
    trustedOrgKeys: () => [{ org: org.org, publicKey: org.publicKey }],
    crl: () => crl,
    verified: memo,
  })
  return {
    org,
    peer,
    other,
    now,
    bytes,
    memo,
    credentials,
    setCrl: (c: RevocationList) => {
      crl = c
    },
  }
}

describe('verified certificate memo', () => {
  it('checks a certificate once, then answers from the memo with the same verdict', async () => {
    const { credentials, bytes, peer, now, memo } = await setup()
    const first = await credentials.verify(bytes, peer, now)
    assert.ok(first.ok)
    assert.equal(memo.misses, 1)
    const second = await credentials.verify(new Uint8Array(bytes), peer, now + 60_000)
    assert.deepEqual(second, first)
    assert.equal(memo.hits, 1)
    assert.equal(memo.misses, 1)
  })

  it('never answers for another peer, other bytes, or outside the validity window', async () => {
    const { credentials, bytes, peer, other, now, memo } = await setup()
    assert.ok((await credentials.verify(bytes, peer, now)).ok)
    // The same certificate presented by another peer: checked in full, and refused.
    assert.deepEqual(await credentials.verify(bytes, other, now), {
      ok: false,
      reason: 'subject-mismatch',
    })
    const tampered = new Uint8Array(bytes)
    tampered[tampered.length - 5] = (tampered[tampered.length - 5] ?? 0) ^ 1
    assert.equal((await credentials.verify(tampered, peer, now)).ok, false)
    // Failures are not remembered (outsiders cannot fill it).
    assert.equal(memo.size, 1)
    // 14 days + 5 min of skew later the certificate has expired: the memo does not hide it.
    const later = now + (14 * 24 * 3600 + 301) * 1000
    assert.deepEqual(await credentials.verify(bytes, peer, later), { ok: false, reason: 'expired' })
    assert.equal(memo.hits, 0)
    // …and the verdict that no longer holds is dropped.
    assert.equal(memo.size, 0)
  })

  it('checks again under a new revocation list, and refuses a revoked certificate', async () => {
    const { credentials, bytes, peer, now, org, setCrl, memo } = await setup()
    assert.ok((await credentials.verify(bytes, peer, now)).ok)
    setCrl(revoke(org, undefined, { peerId: peer.toString() }))
    assert.deepEqual(await credentials.verify(bytes, peer, now), { ok: false, reason: 'revoked' })
    assert.equal(memo.hits, 0)
    assert.equal(memo.misses, 2)
  })

  it('bounds its size', () => {
    const memo = new VerifiedCerts<number>({ maxEntries: 2 })
    const ctx = { peerId: 'p', trust: 't', crl: '' }
    let calls = 0
    const ok = () => {
      calls++
      return { ok: true as const, value: 1, from: 0, until: 10 }
    }
    for (const b of [1, 2, 3]) memo.get(new Uint8Array([b]), ctx, 5, ok)
    assert.ok(memo.size <= 2)
    assert.equal(calls, 3)
    memo.get(new Uint8Array([3]), ctx, 5, ok)
    assert.equal(calls, 3)
    // Outside the window: checked again.
    memo.get(new Uint8Array([3]), ctx, 11, ok)
    assert.equal(calls, 4)
  })
})
