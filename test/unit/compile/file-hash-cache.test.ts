import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { FileHashCache } from '../../../src/compile/file-hash-cache.ts'
import { TIME_MACRO_DATE, TIME_MACRO_TIME } from '../../../src/compile/time-macros.ts'

describe('FileHashCache', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshcc-fhc-'))
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('reuses a hash by stat only for files older than the racy window', () => {
    const path = join(dir, 'a.h')
    writeFileSync(path, 'one\n')
    let now = Date.now()
    const cache = new FileHashCache({ nowMs: () => now })
    const h1 = cache.hash(path)
    cache.hash(path)
    assert.equal(cache.hashed, 2, 'a young file is rehashed every time')
    // Same size, same mtime, new content: must be seen.
    const t = new Date(Math.floor(Date.now() / 1000) * 1000)
    utimesSync(path, t, t)
    writeFileSync(path, 'two\n')
    utimesSync(path, t, t)
    const h2 = cache.hash(path)
    assert.notEqual(h2?.hash, h1?.hash)
    // Once the file is old enough, the stat vouches for it.
    now += 10_000
    cache.hash(path)
    const before = cache.hashed
    cache.hash(path)
    assert.equal(cache.hashed, before)
    assert.equal(cache.reused > 0, true)
  })

  it('rehashes a settled file whose ctime changed (content rewritten, mtime forged)', () => {
    const path = join(dir, 'b.h')
    writeFileSync(path, 'aaaa\n')
    const old = new Date(Date.now() - 60_000)
    utimesSync(path, old, old)
    const cache = new FileHashCache({ nowMs: () => Date.now() + 10_000 })
    const h1 = cache.hash(path)
    assert.equal(cache.hash(path)?.hash, h1?.hash)
    const hashed = cache.hashed
    writeFileSync(path, 'bbbb\n')
    utimesSync(path, old, old)
    assert.notEqual(cache.hash(path)?.hash, h1?.hash)
    assert.equal(cache.hashed, hashed + 1)
  })

  it('reports missing files and time macros', () => {
    const cache = new FileHashCache()
    assert.equal(cache.hash(join(dir, 'missing.h')), undefined)
    const path = join(dir, 't.c')
    writeFileSync(path, 'const char *t = __TIME__, *d = __DATE__;\n')
    assert.equal(cache.hash(path)?.timeMacros, TIME_MACRO_TIME | TIME_MACRO_DATE)
  })
})
