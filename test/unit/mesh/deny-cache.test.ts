import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DenyCache } from '../../../src/mesh/deny-cache.ts'
import { meshGater } from '../../../src/mesh/gater.ts'
import { peerIdFromString } from '@libp2p/peer-id'

const P1 = '12D3KooWBnkAt5zvZxFsLaejFS8Cmr1qyekzB4kjBBJH6izmMvr7'
const P2 = '12D3KooWLxqRJSwGJSnFewFwkL3wgGqAS6UE11Y2HsSzc1hQhRCr'

describe('deny cache and gater', () => {
  it('denies until the entry expires', () => {
    let now = 1_000
    const c = new DenyCache({ now: () => now })
    c.deny(P1, 500, 'expired')
    assert.equal(c.get(P1)?.reason, 'expired')
    assert.equal(c.has(P2), false)
    now += 499
    assert.equal(c.has(P1), true)
    now += 1
    assert.equal(c.has(P1), false)
  })

  it('keeps at most `max` entries, dropping the oldest', () => {
    const c = new DenyCache({ max: 2 })
    c.deny('a', 1e6, 'x')
    c.deny('b', 1e6, 'x')
    c.deny('c', 1e6, 'x')
    assert.deepEqual([c.has('a'), c.has('b'), c.has('c')], [false, true, true])
  })

  it('gater denies dials and post-Noise connections of denied peers only', async () => {
    const c = new DenyCache()
    const g = meshGater(c)
    const p1 = peerIdFromString(P1)
    const p2 = peerIdFromString(P2)
    c.deny(p1, 60_000, 'wrong-org')
    assert.equal(await g.denyDialPeer?.(p1), true)
    assert.equal(await g.denyDialPeer?.(p2), false)
    // biome-ignore lint/suspicious/noExplicitAny: the gater ignores the connection argument
    const maConn = {} as any
    assert.equal(await g.denyInboundEncryptedConnection?.(p1, maConn), true)
    assert.equal(await g.denyOutboundEncryptedConnection?.(p2, maConn), false)
    c.clear(p1)
    assert.equal(await g.denyDialPeer?.(p1), false)
  })
})
