/**
 * Advert lifetime on the sender's promise (`ttl`), the period growing with the mesh, and the
 * certificate carried only now and then (first advert, every k-th, on a new author, on request).
 */
import assert from 'node:assert/strict'
import { describe, it, mock } from 'node:test'
import type { Message, TopicValidatorFn } from '@libp2p/gossipsub'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { encodeAdvert } from '../../../src/mesh/advert-codec.ts'
import { ADVERT_TOPIC, Adverts, MAX_ADVERT_TTL_MS } from '../../../src/mesh/adverts.ts'
import type { Advert } from '../../../src/mesh/types.ts'
import { fakeAdvertNode, sampleAdvertFields } from '../../helpers/fake-advert-node.ts'

const A = peerIdFromString('12D3KooWBnkAt5zvZxFsLaejFS8Cmr1qyekzB4kjBBJH6izmMvr7')
const B = peerIdFromString('12D3KooWLxqRJSwGJSnFewFwkL3wgGqAS6UE11Y2HsSzc1hQhRCr')
const C = peerIdFromString('12D3KooWN9WNPU7XaPcSgViTPT1x1rWewcXhrAGDcN7kXeuhYpFi')
const fields = sampleAdvertFields()
const CERT = new Uint8Array([1, 2, 3, 4])

function setup(opts: { certEvery?: number; intervalMs?: number; maxAdvertRate?: number } = {}) {
  const now = { t: 1_764_000_000_000 }
  const sent: Array<{ advert: Advert; cert: boolean }> = []
  const heard = { by: [A] }
  const { node, validators } = fakeAdvertNode(
    (r) => {
      if (r.ok) sent.push({ advert: r.advert, cert: r.cert !== undefined })
    },
    () => heard.by,
  )
  let cert: Uint8Array = CERT
  const members = new Set([A.toString(), B.toString()])
  const adverts = new Adverts({
    node,
    source: () => fields,
    isMember: (p) => members.has(p.toString()),
    version: '1',
    certExpiry: () => 1,
    certificate: () => cert,
    // Authors that are not members have no certificate we could check.
    checkAuthor: async () => undefined,
    intervalMs: opts.intervalMs ?? 1_000,
    ...(opts.maxAdvertRate === undefined ? {} : { maxAdvertRate: opts.maxAdvertRate }),
    certEvery: opts.certEvery ?? 3,
    now: () => now.t,
    random: () => 0.5,
  })
  adverts.start()
  const validate = validators.get(ADVERT_TOPIC) as TopicValidatorFn
  let seq = 1
  const msg = (from: PeerId, extra: Partial<Advert> = {}): Message =>
    ({
      type: 'signed',
      from,
      topic: ADVERT_TOPIC,
      data: encodeAdvert({
        ...fields,
        version: '1',
        certExpiry: 1,
        addrs: [],
        seq: seq++,
        ts: now.t,
        ...extra,
      }),
      sequenceNumber: 1n,
    }) as unknown as Message
  /** Publishes one advert now (as the periodic timer would) and returns what went out. */
  const publish = async () => {
    adverts.publishSoon(0)
    await new Promise((r) => setTimeout(r, 5))
    return sent.at(-1) as { advert: Advert; cert: boolean }
  }
  return {
    adverts,
    validate,
    msg,
    now,
    sent,
    publish,
    heard,
    renew: (c: Uint8Array) => {
      cert = c
    },
  }
}

describe('advert lifetime and period', () => {
  it('keeps an advert for the ttl its sender promised, capped, else three own periods', async () => {
    const { adverts, validate, msg, now } = setup()
    assert.equal(await validate(A, msg(A, { ttl: 20_000 })), TopicValidatorResult.Accept)
    now.t += 19_999
    assert.ok(adverts.get(A), 'alive within its ttl, far beyond our own 3 s')
    now.t += 2
    assert.equal(adverts.get(A), undefined)
    // A sender cannot make its advert outlive the cap.
    assert.equal(await validate(B, msg(B, { ttl: 3_600_000 })), TopicValidatorResult.Accept)
    now.t += MAX_ADVERT_TTL_MS
    assert.ok(adverts.get(B))
    now.t += 1
    assert.equal(adverts.get(B), undefined)
    // No ttl (an older sender): three of our base periods.
    assert.equal(await validate(A, msg(A, { ts: now.t })), TopicValidatorResult.Accept)
    now.t += 3_001
    assert.equal(adverts.get(A), undefined)
  })

  it('states its own ttl, and lengthens its period as the mesh grows', async () => {
    const { adverts, validate, msg, publish } = setup({ intervalMs: 1_000, maxAdvertRate: 1 })
    assert.equal(adverts.periodMs, 1_000)
    const first = await publish()
    assert.equal(first.advert.ttl, 3_300)
    // Two more members at one advert per second of the whole mesh: a 3 s period.
    await validate(A, msg(A))
    await validate(B, msg(B))
    assert.equal(adverts.periodMs, 3_000)
    assert.equal((await publish()).advert.ttl, 9_900)
    // Authors heard but not (yet) believed count too: C is no member we can check.
    assert.equal(await validate(A, msg(C)), TopicValidatorResult.Ignore)
    assert.equal(adverts.periodMs, 4_000)
  })
})

describe('certificate in adverts', () => {
  it('carries it in the first and every k-th advert only', async () => {
    const { publish } = setup({ certEvery: 3 })
    const carried: boolean[] = []
    for (let i = 0; i < 7; i++) carried.push((await publish()).cert)
    assert.deepEqual(carried, [true, false, false, true, false, false, true])
  })

  it('owes what an advert nobody heard carried (no peers yet)', async () => {
    const { publish, heard, validate, msg } = setup({ certEvery: 100 })
    heard.by = []
    assert.equal((await publish()).cert, true)
    await validate(A, msg(C))
    assert.equal((await publish()).advert.needCerts, true)
    heard.by = [A]
    const next = await publish()
    assert.equal(next.cert, true)
    assert.equal(next.advert.needCerts, true)
    const after = await publish()
    assert.equal(after.cert, false)
    assert.equal(after.advert.needCerts, undefined)
  })

  it('carries it after a new author appears, after a renewal, and when asked', async () => {
    const { publish, validate, msg, renew, now } = setup({ certEvery: 100 })
    assert.equal((await publish()).cert, true)
    assert.equal((await publish()).cert, false)
    // A new author: it may lack our certificate.
    await validate(A, msg(A))
    assert.equal((await publish()).cert, true)
    assert.equal((await publish()).cert, false)
    // The same author again is not new…
    await validate(A, msg(A))
    assert.equal((await publish()).cert, false)
    // …unless its advert had expired meanwhile.
    now.t += 10_000
    await validate(A, msg(A, { ts: now.t }))
    assert.equal((await publish()).cert, true)
    // Our certificate was renewed.
    renew(new Uint8Array([9, 9]))
    assert.equal((await publish()).cert, true)
    assert.equal((await publish()).cert, false)
    // A member asks for certificates (it ignored adverts it could not check).
    await validate(A, msg(A, { ts: now.t, needCerts: true }))
    assert.equal((await publish()).cert, true)
  })

  it('asks for certificates after ignoring an advert it could not check', async () => {
    const { publish, validate, msg } = setup({ certEvery: 100 })
    assert.equal((await publish()).advert.needCerts, undefined)
    // C is no member and its advert carries no certificate: ignored, so ask.
    assert.equal(await validate(A, msg(C)), TopicValidatorResult.Ignore)
    assert.equal((await publish()).advert.needCerts, true)
    assert.equal((await publish()).advert.needCerts, undefined)
  })
})

describe('greeting new members', () => {
  it('publishes once per quarter period however many members are admitted', async () => {
    const { adverts, sent, now } = setup({ intervalMs: 20_000 })
    mock.timers.enable({ apis: ['setTimeout'] })
    try {
      adverts.greet()
      adverts.greet()
      mock.timers.tick(1_100)
      await Promise.resolve()
      assert.equal(sent.length, 1, 'two admissions at once: one advert after 1.1 s')
      // Admitted 1 s after that advert: the next waits until a quarter period (5 s) has passed.
      now.t += 1_000
      adverts.greet()
      mock.timers.tick(3_900)
      await Promise.resolve()
      assert.equal(sent.length, 1)
      mock.timers.tick(100)
      await Promise.resolve()
      assert.equal(sent.length, 2)
    } finally {
      mock.timers.reset()
    }
  })
})
