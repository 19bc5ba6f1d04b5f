/**
 * `/meshcc/renew/1.0.0` between in-process members on the libp2p memory transport: the key
 * holder's handler behind `requireMember` and the member's `requestRenewal`. A member past two
 * thirds of its lifetime gets a fresh certificate; a fresh one is refused as too early; a
 * certificate for another peer is refused (the requester must be the subject); a member the
 * key holder's revocation list names is refused for good; an unparseable request is answered
 * as malformed; a member whose admins serve no renewal learns that no key holder is reachable; a peer that
 * is no admitted member is served nothing.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { requestOnce } from '../../src/enroll/frame.ts'
import { decodeCertificate, issueCertificate } from '../../src/identity/certificate.ts'
import { type RevocationList, revoke } from '../../src/identity/crl.ts'
import type { NodeIdentity } from '../../src/identity/node-identity.ts'
import type { Role } from '../../src/identity/types.ts'
import { createMeshNode } from '../../src/mesh/create-node.ts'
import { identityCredentials } from '../../src/mesh/identity-credentials.ts'
import { requireMember } from '../../src/mesh/require-member.ts'
import { requestRenewal } from '../../src/renewal/client.ts'
import { renewalHandler } from '../../src/renewal/serve.ts'
import { decodeRenewReply, encodeRenewRequest, RENEW_PROTOCOL } from '../../src/renewal/wire.ts'
import {
  memberCredentials,
  startMemoryNode,
  stopNode,
  type TestNode,
  testOrg,
  waitFor,
} from '../helpers/mesh.ts'

const org = testOrg('acme')
const anchor = { org: org.org, publicKey: org.publicKey }

function identityFor(
  key: PrivateKey,
  o: { ttlSeconds: number; ageMs: number; roles?: Role[]; for?: PrivateKey },
): NodeIdentity {
  const certificate = issueCertificate(org, {
    peerId: peerIdFromPrivateKey(o.for ?? key),
    name: 'member',
    roles: o.roles ?? ['builder', 'client'],
    groups: ['g1'],
    ttlSeconds: o.ttlSeconds,
    now: Date.now() - o.ageMs,
  })
  const cert = decodeCertificate(certificate)
  assert.ok(cert)
  return { certificate, cert, trustAnchor: anchor }
}

describe('renewal over the memory transport', () => {
  let admin: TestNode
  let member: TestNode
  let bystander: TestNode
  let memberKey: PrivateKey
  let crl: RevocationList | undefined
  const results: Array<{ peer: string; ok: boolean; reason?: string }> = []
  // The member's certificate is 40 of 60 s old: due for renewal, admitted everywhere.
  let memberIdentity: NodeIdentity

  before(async () => {
    const adminKey = await generateKeyPair('Ed25519')
    const adminId = identityFor(adminKey, {
      ttlSeconds: 3600,
      ageMs: 0,
      roles: ['admin', 'builder', 'client'],
    })
    const creds = (id: () => NodeIdentity) =>
      identityCredentials({ identity: id, trustedOrgKeys: () => [anchor] })
    admin = await startMemoryNode(org, { key: adminKey, credentials: () => creds(() => adminId) })
    await admin.mesh.node.handle(
      RENEW_PROTOCOL,
      requireMember(
        admin.mesh.admission,
        renewalHandler({
          org,
          crl: async () => crl,
          certTtlSeconds: 600,
          onResult: (peer, r) => results.push({ peer, ...r }),
        }),
      ),
    )
    memberKey = await generateKeyPair('Ed25519')
    memberIdentity = identityFor(memberKey, { ttlSeconds: 60, ageMs: 40_000 })
    member = await startMemoryNode(org, {
      key: memberKey,
      credentials: () => creds(() => memberIdentity),
      bootstrap: admin.mesh.addrs(),
    })
    const bystanderKey = await generateKeyPair('Ed25519')
    bystander = await startMemoryNode(org, {
      key: bystanderKey,
      credentials: (k) => memberCredentials(org, k, { roles: ['admin', 'client'] }),
      bootstrap: admin.mesh.addrs(),
    })
    await waitFor(() => admin.mesh.admission.isMember(member.mesh.peerId), {
      what: 'member admitted',
    })
    await waitFor(() => admin.mesh.admission.isMember(bystander.mesh.peerId), {
      what: 'bystander admitted',
    })
  })

  after(async () => {
    await Promise.all([admin, member, bystander].filter(Boolean).map(stopNode))
  })

  const renew = (identity: NodeIdentity) =>
    requestRenewal({ mesh: member.mesh, identity: () => identity })

  it('renews a certificate two thirds through its lifetime, keeping name, roles and groups', async () => {
    const r = await renew(memberIdentity)
    assert.ok(r.ok, JSON.stringify(r))
    assert.equal(r.by, admin.mesh.peerId.toString())
    assert.equal(r.cert.peerId, member.mesh.peerId.toString())
    assert.ok(r.cert.exp > memberIdentity.cert.exp)
    assert.equal(r.cert.exp - r.cert.nbf, 600)
    assert.deepEqual(r.cert.roles, memberIdentity.cert.roles)
    assert.deepEqual(r.cert.groups, ['g1'])
    assert.notEqual(r.cert.serial, memberIdentity.cert.serial)
  })

  it('refuses a certificate less than half through its lifetime as too early', async () => {
    const fresh = identityFor(memberKey, { ttlSeconds: 60, ageMs: 5_000 })
    const r = await renew(fresh)
    assert.equal(r.ok, false)
    assert.equal(r.reason, 'too-early')
    assert.equal(r.terminal, false)
  })

  it("refuses another peer's certificate: the requester must be its subject", async () => {
    const bystanderKey = await generateKeyPair('Ed25519')
    const other = identityFor(memberKey, { ttlSeconds: 60, ageMs: 40_000, for: bystanderKey })
    const r = await renew(other)
    assert.equal(r.ok, false)
    assert.equal(r.reason, 'subject-mismatch')
    assert.equal(r.terminal, true)
  })

  it('refuses a member its revocation list names, for good', async () => {
    crl = revoke(org, undefined, { serial: memberIdentity.cert.serial })
    try {
      const r = await renew(memberIdentity)
      assert.equal(r.ok, false)
      assert.equal(r.reason, 'revoked')
      assert.equal(r.terminal, true)
      const last = results.at(-1)
      assert.deepEqual(
        [last?.peer, last?.ok, last?.reason],
        [member.mesh.peerId.toString(), false, 'revoked'],
      )
    } finally {
      crl = undefined
    }
  })

  it('answers an unreadable request as malformed', async () => {
    const conn = member.mesh.node.getConnections(admin.mesh.peerId).find((c) => c.status === 'open')
    assert.ok(conn)
    const reply = await requestOnce(conn, RENEW_PROTOCOL, new TextEncoder().encode('{"v":1}'), {
      maxReplyBytes: 1024,
      timeoutMs: 5_000,
    })
    assert.deepEqual(decodeRenewReply(reply), { ok: false, reason: 'malformed' })
  })

  it('reports no key holder reachable when admins connected serve no renewal', async () => {
    // Seen from the key holder's node, whose members do not hold the key: the bystander's
    // certificate carries the admin role, so it is asked, and cannot answer.
    const id = identityFor(memberKey, { ttlSeconds: 60, ageMs: 40_000, for: admin.key })
    const r = await requestRenewal({ mesh: admin.mesh, identity: () => id })
    assert.equal(r.ok, false)
    assert.equal(r.reason, 'no-admin-reachable')
    assert.equal(r.terminal, false)
    // (libp2p also lists the member, which opened the protocol to the admin earlier.)
    assert.ok(r.tried.some((t) => t.peer === bystander.mesh.peerId.toString()))
    for (const t of r.tried) assert.match(t.result, /UnsupportedProtocol|could not negotiate/)
  })

  it('serves no renewal to a peer that is not an admitted member', async () => {
    const key = await generateKeyPair('Ed25519')
    const node = await createMeshNode({ privateKey: key, gater: {}, transport: 'memory' })
    await node.start()
    try {
      // It even presents a certificate for itself, but never passes admission.
      const own = identityFor(key, { ttlSeconds: 60, ageMs: 40_000 })
      const stream = await node.dialProtocol(multiaddr(admin.mesh.addrs()[0]!), RENEW_PROTOCOL, {
        signal: AbortSignal.timeout(8_000),
      })
      const lp = lpStream(stream, { maxDataLength: 64 * 1024 })
      await lp.write(encodeRenewRequest({ certificate: own.certificate }))
      await assert.rejects(lp.read({ signal: AbortSignal.timeout(8_000) }))
      assert.ok(!results.some((r) => r.peer === peerIdFromPrivateKey(key).toString()))
    } finally {
      await node.stop()
    }
  })
})
