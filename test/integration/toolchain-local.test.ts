/**
 * The local compiler → toolchain id map: packaged once, remembered by stat data, repackaged
 * (to a different id) when a file of the compiler changes, overridden by config.toml.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { appendFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { LocalToolchains } from '../../src/toolchain/local-toolchains.ts'
import { ToolchainStore } from '../../src/toolchain/store.ts'
import { copiedGccDriver } from '../helpers/copied-gcc-driver.ts'

const base = mkdtempSync(join(tmpdir(), 'meshcc-tc-local-'))
after(() => rm(base, { recursive: true, force: true }))
const hasGcc = spawnSync('sh', ['-c', 'command -v gcc']).status === 0

describe('local toolchains', { skip: !hasGcc && 'no gcc' }, () => {
  it('packages once, reuses the id, repackages when the compiler changes', async (t) => {
    const driver = await copiedGccDriver(base)
    const store = new ToolchainStore(join(base, 'home', 'toolchains'))
    const configFile = join(base, 'home', 'config.toml')
    const local = new LocalToolchains(store, { configFile })

    const t0 = performance.now()
    const first = await local.idFor(driver)
    const t1 = performance.now()
    assert.equal(await local.idFor(driver), first)
    const t2 = performance.now()
    t.diagnostic(
      `first idFor ${Math.round(t1 - t0)} ms (packages), again ${Math.round(t2 - t1)} ms (stat only)`,
    )
    assert.ok(t2 - t1 < (t1 - t0) / 2, 'the remembered id costs far less than packaging')
    // A fresh instance reads the persisted map.
    assert.equal(await new LocalToolchains(store, { configFile }).idFor(driver), first)

    // An ELF file with a byte appended still runs: the compiler changed, so must the id.
    await appendFile(driver, Buffer.from([0]))
    const second = await local.idFor(driver)
    assert.notEqual(second, first)
    assert.equal(await store.has(second), true)

    const mapped = 'c'.repeat(64)
    await writeFile(configFile, `[toolchains]\n"x86_64-linux-gnu-gcc-12" = "${mapped}"\n`)
    assert.equal(await local.idFor(driver), mapped)
  })
})
