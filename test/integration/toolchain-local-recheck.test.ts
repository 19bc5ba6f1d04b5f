/**
 * The daemon's `recheckMs`: within it, the toolchain id of a compiler is answered from memory
 * (no stat of its files, so a change goes unseen); past it, the stat check runs again and a
 * changed compiler gets a new id.
 */
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { appendFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { LocalToolchains } from '../../src/toolchain/local-toolchains.ts'
import { ToolchainStore } from '../../src/toolchain/store.ts'
import { copiedGccDriver } from '../helpers/copied-gcc-driver.ts'

const base = mkdtempSync(join(tmpdir(), 'meshcc-tc-recheck-'))
after(() => rm(base, { recursive: true, force: true }))
const hasGcc = spawnSync('sh', ['-c', 'command -v gcc']).status === 0

describe('local toolchains, recheck delay', { skip: !hasGcc && 'no gcc' }, () => {
  it('reuses a recent answer, checks again once the delay has passed', async () => {
    const driver = await copiedGccDriver(base)
    const store = new ToolchainStore(join(base, 'home', 'toolchains'))
    const local = new LocalToolchains(store, { recheckMs: 60_000 })

    const first = await local.idFor(driver)
    await appendFile(driver, Buffer.from([0]))
    // Within the delay: remembered, the change is not looked at.
    assert.equal(await local.idFor(driver), first)
    // Without a delay (a fresh instance, default 0) the change is seen at once.
    const changed = await new LocalToolchains(store).idFor(driver)
    assert.notEqual(changed, first)
    // Past the delay the stat check runs again.
    const short = new LocalToolchains(store, { recheckMs: 300 })
    assert.equal(await short.idFor(driver), changed)
    await appendFile(driver, Buffer.from([0]))
    await sleep(400)
    const again = await short.idFor(driver)
    assert.notEqual(again, changed)
    assert.notEqual(again, first)
  })
})

describe('local toolchains, watched directories', { skip: !hasGcc && 'no gcc' }, () => {
  it('answers from memory while the directories are quiet, checks again after a change', async () => {
    const dir = join(base, 'watched')
    const driver = await copiedGccDriver(dir)
    const store = new ToolchainStore(join(dir, 'home', 'toolchains'))
    const local = new LocalToolchains(store, { watch: true })
    after(() => local.close())

    const first = await local.idFor(driver) // packaged: not watched yet
    assert.equal(await local.idFor(driver), first) // checked in full, now watched
    const checks = local.checks
    await sleep(50)
    assert.equal(await local.idFor(driver), first)
    assert.equal(await local.idFor(driver), first)
    assert.equal(local.checks, checks, 'quiet directories: no check')

    await appendFile(driver, Buffer.from([0]))
    for (let i = 0; i < 50 && (await local.idFor(driver)) === first; i++) await sleep(20)
    assert.notEqual(await local.idFor(driver), first, 'the change was seen')
    assert.ok(local.checks > checks)
  })

  it('without watches (the default), every answer past recheckMs is a full check', async () => {
    const store = new ToolchainStore(join(base, 'plain', 'toolchains'))
    const local = new LocalToolchains(store)
    const gcc = execFileSync('sh', ['-c', 'command -v gcc'], { encoding: 'utf8' }).trim()
    await local.idFor(gcc)
    const checks = local.checks
    await local.idFor(gcc)
    assert.equal(local.checks, checks + 1)
  })
})
