import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { LruIndex } from '../../../src/cache/lru-index.ts'

const ids = (lru: LruIndex) => [...lru.oldest()].map(([id]) => id)

describe('LruIndex', () => {
  it('orders by last use and keeps totals', () => {
    const lru = new LruIndex()
    lru.set('ra', 10, 1)
    lru.set('rb', 20, 2)
    lru.set('mc', 5, 3)
    assert.deepEqual(ids(lru), ['ra', 'rb', 'mc'])
    lru.touch('ra', 10, 4)
    assert.deepEqual(ids(lru), ['rb', 'mc', 'ra'])
    assert.equal(lru.bytes, 35)
    assert.equal(lru.count('r'), 2)
    assert.equal(lru.count('m'), 1)
    lru.set('rb', 7, 5)
    assert.equal(lru.bytes, 22)
    assert.deepEqual(ids(lru), ['mc', 'ra', 'rb'])
    lru.delete('mc')
    assert.equal(lru.count('m'), 0)
    assert.equal(lru.bytes, 17)
    lru.touch('rz', 3, 6)
    assert.equal(lru.bytes, 20, 'touching an unknown entry adds it')
  })

  it('merges a scan in front of live entries, sorted by mtime, skipping removed ones', () => {
    const lru = new LruIndex()
    lru.set('rlive', 1, 100)
    lru.mergeScanned(
      [
        { id: 'rnew', size: 2, lastUse: 50 },
        { id: 'rold', size: 3, lastUse: 10 },
        { id: 'rlive', size: 99, lastUse: 1 },
        { id: 'rgone', size: 4, lastUse: 20 },
      ],
      new Set(['rgone']),
    )
    assert.deepEqual(ids(lru), ['rold', 'rnew', 'rlive'])
    assert.equal(lru.bytes, 6)
    assert.equal(lru.count('r'), 3)
  })
})
