import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { describe, it } from 'node:test'
import { CertificateRejectedError } from '../../../src/errors.ts'
import { issueCertificate } from '../../../src/identity/certificate.ts'
import {
  ensurePersonalOrg,
  loadNodeIdentity,
  personalOrgName,
  saveNodeIdentity,
} from '../../../src/identity/node-identity.ts'
import { createOrg, formatOrgKey, loadOrg } from '../../../src/identity/org-key.ts'
import { identityPaths } from '../../../src/identity/paths.ts'
import { verifyCertificate } from '../../../src/identity/verify-certificate.ts'
import { newOrg, newPeerId, tempHome } from './fixtures.ts'

const DAY = 86_400_000

describe('node identity', () => {
  it('a first join creates a personal organisation and an admin certificate', async (t) => {
    const paths = identityPaths(await tempHome(t))
    const peer = await newPeerId()
    const first = await ensurePersonalOrg(paths, peer, { name: 'laptop' })
    assert.equal(first.created, 'org')
    assert.ok(first.org)
    assert.match(first.org.org, /^personal-/)
    assert.deepEqual(first.identity.cert.roles, ['admin', 'builder', 'client'])
    assert.equal(first.identity.cert.peerId, peer.toString())
    assert.equal((await readFile(paths.trustAnchor, 'utf8')).trim(), first.org.orgId)
    const v = verifyCertificate(await readFile(paths.nodeCert), {
      trustedOrgKeys: [first.identity.trustAnchor],
      expectedPeerId: peer,
    })
    assert.ok(v.ok)
    const again = await ensurePersonalOrg(paths, peer)
    assert.equal(again.created, false)
    assert.equal(again.identity.cert.serial, first.identity.cert.serial)
    assert.equal((await loadOrg(paths)).orgId, first.org.orgId, 'no second organisation')
  })

  it('after `org init` the node certificate comes from that organisation', async (t) => {
    const paths = identityPaths(await tempHome(t))
    const org = await createOrg('acme', paths)
    const peer = await newPeerId()
    const r = await ensurePersonalOrg(paths, peer)
    assert.equal(r.created, 'certificate')
    assert.equal(r.identity.cert.org, 'acme')
    assert.deepEqual(r.identity.trustAnchor.publicKey, org.publicKey)
  })

  it('keeps a certificate from an invitation and creates no organisation', async (t) => {
    const paths = identityPaths(await tempHome(t))
    const remoteOrg = newOrg('acme')
    const peer = await newPeerId()
    const certificate = issueCertificate(remoteOrg, { peerId: peer, name: 'n', roles: ['client'] })
    await saveNodeIdentity(paths, { certificate, trustAnchor: remoteOrg })
    const r = await ensurePersonalOrg(paths, peer)
    assert.equal(r.created, false)
    assert.equal(r.org, undefined)
    assert.equal(r.identity.cert.org, 'acme')
    // expired and not ours to renew: the node must be invited again
    await assert.rejects(
      ensurePersonalOrg(paths, peer, { now: Date.now() + 30 * DAY }),
      CertificateRejectedError,
    )
  })

  it('renews its own certificate at two thirds of its lifetime and when expired', async (t) => {
    const paths = identityPaths(await tempHome(t))
    const peer = await newPeerId()
    const now = Date.now()
    const first = await ensurePersonalOrg(paths, peer, { certTtlSeconds: 3 * 86400, now })
    assert.equal((await ensurePersonalOrg(paths, peer, { now: now + 1 * DAY })).created, false)
    const renewed = await ensurePersonalOrg(paths, peer, { now: now + 2.1 * DAY })
    assert.equal(renewed.created, 'renewed')
    assert.notEqual(renewed.identity.cert.serial, first.identity.cert.serial)
    const late = await ensurePersonalOrg(paths, peer, { now: now + 60 * DAY })
    assert.equal(late.created, 'renewed')
    assert.ok(await loadNodeIdentity(paths, peer, { now: now + 60 * DAY }))
  })

  it('reissues for a new peer key when it holds the org key', async (t) => {
    const paths = identityPaths(await tempHome(t))
    await ensurePersonalOrg(paths, await newPeerId())
    const newPeer = await newPeerId()
    const r = await ensurePersonalOrg(paths, newPeer)
    assert.equal(r.created, 'renewed')
    assert.equal(r.identity.cert.peerId, newPeer.toString())
  })

  it('rejects a node certificate signed by a key other than the anchor', async (t) => {
    const paths = identityPaths(await tempHome(t))
    const peer = await newPeerId()
    const org = newOrg('acme')
    await saveNodeIdentity(paths, {
      certificate: issueCertificate(newOrg('acme'), { peerId: peer, name: 'n', roles: ['client'] }),
      trustAnchor: org,
    })
    await assert.rejects(loadNodeIdentity(paths, peer), (err: unknown) => {
      assert.ok(err instanceof CertificateRejectedError)
      assert.equal((err as CertificateRejectedError & { reason: string }).reason, 'wrong-org')
      return true
    })
    await writeFile(paths.trustAnchor, `${formatOrgKey(org)}\n`)
  })

  it('derives valid personal org names from any host name', () => {
    assert.equal(personalOrgName('Build-Box.local'), 'personal-build-box.local')
    assert.equal(personalOrgName(''), 'personal-node')
    assert.equal(personalOrgName('...ünï cödé!!'), 'personal-n-c-d-')
    assert.ok(personalOrgName('x'.repeat(300)).length <= 64)
  })
})

describe('renewCertificate', () => {
  it('reissues a valid certificate with the same roles and refuses invalid ones', async () => {
    const { renewCertificate } = await import('../../../src/identity/renew.ts')
    const { revoke } = await import('../../../src/identity/crl.ts')
    const org = newOrg('acme')
    const peer = await newPeerId()
    const now = Date.now()
    const current = issueCertificate(org, {
      peerId: peer,
      name: 'ci-7',
      roles: ['builder'],
      groups: ['ci'],
      ttlSeconds: 3 * 86400,
      now,
    })
    const r = renewCertificate(org, current, peer, { now: now + 2.5 * DAY })
    assert.ok(r.ok)
    const v = verifyCertificate(r.certificate, {
      trustedOrgKeys: [org],
      expectedPeerId: peer,
      now: now + 10 * DAY,
    })
    assert.ok(v.ok, 'the renewed certificate outlives the old one')
    assert.deepEqual([v.cert.name, v.cert.roles, v.cert.groups], ['ci-7', ['builder'], ['ci']])
    assert.deepEqual(renewCertificate(org, current, peer, { now: now + 4 * DAY }), {
      ok: false,
      reason: 'expired',
    })
    assert.deepEqual(renewCertificate(org, current, await newPeerId(), { now }), {
      ok: false,
      reason: 'subject-mismatch',
    })
    assert.deepEqual(renewCertificate(newOrg('acme'), current, peer, { now }), {
      ok: false,
      reason: 'wrong-org',
    })
    const crl = revoke(org, undefined, { peerId: peer })
    assert.deepEqual(renewCertificate(org, current, peer, { now, crl }), {
      ok: false,
      reason: 'revoked',
    })
  })
})
