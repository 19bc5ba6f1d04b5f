import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { InvalidInvitationError, InvitationExpiredError } from '../../../src/errors.ts'
import { revoke } from '../../../src/identity/crl.ts'
import { canonicalJson, type CanonicalValue, toBase64Url } from '../../../src/identity/encoding.ts'
import {
  createInvitation,
  decodeSignedInvitation,
  invitationProof,
  parseInvitation,
} from '../../../src/identity/invitation.ts'
import { InvitationLedger, redeemInvitation } from '../../../src/identity/invitation-ledger.ts'
import { identityPaths } from '../../../src/identity/paths.ts'
import { verifyCertificate } from '../../../src/identity/verify-certificate.ts'
import { newOrg, newPeerId, tamperTbs, tempHome } from './fixtures.ts'

const T0 = Date.UTC(2026, 0, 1)
const encode = (t: Record<string, unknown>) => canonicalJson(t as CanonicalValue)

describe('invitation token', () => {
  it('round-trips through the printed token', async () => {
    const org = newOrg('acme')
    const inviter = await newPeerId()
    const { token, invitation } = createInvitation(org, {
      ttlSeconds: 3600,
      maxUses: 3,
      roles: ['builder', 'client'],
      groups: ['ci'],
      inviterPeerId: inviter.toString(),
      addrs: ['/ip4/127.0.0.1/tcp/4001'],
      now: T0,
    })
    assert.match(token, /^[A-Za-z0-9_-]+$/, 'one base64url word, safe to capture in scripts')
    const parsed = parseInvitation(`  ${token}\n`, { now: T0 + 1000 })
    assert.equal(parsed.id, invitation.id)
    assert.equal(parsed.orgKey.org, 'acme')
    assert.deepEqual(parsed.orgKey.publicKey, org.publicKey)
    assert.equal(parsed.inviterPeerId, inviter.toString())
    assert.deepEqual(parsed.addrs, ['/ip4/127.0.0.1/tcp/4001'])
    assert.equal(parsed.maxUses, 3)
    assert.equal(parsed.exp, T0 / 1000 + 3600)
    assert.deepEqual(parsed.roles, ['builder', 'client'])
    assert.deepEqual(parsed.groups, ['ci'])
    assert.deepEqual(parsed.secret, invitation.secret)
    assert.equal(parsed.secret.length, 32)
  })

  it('leaves the inviter out when it is not known', () => {
    const { token } = createInvitation(newOrg(), { ttlSeconds: 60, maxUses: 1 })
    const parsed = parseInvitation(token)
    assert.equal(parsed.inviterPeerId, undefined)
    assert.deepEqual(parsed.addrs, [])
    assert.deepEqual(parsed.roles, ['builder', 'client'], 'default roles')
  })

  it('rejects tampered, truncated and garbage tokens', () => {
    const org = newOrg()
    const { token, invitation } = createInvitation(org, {
      ttlSeconds: 60,
      maxUses: 1,
      roles: ['client'],
    })
    const promoted = tamperTbs(
      invitation.signed,
      (t) => {
        t['roles'] = ['admin', 'client']
      },
      encode,
    )
    assert.equal(decodeSignedInvitation(promoted), undefined)
    const forged = toBase64Url(Buffer.concat([promoted, invitation.secret]))
    assert.throws(() => parseInvitation(forged), InvalidInvitationError)
    assert.throws(() => parseInvitation(token.slice(0, 40)), InvalidInvitationError)
    assert.throws(() => parseInvitation(token.slice(0, -1)), InvalidInvitationError)
    assert.throws(() => parseInvitation('not a token!'), InvalidInvitationError)
    assert.throws(() => parseInvitation(''), InvalidInvitationError)
    assert.throws(() => parseInvitation('A'.repeat(100_000)), InvalidInvitationError)
  })

  it('expires (with 5 minutes of skew for the joiner)', () => {
    const { token } = createInvitation(newOrg(), { ttlSeconds: 600, maxUses: 1, now: T0 })
    assert.ok(parseInvitation(token, { now: T0 + 600_000 + 299_000 }))
    assert.throws(
      () => parseInvitation(token, { now: T0 + 600_000 + 301_000 }),
      InvitationExpiredError,
    )
  })

  it('validates creation options', () => {
    const org = newOrg()
    assert.throws(() => createInvitation(org, { ttlSeconds: 0, maxUses: 1 }), RangeError)
    assert.throws(() => createInvitation(org, { ttlSeconds: 8 * 86400, maxUses: 1 }), RangeError)
    assert.throws(() => createInvitation(org, { ttlSeconds: 60, maxUses: 0 }), RangeError)
    assert.throws(
      () => createInvitation(org, { ttlSeconds: 60, maxUses: 1, roles: [] }),
      RangeError,
    )
    assert.throws(
      () => createInvitation(org, { ttlSeconds: 60, maxUses: 1, addrs: ['not an addr'] }),
      RangeError,
    )
    assert.throws(
      () => createInvitation(org, { ttlSeconds: 60, maxUses: 1, inviterPeerId: 'x' }),
      RangeError,
    )
  })
})

describe('redeemInvitation', () => {
  async function setup(maxUses = 1, ttlSeconds = 3600) {
    const org = newOrg('acme')
    const { token } = createInvitation(org, {
      ttlSeconds,
      maxUses,
      roles: ['client', 'builder'],
      groups: ['ci'],
      now: T0,
    })
    const inv = parseInvitation(token, { now: T0 })
    return { org, inv, ledger: await InvitationLedger.open() }
  }

  it('issues a certificate for the proving peer with the invited roles', async () => {
    const { org, inv, ledger } = await setup()
    const joiner = await newPeerId()
    const r = await redeemInvitation(ledger, inv.signed, invitationProof(inv, joiner), joiner, {
      org,
      name: 'laptop',
      now: T0 + 1000,
    })
    assert.ok(r.ok)
    assert.equal(r.usesLeft, 0)
    const v = verifyCertificate(r.certificate, {
      trustedOrgKeys: [inv.orgKey],
      expectedPeerId: joiner,
      now: T0 + 2000,
    })
    assert.ok(v.ok)
    assert.deepEqual(v.cert.roles, ['builder', 'client'])
    assert.deepEqual(v.cert.groups, ['ci'])
    assert.equal(v.cert.name, 'laptop')
  })

  it('enforces the use limit, also under concurrent redemption', async () => {
    const { org, inv, ledger } = await setup(2)
    const joiners = await Promise.all([newPeerId(), newPeerId(), newPeerId(), newPeerId()])
    const results = await Promise.all(
      joiners.map((p) =>
        redeemInvitation(ledger, inv.signed, invitationProof(inv, p), p, {
          org,
          name: 'n',
          now: T0,
        }),
      ),
    )
    assert.equal(results.filter((r) => r.ok).length, 2)
    assert.deepEqual(
      results.filter((r) => !r.ok),
      [
        { ok: false, reason: 'used-up' },
        { ok: false, reason: 'used-up' },
      ],
    )
    assert.equal(ledger.uses(inv.id), 2)
  })

  it('persists use counts across restarts', async (t) => {
    const paths = identityPaths(await tempHome(t))
    const { org, inv } = await setup(1)
    const p1 = await newPeerId()
    const first = await InvitationLedger.open(paths.invitations)
    assert.ok(
      (
        await redeemInvitation(first, inv.signed, invitationProof(inv, p1), p1, {
          org,
          name: 'a',
          now: T0,
        })
      ).ok,
    )
    const reopened = await InvitationLedger.open(paths.invitations)
    assert.equal(reopened.uses(inv.id), 1)
    const p2 = await newPeerId()
    assert.deepEqual(
      await redeemInvitation(reopened, inv.signed, invitationProof(inv, p2), p2, {
        org,
        name: 'b',
        now: T0,
      }),
      { ok: false, reason: 'used-up' },
    )
  })

  it('refuses expired invitations without burning a use', async () => {
    const { org, inv, ledger } = await setup(1, 600)
    const p = await newPeerId()
    const late = await redeemInvitation(ledger, inv.signed, invitationProof(inv, p), p, {
      org,
      name: 'n',
      now: T0 + 601_000,
    })
    assert.deepEqual(late, { ok: false, reason: 'expired' })
    assert.equal(ledger.uses(inv.id), 0)
  })

  it('refuses a proof made for another peer id or without the secret', async () => {
    const { org, inv, ledger } = await setup()
    const joiner = await newPeerId()
    const thief = await newPeerId()
    const stolen = invitationProof(inv, joiner)
    assert.deepEqual(
      await redeemInvitation(ledger, inv.signed, stolen, thief, { org, name: 'n', now: T0 }),
      { ok: false, reason: 'bad-proof' },
    )
    const guessed = invitationProof({ id: inv.id, secret: new Uint8Array(32) }, joiner)
    assert.deepEqual(
      await redeemInvitation(ledger, inv.signed, guessed, joiner, { org, name: 'n', now: T0 }),
      { ok: false, reason: 'bad-proof' },
    )
    assert.deepEqual(
      await redeemInvitation(ledger, inv.signed, new Uint8Array(0), joiner, {
        org,
        name: 'n',
        now: T0,
      }),
      { ok: false, reason: 'bad-proof' },
    )
    assert.equal(ledger.uses(inv.id), 0, 'failed attempts do not use the invitation up')
  })

  it('refuses invitations of another organisation and tampered ones', async () => {
    const { inv, ledger } = await setup()
    const other = newOrg('acme')
    const joiner = await newPeerId()
    assert.deepEqual(
      await redeemInvitation(ledger, inv.signed, invitationProof(inv, joiner), joiner, {
        org: other,
        name: 'n',
        now: T0,
      }),
      { ok: false, reason: 'wrong-org' },
    )
    const { org } = await setup()
    const tampered = tamperTbs(
      inv.signed,
      (t) => {
        t['maxUses'] = 1000
      },
      encode,
    )
    assert.deepEqual(
      await redeemInvitation(ledger, tampered, invitationProof(inv, joiner), joiner, {
        org,
        name: 'n',
        now: T0,
      }),
      { ok: false, reason: 'malformed' },
    )
  })

  it('refuses a revoked peer', async () => {
    const { org, inv, ledger } = await setup()
    const joiner = await newPeerId()
    const crl = revoke(org, undefined, { peerId: joiner })
    assert.deepEqual(
      await redeemInvitation(ledger, inv.signed, invitationProof(inv, joiner), joiner, {
        org,
        name: 'n',
        now: T0,
        crl,
      }),
      { ok: false, reason: 'revoked' },
    )
  })

  it('refuses an invalid host label', async () => {
    const { org, inv, ledger } = await setup()
    const joiner = await newPeerId()
    assert.deepEqual(
      await redeemInvitation(ledger, inv.signed, invitationProof(inv, joiner), joiner, {
        org,
        name: '',
        now: T0,
      }),
      { ok: false, reason: 'malformed' },
    )
  })
})
