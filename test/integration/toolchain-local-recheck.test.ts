/**
 * The daemon's `recheckMs`: within it, the toolchain id of a compiler is answered from memory
 * (no stat of its files, so a change goes unseen); past it, the stat check runs again and a
 * changed compiler gets a new id.
 */
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { appendFile, copyFile, mkdir, realpath, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { LocalToolchains } from '../../src/toolchain/local-toolchains.ts'
import { ToolchainStore } from '../../src/toolchain/store.ts'

const base = mkdtempSync(join(tmpdir(), 'meshcc-tc-recheck-'))
after(() => rm(base, { recursive: true, force: true }))
const hasGcc = spawnSync('sh', ['-c', 'command -v gcc']).status === 0

describe('local toolchains, recheck delay', { skip: !hasGcc && 'no gcc' }, () => {
  it('reuses a recent answer, checks again once the delay has passed', async () => {
    const bin = join(base, 'bin')
    await mkdir(bin)
    await symlink('/usr/lib', join(base, 'lib'))
    const driver = join(bin, 'x86_64-linux-gnu-gcc-12')
    await copyFile(
      await realpath(execFileSync('sh', ['-c', 'command -v gcc'], { encoding: 'utf8' }).trim()),
      driver,
    )
    execFileSync('chmod', ['755', driver])
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
