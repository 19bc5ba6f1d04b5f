/**
 * How soon a change of the local advert fields is published: rate-limited by a gap that grows
 * with the period (slot counts move with every job), sooner for changes that matter to placement.
 */
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it, mock } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Message, TopicValidatorFn } from '@libp2p/gossipsub'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { encodeAdvert } from '../../../src/mesh/advert-codec.ts'
import { advertChange, advertPeriodMs, changeGapMs } from '../../../src/mesh/advert-schedule.ts'
import { ADVERT_TOPIC, Adverts } from '../../../src/mesh/adverts.ts'
import type { Advert, AdvertFields } from '../../../src/mesh/types.ts'
import { fakeAdvertNode, sampleAdvertFields } from '../../helpers/fake-advert-node.ts'

const base = sampleAdvertFields({ toolchains: ['t1', 't2'] })

describe('advertChange', () => {
  it('tells placement changes from count changes', () => {
    assert.equal(advertChange(undefined, base), 'placement')
    assert.equal(advertChange(base, { ...base }), 'none')
    assert.equal(advertChange(base, { ...base, toolchains: ['t2', 't1'] }), 'none')
    assert.equal(advertChange(base, { ...base, freeSlots: 3 }), 'counts')
    assert.equal(advertChange(base, { ...base, load: 0.5 }), 'counts')
    assert.equal(advertChange(base, { ...base, queuedJobs: 1 }), 'counts')
    assert.equal(advertChange(base, { ...base, speed: 1.2 }), 'counts')
    assert.equal(advertChange(base, { ...base, freeSlots: 0 }), 'placement')
    assert.equal(advertChange({ ...base, freeSlots: 0 }, { ...base, freeSlots: 1 }), 'placement')
    assert.equal(advertChange(base, { ...base, cores: 4, freeSlots: 4 }), 'placement')
    assert.equal(advertChange(base, { ...base, toolchains: ['t1'] }), 'placement')
    assert.equal(advertChange(base, { ...base, toolchains: ['t1', 't3'] }), 'placement')
    assert.equal(advertChange(base, { ...base, arch: 'arm64' }), 'placement')
  })

  it('spaces change-triggered adverts by a gap that grows with the mesh', () => {
    const small = advertPeriodMs(2, 5_000)
    const large = advertPeriodMs(100, 5_000)
    assert.equal(changeGapMs(small, 'counts'), 2_500)
    assert.equal(changeGapMs(small, 'placement'), 1_000)
    assert.equal(changeGapMs(large, 'counts'), 10_000)
    assert.equal(changeGapMs(large, 'placement'), 4_000)
  })
})

describe('publishing changes', () => {
  const now = { t: 1_764_000_000_000 }
  let fields: AdvertFields
  let sent: Advert[]
  let adverts: Adverts
  let validate: TopicValidatorFn
  let sources = 0

  beforeEach(() => {
    mock.timers.enable({ apis: ['setTimeout'] })
    fields = { ...base }
    sent = []
    sources = 0
    const { node, validators } = fakeAdvertNode((r) => {
      if (r.ok) sent.push(r.advert)
    })
    adverts = new Adverts({
      node,
      source: () => {
        sources++
        return fields
      },
      isMember: () => true,
      version: '1',
      certExpiry: () => 1,
      intervalMs: 5_000,
      maxAdvertRate: 1,
      now: () => now.t,
      random: () => 0.5,
    })
    adverts.start()
    validate = validators.get(ADVERT_TOPIC) as TopicValidatorFn
    adverts.run()
  })

  afterEach(() => {
    adverts.stop()
    mock.timers.reset()
  })

  const advance = async (ms: number) => {
    now.t += ms
    mock.timers.tick(ms)
    await Promise.resolve()
  }

  it('publishes count changes once per half period, however many jobs ran', async () => {
    assert.equal(sent.length, 1, 'the first advert on run()')
    for (let i = 0; i < 20; i++) {
      fields = { ...fields, freeSlots: 8 - (i % 3) }
      adverts.changed()
      await advance(100)
    }
    // 2 s after the first advert: still within the 2.5 s gap.
    assert.equal(sent.length, 1)
    await advance(500)
    assert.equal(sent.length, 2)
    assert.equal(sent[1]?.freeSlots, fields.freeSlots)
  })

  it('publishes a placement change sooner, bringing a pending count change forward', async () => {
    await advance(2_000)
    fields = { ...fields, freeSlots: 5 }
    adverts.changed()
    await advance(100)
    fields = { ...fields, freeSlots: 0 }
    adverts.changed()
    await advance(50)
    assert.equal(sent.length, 2, 'over a fifth of a period since the last: 50 ms')
    assert.equal(sent[1]?.freeSlots, 0)
    // Free again 100 ms later: a placement change, but within the gap (1 s) of the last advert.
    await advance(100)
    fields = { ...fields, freeSlots: 1 }
    adverts.changed()
    await advance(800)
    assert.equal(sent.length, 2)
    await advance(100)
    assert.equal(sent.length, 3)
    assert.equal(sent[2]?.freeSlots, 1)
  })

  it('publishes nothing for a change undone before it was due', async () => {
    fields = { ...fields, freeSlots: 7 }
    adverts.changed()
    await advance(1_000)
    fields = { ...fields, freeSlots: 8 }
    await advance(2_000)
    assert.equal(sent.length, 1)
  })

  it('does not look at the fields while an advert is due as soon as any change allows', async () => {
    await advance(3_000)
    fields = { ...fields, freeSlots: 0 }
    adverts.changed()
    const before = sources
    for (let i = 0; i < 10; i++) adverts.changed()
    assert.equal(sources, before)
    await advance(50)
    assert.equal(sent.length, 2)
  })

  it('publishes periodically one period after the last advert, whatever its cause', async () => {
    await advance(2_000)
    fields = { ...fields, toolchains: ['t3'] }
    adverts.changed()
    await advance(50)
    assert.equal(sent.length, 2)
    await advance(4_999)
    assert.equal(sent.length, 2, 'the periodic advert restarted from the change')
    await advance(1)
    assert.equal(sent.length, 3)
  })

  it('lengthens the gaps as the mesh grows', async () => {
    // 19 other members heard lately: a 20 s period at one advert per second.
    for (let i = 0; i < 19; i++) {
      const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
      const msg = {
        type: 'signed',
        from: peer,
        topic: ADVERT_TOPIC,
        data: encodeAdvert({
          ...base,
          version: '1',
          certExpiry: 1,
          addrs: [],
          seq: 1,
          ts: now.t,
        }),
        sequenceNumber: 1n,
      } as unknown as Message
      await validate(peer, msg)
    }
    assert.equal(adverts.periodMs, 20_000)
    await advance(1_000)
    fields = { ...fields, freeSlots: 0 }
    adverts.changed()
    await advance(2_999)
    assert.equal(sent.length, 1)
    await advance(1)
    assert.equal(sent.length, 2, 'a fifth of the 20 s period after the first advert')
  })
})
