/**
 * Removing a finished job's directory: a job's usual tree goes synchronously (files, FIFOs,
 * nested directories), a symlink is removed and never followed, a directory already gone is no
 * error, and a tree over the budget is still removed, asynchronously.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import { removeJobDir } from '../../../src/remote/job-dir-remove.ts'

describe('removeJobDir', () => {
  let root: string
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'meshcc-jdr-'))
  })
  after(() => rm(root, { recursive: true, force: true }))

  it('removes a job tree at once, FIFOs and nested directories included', () => {
    const job = join(root, 'job-a')
    mkdirSync(join(job, 'src'), { recursive: true })
    mkdirSync(join(job, 'm0', 'deep', 'er'), { recursive: true })
    writeFileSync(join(job, 'src', 'main'), 'int x;')
    writeFileSync(join(job, 'm0', 'deep', 'er', 'x.o'), 'obj')
    execFileSync('mkfifo', [join(job, 'src', 'fifo')])
    removeJobDir(job)
    assert.equal(existsSync(job), false)
  })

  it('removes a symlink without following it', () => {
    const outside = join(root, 'outside')
    mkdirSync(outside)
    writeFileSync(join(outside, 'keep'), 'precious')
    const job = join(root, 'job-b')
    mkdirSync(job)
    symlinkSync(outside, join(job, 'link'))
    removeJobDir(job)
    assert.equal(existsSync(job), false)
    assert.equal(existsSync(join(outside, 'keep')), true)
  })

  it('takes a directory that is already gone quietly', () => {
    assert.doesNotThrow(() => removeJobDir(join(root, 'never-made')))
  })

  it('leaves a tree over the budget to the asynchronous removal, which removes it', async () => {
    const job = join(root, 'job-c')
    mkdirSync(job)
    for (let i = 0; i < 20; i++) writeFileSync(join(job, `f${i}`), '')
    removeJobDir(job, 5)
    assert.equal(existsSync(job), true, 'not removed synchronously')
    for (let i = 0; i < 100 && existsSync(job); i++) await sleep(20)
    assert.equal(existsSync(job), false)
  })
})
