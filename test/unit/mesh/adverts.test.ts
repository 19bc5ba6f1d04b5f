import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Message, TopicValidatorFn } from '@libp2p/gossipsub'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { encodeAdvert } from '../../../src/mesh/advert-codec.ts'
import { ADVERT_TOPIC, Adverts } from '../../../src/mesh/adverts.ts'
import type { Advert } from '../../../src/mesh/types.ts'
import { fakeAdvertNode, sampleAdvertFields } from '../../helpers/fake-advert-node.ts'

const MEMBER = peerIdFromString('12D3KooWBnkAt5zvZxFsLaejFS8Cmr1qyekzB4kjBBJH6izmMvr7')
const MEMBER2 = peerIdFromString('12D3KooWLxqRJSwGJSnFewFwkL3wgGqAS6UE11Y2HsSzc1hQhRCr')
const OUTSIDER = peerIdFromString('12D3KooWN9WNPU7XaPcSgViTPT1x1rWewcXhrAGDcN7kXeuhYpFi')

const fields = sampleAdvertFields()

function setup(now = { t: 1_764_000_000_000 }) {
  const published: Advert[] = []
  const { node, validators } = fakeAdvertNode((r) => {
    if (r.ok) published.push(r.advert)
  })
  const rejected: string[] = []
  const unknown: Array<[string, readonly string[]]> = []
  const members = new Set([MEMBER.toString(), MEMBER2.toString()])
  const adverts = new Adverts({
    node,
    source: () => fields,
    isMember: (p) => members.has(p.toString()),
    version: '9.9.9',
    certExpiry: () => 42,
    intervalMs: 1_000,
    now: () => now.t,
    onRejected: (_from, reason) => rejected.push(reason),
    onUnknownAuthor: (p, addrs) => unknown.push([p.toString(), addrs]),
  })
  adverts.start()
  const validate = validators.get(ADVERT_TOPIC) as TopicValidatorFn
  const msg = (from: PeerId, advert: Partial<Advert> | Uint8Array, signed = true): Message => {
    const data =
      advert instanceof Uint8Array
        ? advert
        : encodeAdvert({
            ...fields,
            version: '1',
            certExpiry: 1,
            addrs: [],
            seq: 1,
            ts: now.t,
            ...advert,
          })
    return signed
      ? ({
          type: 'signed',
          from,
          topic: ADVERT_TOPIC,
          data,
          sequenceNumber: 1n,
        } as unknown as Message)
      : { type: 'unsigned', topic: ADVERT_TOPIC, data }
  }
  return { adverts, validate, msg, rejected, published, now, members, unknown }
}

describe('advert validation', () => {
  it('accepts a member advert and keeps it until three intervals pass', async () => {
    const { adverts, validate, msg, now } = setup()
    assert.equal(
      await validate(MEMBER, msg(MEMBER, { seq: 5, cores: 3 })),
      TopicValidatorResult.Accept,
    )
    assert.equal(adverts.get(MEMBER)?.advert.cores, 3)
    now.t += 3_000
    assert.ok(adverts.get(MEMBER))
    now.t += 1
    assert.equal(adverts.get(MEMBER), undefined)
    assert.deepEqual(adverts.peers(), [])
  })

  it('accepts a member advert relayed by another member', async () => {
    const { validate, msg } = setup()
    assert.equal(await validate(MEMBER2, msg(MEMBER, {})), TopicValidatorResult.Accept)
  })

  it('rejects what non-members relay, and ignores authors it cannot check', async () => {
    const { validate, msg, rejected, unknown } = setup()
    assert.equal(await validate(OUTSIDER, msg(OUTSIDER, {})), TopicValidatorResult.Reject)
    assert.equal(await validate(OUTSIDER, msg(MEMBER, {})), TopicValidatorResult.Reject)
    assert.equal(await validate(MEMBER, msg(OUTSIDER, {})), TopicValidatorResult.Ignore)
    assert.deepEqual(rejected, ['relayed by a non-member', 'relayed by a non-member'])
    // …but learns where that author listens, so discovery can dial it.
    const addrs = ['/memory/x']
    assert.equal(await validate(MEMBER, msg(OUTSIDER, { addrs })), TopicValidatorResult.Ignore)
    assert.deepEqual(unknown.at(-1), [OUTSIDER.toString(), addrs])
  })

  it('rejects unsigned, oversize, malformed and skewed adverts', async () => {
    const { validate, msg, rejected, now, adverts } = setup()
    assert.equal(await validate(MEMBER, msg(MEMBER, {}, false)), TopicValidatorResult.Reject)
    assert.equal(
      await validate(MEMBER, msg(MEMBER, new Uint8Array(4097))),
      TopicValidatorResult.Reject,
    )
    assert.equal(
      await validate(MEMBER, msg(MEMBER, new TextEncoder().encode('{"x":1}'))),
      TopicValidatorResult.Reject,
    )
    // Skewed: not believed, but ignored rather than rejected (no penalty for the relay).
    assert.equal(
      await validate(MEMBER, msg(MEMBER, { ts: now.t - 30_001 })),
      TopicValidatorResult.Ignore,
    )
    assert.equal(
      await validate(MEMBER, msg(MEMBER, { ts: now.t + 30_001 })),
      TopicValidatorResult.Ignore,
    )
    assert.equal(adverts.get(MEMBER), undefined)
    assert.equal(
      await validate(MEMBER, msg(MEMBER, { ts: now.t + 29_000 })),
      TopicValidatorResult.Accept,
    )
    assert.deepEqual(rejected, [
      'unsigned',
      'oversize',
      'bad toolchains',
      'clock skew',
      'clock skew',
    ])
  })

  it('does not accept a sequence number that is not newer', async () => {
    const { validate, msg, adverts } = setup()
    assert.equal(
      await validate(MEMBER, msg(MEMBER, { seq: 10, cores: 1 })),
      TopicValidatorResult.Accept,
    )
    assert.equal(
      await validate(MEMBER, msg(MEMBER, { seq: 10, cores: 2 })),
      TopicValidatorResult.Ignore,
    )
    assert.equal(
      await validate(MEMBER, msg(MEMBER, { seq: 9, cores: 3 })),
      TopicValidatorResult.Ignore,
    )
    assert.equal(adverts.get(MEMBER)?.advert.cores, 1)
    assert.equal(
      await validate(MEMBER, msg(MEMBER, { seq: 11, cores: 4 })),
      TopicValidatorResult.Accept,
    )
    assert.equal(adverts.get(MEMBER)?.advert.cores, 4)
  })

  it('publishes with increasing seq from the wall clock, version and cert expiry', async () => {
    const { adverts, published, now } = setup()
    adverts.run()
    adverts.publishSoon(0)
    await new Promise((r) => setTimeout(r, 20))
    adverts.stop()
    assert.equal(published.length, 2)
    const [p1, p2] = published as [Advert, Advert]
    assert.equal(p1.seq, now.t)
    assert.equal(p2.seq, now.t + 1)
    assert.equal(p1.version, '9.9.9')
    assert.equal(p1.certExpiry, 42)
    assert.equal(p1.cores, 8)
  })
})
