/**
 * `meshcc doctor`'s certificate checks on a crafted home: days to expiry, a warning when the
 * certificate expires soon and no key holder renewed it, failures for expired and revoked
 * certificates, and the key holder renewing its own.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { checkIdentity } from '../../../src/cli/doctor-certificate.ts'
import { issueCertificate } from '../../../src/identity/certificate.ts'
import { revoke } from '../../../src/identity/crl.ts'
import { saveCrl } from '../../../src/identity/crl-store.ts'
import { ensurePersonalOrg, saveNodeIdentity } from '../../../src/identity/node-identity.ts'
import { identityPaths } from '../../../src/identity/paths.ts'
import { loadOrCreatePeerKey } from '../../../src/mesh/node-key.ts'
import { EMPTY_RENEWAL_STATE, writeRenewalState } from '../../../src/renewal/state.ts'
import { testOrg } from '../../helpers/mesh.ts'

const DAY = 86_400_000
const org = testOrg('acme')
const dirs: string[] = []
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))))

/** A member home whose 14-day certificate was issued `ageDays` ago. */
async function member(ageDays: number) {
  const home = await mkdtemp(join(tmpdir(), 'meshcc-doc-'))
  dirs.push(home)
  const ids = identityPaths(home)
  const peerId = peerIdFromPrivateKey(await loadOrCreatePeerKey(ids.peerKey))
  const issuedAt = Date.now() - ageDays * DAY
  const certificate = issueCertificate(org, {
    peerId,
    name: 'm',
    roles: ['builder', 'client'],
    now: issuedAt,
  })
  await saveNodeIdentity(ids, {
    certificate,
    trustAnchor: { org: org.org, publicKey: org.publicKey },
  })
  return { home, ids, peerId }
}

const find = (checks: Awaited<ReturnType<typeof checkIdentity>>, name: string) =>
  checks.find((c) => c.name === name)

describe('doctor certificate checks', () => {
  it('a fresh certificate is ok, with the days left', async () => {
    const { home } = await member(1)
    const checks = await checkIdentity(home)
    assert.equal(find(checks, 'certificate')?.status, 'ok')
    assert.match(find(checks, 'certificate')?.detail ?? '', /\(13\.0 days left\)/)
    assert.match(find(checks, 'organisation')?.detail ?? '', /^acme; this node is a member/)
    assert.equal(find(checks, 'renewal')?.status, 'ok')
  })

  it('warns when it expires within 3 days and no key holder renewed it', async () => {
    const { home } = await member(12)
    await writeRenewalState(home, {
      ...EMPTY_RENEWAL_STATE,
      lastAttemptAt: Date.now() - 60_000,
      failures: 7,
      lastError: 'no-admin-reachable',
      nextAttemptAt: Date.now() + 60_000,
    })
    const checks = await checkIdentity(home)
    const cert = find(checks, 'certificate')
    assert.equal(cert?.status, 'warn')
    assert.match(
      cert?.detail ?? '',
      /2\.0 days left.*no key holder renewed it \(no-admin-reachable\)/,
    )
    assert.ok(cert?.hint)
    assert.equal(find(checks, 'renewal')?.status, 'warn')
    assert.match(find(checks, 'renewal')?.detail ?? '', /^7 attempts failed \(no-admin-reachable\)/)
  })

  it('does not warn 4 days ahead of expiry, even with renewal failing', async () => {
    const far = await member(10)
    await writeRenewalState(far.home, { ...EMPTY_RENEWAL_STATE, failures: 2, lastAttemptAt: 1 })
    assert.equal(find(await checkIdentity(far.home), 'certificate')?.status, 'ok')
  })

  it('fails for an expired certificate and for a revoked one', async () => {
    const expired = await member(15)
    const e = find(await checkIdentity(expired.home), 'certificate')
    assert.equal(e?.status, 'fail')
    assert.match(e?.detail ?? '', /is expired/)
    const revoked = await member(1)
    await saveCrl(revoked.ids, revoke(org, undefined, { peerId: revoked.peerId }), [org])
    const r = find(await checkIdentity(revoked.home), 'certificate')
    assert.equal(r?.status, 'fail')
    assert.match(r?.detail ?? '', /revoked/)
  })

  it('a refused renewal fails the renewal check', async () => {
    const { home } = await member(10)
    await writeRenewalState(home, {
      ...EMPTY_RENEWAL_STATE,
      lastAttemptAt: Date.now(),
      failures: 1,
      lastError: 'revoked',
      terminal: true,
    })
    assert.equal(find(await checkIdentity(home), 'renewal')?.status, 'fail')
  })

  it('the key holder renews its own certificate; no certificate at all fails', async () => {
    const home = await mkdtemp(join(tmpdir(), 'meshcc-doc-'))
    dirs.push(home)
    const ids = identityPaths(home)
    const none = await checkIdentity(home)
    assert.equal(find(none, 'certificate')?.status, 'fail')
    assert.ok(find(none, 'certificate')?.hint)
    const peerId = peerIdFromPrivateKey(await loadOrCreatePeerKey(ids.peerKey))
    await ensurePersonalOrg(ids, peerId, { orgName: 'mine' })
    const checks = await checkIdentity(home)
    assert.equal(find(checks, 'certificate')?.status, 'ok')
    assert.match(
      find(checks, 'organisation')?.detail ?? '',
      /^mine; this node holds the organisation key/,
    )
    assert.match(find(checks, 'renewal')?.detail ?? '', /renews its own/)
  })
})
