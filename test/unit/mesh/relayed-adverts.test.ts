import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Message, TopicValidatorFn } from '@libp2p/gossipsub'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { issueCertificate } from '../../../src/identity/certificate.ts'
import { orgFromSecretKey } from '../../../src/identity/org-key.ts'
import { decodeAdvert, encodeAdvert, MAX_ADVERT_BYTES } from '../../../src/mesh/advert-codec.ts'
import { ADVERT_TOPIC, Adverts } from '../../../src/mesh/adverts.ts'
import { AuthorCerts } from '../../../src/mesh/author-certs.ts'
import type { MeshNode } from '../../../src/mesh/create-node.ts'
import { identityCredentials } from '../../../src/mesh/identity-credentials.ts'
import type { Advert } from '../../../src/mesh/types.ts'
import { sampleAdvertFields } from '../../helpers/fake-advert-node.ts'

const fields = sampleAdvertFields({ toolchains: ['gcc-12-x86_64-linux-gnu'] })

async function peer() {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

async function setup() {
  const org = orgFromSecretKey('acme', new Uint8Array(randomBytes(32)))
  const other = orgFromSecretKey('evil', new Uint8Array(randomBytes(32)))
  const [relay, author, outsider] = [await peer(), await peer(), await peer()]
  const cert = (p: PeerId, o = org) =>
    issueCertificate(o, { peerId: p, name: 'n', roles: ['builder'] })
  let revoked = false
  let verifications = 0
  const credentials = identityCredentials({
    identity: () => {
      throw new Error('unused')
    },
    trustedOrgKeys: () => [{ org: org.org, publicKey: org.publicKey }],
  })
  const now = { t: Date.now() }
  const certs = new AuthorCerts({
    verify: (bytes, p, at) => {
      verifications++
      if (revoked) return { ok: false, reason: 'revoked' }
      return credentials.verify(bytes, p, at)
    },
    now: () => now.t,
  })
  const validators = new Map<string, TopicValidatorFn>()
  const node = {
    getMultiaddrs: () => [],
    services: { pubsub: { topicValidators: validators } },
  } as unknown as MeshNode
  const rejected: string[] = []
  const adverts = new Adverts({
    node,
    source: () => fields,
    isMember: (p) => p.toString() === relay.toString(),
    version: '1',
    certExpiry: () => 1,
    now: () => now.t,
    checkAuthor: (p, bytes) => certs.check(p, bytes),
    onRejected: (_from, reason) => rejected.push(reason),
  })
  adverts.start()
  const validate = validators.get(ADVERT_TOPIC) as TopicValidatorFn
  let seq = 1
  const msg = (from: PeerId, certBytes?: Uint8Array): Message =>
    ({
      type: 'signed',
      from,
      topic: ADVERT_TOPIC,
      data: encodeAdvert(
        { ...fields, version: '1', certExpiry: 1, addrs: [], seq: seq++, ts: now.t },
        certBytes,
      ),
      sequenceNumber: 1n,
    }) as unknown as Message
  return {
    org,
    other,
    relay,
    author,
    outsider,
    cert,
    adverts,
    validate,
    msg,
    rejected,
    now,
    certs,
    count: () => verifications,
    revoke: () => {
      revoked = true
    },
  }
}

describe('adverts relayed for members we are not connected to', () => {
  it('carries the certificate in under 4 KiB and decodes it back', async () => {
    const { cert, author } = await setup()
    const bytes = cert(author)
    const wire = encodeAdvert(
      { ...fields, version: '1', certExpiry: 1, addrs: [], seq: 1, ts: 1 },
      bytes,
    )
    assert.ok(wire.length < MAX_ADVERT_BYTES)
    const r = decodeAdvert(wire)
    assert.ok(r.ok)
    assert.deepEqual(r.cert, bytes)
    assert.equal((r.advert as Advert & { cert?: unknown }).cert, undefined)
  })

  it('believes an author whose carried certificate is valid, verifying it once', async () => {
    const { validate, msg, relay, author, cert, adverts, count } = await setup()
    const bytes = cert(author)
    assert.equal(await validate(relay, msg(author, bytes)), TopicValidatorResult.Accept)
    assert.equal(adverts.get(author)?.cert?.org, 'acme')
    assert.equal(await validate(relay, msg(author, bytes)), TopicValidatorResult.Accept)
    // Later adverts without the certificate use the one held.
    assert.equal(await validate(relay, msg(author)), TopicValidatorResult.Accept)
    assert.equal(count(), 1)
  })

  it('never believes a certificate of another subject, another organisation, or none', async () => {
    const { validate, msg, relay, author, outsider, cert, other, adverts, rejected } = await setup()
    // An outsider replaying a member's certificate: the subject is not the gossip signer.
    assert.equal(await validate(relay, msg(outsider, cert(author))), TopicValidatorResult.Ignore)
    assert.equal(
      await validate(relay, msg(outsider, cert(outsider, other))),
      TopicValidatorResult.Ignore,
    )
    assert.equal(await validate(relay, msg(outsider)), TopicValidatorResult.Ignore)
    assert.equal(
      await validate(relay, msg(outsider, new Uint8Array([1, 2, 3]))),
      TopicValidatorResult.Ignore,
    )
    assert.equal(adverts.get(outsider), undefined)
    assert.deepEqual(adverts.peers(), [])
    assert.equal(rejected.length, 3)
    assert.ok(rejected.every((r) => r.startsWith('author certificate')))
    // …and whatever an outsider relays is rejected, certificate or not.
    assert.equal(await validate(outsider, msg(author, cert(author))), TopicValidatorResult.Reject)
  })

  it('drops a gossip-only member once its certificate stops verifying', async () => {
    const { validate, msg, relay, author, cert, adverts, certs, revoke, now, count } = await setup()
    assert.equal(await validate(relay, msg(author, cert(author))), TopicValidatorResult.Accept)
    revoke()
    // Cached verdicts are reused until cleared (new revocation list) or a minute passes.
    assert.equal(await validate(relay, msg(author)), TopicValidatorResult.Accept)
    certs.clear()
    assert.deepEqual(await adverts.recheckAuthors(), [author.toString()])
    assert.equal(adverts.get(author), undefined)
    assert.equal(await validate(relay, msg(author, cert(author))), TopicValidatorResult.Ignore)
    now.t += 61_000
    assert.equal(await validate(relay, msg(author)), TopicValidatorResult.Ignore)
    assert.ok(count() >= 2)
  })

  it('keeps held certificates when verdicts go stale, and verifies them again', async () => {
    const { validate, msg, relay, author, cert, certs, count, revoke } = await setup()
    assert.equal(await validate(relay, msg(author, cert(author))), TopicValidatorResult.Accept)
    assert.equal(count(), 1)
    // A periodic re-check: the bytes stay, so adverts without the certificate are still
    // believed, after one more verification.
    certs.stale()
    assert.ok(certs.has(author))
    assert.equal(await validate(relay, msg(author)), TopicValidatorResult.Accept)
    assert.equal(count(), 2)
    assert.equal(await validate(relay, msg(author)), TopicValidatorResult.Accept)
    assert.equal(count(), 2)
    // Revoked meanwhile: the next stale check fails and the held bytes are dropped.
    revoke()
    certs.stale()
    assert.equal(await validate(relay, msg(author)), TopicValidatorResult.Ignore)
    assert.equal(certs.has(author), false)
  })

  it('believes a formerly connected member by the certificate admission verified', async () => {
    const { validate, msg, relay, author, cert, certs, count } = await setup()
    assert.equal(await validate(relay, msg(author)), TopicValidatorResult.Ignore)
    const bytes = cert(author)
    const check = await certs.check(author, bytes)
    assert.ok(check?.ok)
    certs.clear()
    certs.remember(author, bytes, check.cert)
    const before = count()
    assert.equal(await validate(relay, msg(author)), TopicValidatorResult.Accept)
    assert.equal(count(), before, 'no new verification within the verdict lifetime')
  })
})
