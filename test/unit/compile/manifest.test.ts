import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  addEntry,
  decodeManifest,
  encodeManifest,
  findEntry,
  MANIFEST_MAX_ENTRIES,
} from '../../../src/compile/manifest.ts'

describe('manifest', () => {
  const hashes = new Map([
    ['/w/a.h', 'h1'],
    ['/usr/include/stdio.h', 's1'],
  ])
  const hashOf = (p: string) => hashes.get(p)

  it('finds the entry whose headers all still match, newest first', () => {
    let m = decodeManifest(undefined)
    m = addEntry(m, { h: [['a.h', 'h0']], r: 'old' })
    m = addEntry(m, {
      h: [
        ['a.h', 'h1'],
        ['/usr/include/stdio.h', 's1'],
      ],
      r: 'new',
    })
    const back = decodeManifest(encodeManifest(m))
    assert.equal(findEntry(back, '/w', hashOf)?.r, 'new')
    hashes.set('/w/a.h', 'h0')
    assert.equal(findEntry(back, '/w', hashOf)?.r, 'old')
    hashes.set('/w/a.h', 'h2')
    assert.equal(findEntry(back, '/w', hashOf), undefined)
    hashes.set('/w/a.h', 'h1')
  })

  it('skips entries bound to another cwd, and missing files', () => {
    const m = addEntry(decodeManifest(undefined), { h: [['a.h', 'h1']], r: 'x', cwd: '/w' })
    assert.equal(findEntry(m, '/w', hashOf)?.r, 'x')
    assert.equal(findEntry(m, '/v', hashOf), undefined)
    const gone = addEntry(decodeManifest(undefined), { h: [['gone.h', 'g']], r: 'y' })
    assert.equal(findEntry(gone, '/w', hashOf), undefined)
  })

  it('caps entries and replaces an identical header set', () => {
    let m = decodeManifest(undefined)
    for (let i = 0; i < MANIFEST_MAX_ENTRIES + 10; i++)
      m = addEntry(m, { h: [['a.h', `v${i}`]], r: `r${i}` })
    assert.equal(m.entries.length, MANIFEST_MAX_ENTRIES)
    m = addEntry(m, { h: [['a.h', 'v70']], r: 'again' })
    assert.equal(m.entries.length, MANIFEST_MAX_ENTRIES)
    assert.equal(m.entries[0]?.r, 'again')
  })

  it('decodes garbage as an empty manifest', () => {
    assert.deepEqual(decodeManifest(Buffer.from('{not json')), { v: 1, entries: [] })
    assert.deepEqual(decodeManifest(Buffer.from('{"v":2}')), { v: 1, entries: [] })
  })
})
