/**
 * Language-set toolchains: `LocalToolchains.idFor(gcc, { languages })` packages only what jobs in
 * those languages run (the C set: the gcc driver, cc1, as, their libraries and headers; no
 * cc1plus, cc1obj, g++ or LTO helpers), as a toolchain of its own id; and a builder holding only
 * that set compiles C remotely, byte-identical to a local compile, and `-flto -c` too. A job whose
 * driver the set lacks is refused by the builder (the set really is all the sandbox gets).
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { LocalToolchains } from '../../src/toolchain/local-toolchains.ts'
import { ToolchainStore } from '../../src/toolchain/store.ts'
import { testOrg } from '../helpers/mesh.ts'
import {
  buildSandboxHelper,
  localCompile,
  type Pair,
  remoteCompile,
  startPair,
  type Toolchains,
  writeTree,
} from './remote-fixture.ts'

const hasGcc = spawnSync('sh', ['-c', 'command -v gcc && command -v g++']).status === 0

describe('language-set gcc toolchains', {
  skip: (process.platform !== 'linux' || !hasGcc) && 'Linux with gcc and g++ only',
}, () => {
  let dir: string
  let store: ToolchainStore
  let ids: { c: string; cxx: string; full: string }
  let pair: Pair
  let cwd: string

  before(async () => {
    buildSandboxHelper()
    dir = await mkdtemp(join(tmpdir(), 'meshcc-tc-sets-'))
    store = new ToolchainStore(join(dir, 'toolchains'))
    const local = new LocalToolchains(store, { env: process.env })
    ids = {
      c: await local.idFor('gcc', { languages: ['c'] }),
      cxx: await local.idFor('g++', { languages: ['c++'] }),
      full: await local.idFor('gcc'),
    }
    const tc: Toolchains = { dir, store, ids: {} }
    pair = await startPair(testOrg('sets'), tc)
    cwd = join(dir, 'home', 'bob', 'proj')
    await writeTree(cwd, {
      'a.c': '#include <stdio.h>\nint main(void) { printf("%s\\n", __FILE__); return 3 * 7; }\n',
    })
  })
  after(async () => {
    await pair?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('packages each set as its own toolchain holding only its front ends and drivers', async () => {
    assert.notEqual(ids.c, ids.full)
    assert.notEqual(ids.c, ids.cxx)
    const names = async (id: string) =>
      (await store.getManifest(id)).manifest.files.map((f) => f.path.split('/').at(-1)!)
    const c = await names(ids.c)
    const cxx = await names(ids.cxx)
    const full = await names(ids.full)
    assert.ok(c.includes('cc1') && c.some((n) => /-gcc(-\d+)?$/.test(n)))
    for (const n of ['cc1plus', 'cc1obj', 'cc1objplus', 'lto-wrapper', 'liblto_plugin.so'])
      assert.ok(!c.includes(n), `the C set holds ${n}`)
    assert.ok(!c.some((n) => /g\+\+/.test(n)), 'the C set holds the C++ driver')
    assert.ok(cxx.includes('cc1plus') && !cxx.includes('cc1'))
    assert.ok(full.includes('cc1plus') && full.includes('cc1'))
    const bytes = async (id: string) =>
      (await store.getManifest(id)).manifest.files.reduce((a, f) => a + f.size, 0)
    assert.ok((await bytes(ids.c)) < (await bytes(ids.full)) / 2, 'the C set is much smaller')
    assert.deepEqual(Object.keys((await store.getManifest(ids.c)).manifest.drivers), ['c'])
    // Reproducible: the same set, packaged again in a fresh store, has the same id.
    const again = new LocalToolchains(new ToolchainStore(join(dir, 'again')), { env: process.env })
    assert.equal(await again.idFor('gcc', { languages: ['c', 'c'] }), ids.c)
  })

  it('a builder with only the C set compiles C remotely, byte-identical', async () => {
    const args = ['-g', '-O2', '-c', 'a.c', '-o', 'a.o']
    const local = localCompile('gcc', args, cwd)
    assert.equal(local.exitCode, 0, local.stderr.toString())
    const localObj = await readFile(join(cwd, 'a.o'))
    await rm(join(cwd, 'a.o'))
    const remote = await remoteCompile(pair, 'gcc', args, cwd, ids.c)
    assert.equal(remote.exitCode, 0, remote.stderr.toString())
    assert.ok(localObj.equals(await readFile(join(cwd, 'a.o'))), 'objects differ')
  })

  // gcc's LTO objects differ from one local run to the next (a random seed), so this checks that
  // the set, without lto-wrapper and the linker plugin, still makes an LTO object.
  it('the C set compiles -flto -c (the LTO helpers are for linking only)', async () => {
    const remote = await remoteCompile(
      pair,
      'gcc',
      ['-O2', '-flto', '-c', 'a.c', '-o', 'l.o'],
      cwd,
      ids.c,
    )
    assert.equal(remote.exitCode, 0, remote.stderr.toString())
    assert.ok((await readFile(join(cwd, 'l.o'))).includes('.gnu.lto_'), 'not an LTO object')
  })

  it('a set without the job driver is refused by the builder', async () => {
    await assert.rejects(
      remoteCompile(pair, 'gcc', ['-O2', '-c', 'a.c', '-o', 'b.o'], cwd, ids.cxx),
      /toolchain/,
    )
  })
})
