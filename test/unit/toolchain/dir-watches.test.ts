/**
 * Directory watches for local toolchains: a set of existing directories is covered, a missing
 * one is not; a change to a file in a watched directory ends the quiet; closed watches are
 * never quiet.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { DirWatches } from '../../../src/toolchain/dir-watches.ts'

const base = mkdtempSync(join(tmpdir(), 'meshcc-dirw-'))
after(() => rm(base, { recursive: true, force: true }))

describe('DirWatches', () => {
  it('covers existing directories, not a missing one', () => {
    const w = new DirWatches()
    after(() => w.close())
    writeFileSync(join(base, 'a'), 'x')
    assert.equal(w.cover([join(base, 'a'), join(base, 'b')]), true)
    assert.equal(w.cover([join(base, 'a'), join(base, 'missing', 'gcc')]), false)
  })

  it('stays quiet until a watched file changes', async () => {
    const w = new DirWatches()
    after(() => w.close())
    const file = join(base, 'cc1')
    writeFileSync(file, 'one')
    assert.equal(w.cover([file]), true)
    const since = performance.now()
    await sleep(30)
    assert.equal(w.quietSince(since), true)
    writeFileSync(file, 'two')
    for (let i = 0; i < 50 && w.quietSince(since); i++) await sleep(10)
    assert.equal(w.quietSince(since), false, 'the change was seen')
    assert.equal(w.quietSince(performance.now() + 1), true, 'quiet again after it')
  })

  it('is never quiet once closed', () => {
    const w = new DirWatches()
    assert.equal(w.cover([join(base, 'a')]), true)
    w.close()
    assert.equal(w.quietSince(Number.NEGATIVE_INFINITY), false)
    assert.equal(w.cover([join(base, 'a')]), false)
  })
})
