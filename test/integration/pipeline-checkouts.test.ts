/**
 * Two checkouts of the same code under MESHCC_BASE_DIR, and the three cache modes.
 *
 * Sharing must happen exactly when the outputs cannot differ: relative paths without -g share;
 * -g without a prefix map does not (DW_AT_comp_dir is the cwd); -g with -fdebug-prefix-map
 * covering the checkout shares and the object equals a local compile; absolute paths that end up
 * in the object (the source name in the symbol table) are caught by the safety net.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import {
  COMPILERS,
  createFixture,
  type Fixture,
  plainCompile,
  removeFiles,
  text,
} from './pipeline-fixture.ts'

const FILES = {
  'src/a.c':
    '#include "a.h"\n#include <stdio.h>\nint f(void) { int unused; printf("%s", __FILE__); return A; }\n',
  'inc/a.h': '#define A 7\n',
  'build/.keep': '',
}

describe('pipeline: two checkouts and cache modes', () => {
  let fx: Fixture
  let base: string
  before(async () => {
    fx = await createFixture()
    base = join(fx.root, 'base')
    const files: Record<string, string> = {}
    for (const co of ['c1', 'c2', 'c3', 'c4'])
      for (const [k, v] of Object.entries(FILES)) files[`base/${co}/${k}`] = v
    fx.write(files)
  })
  after(() => fx.close())

  /** Compiles in c1 then c2 (same relative command line); returns whether c2 hit. */
  async function twoCheckouts(
    compiler: string,
    argsFor: (checkout: string) => string[],
    outputs: string[],
    env: Record<string, string> = {},
    checkouts: [string, string] = ['c1', 'c2'],
  ): Promise<boolean> {
    const fullEnv = { MESHCC_BASE_DIR: base, ...env }
    let secondHit = false
    for (const co of checkouts) {
      const cwd = join(base, co, 'build')
      const args = argsFor(join(base, co))
      removeFiles(cwd, outputs)
      const plain = plainCompile(cwd, compiler, args)
      assert.equal(plain.exitCode, 0, plain.stderr)
      const expected = outputs.map((o) => readFileSync(join(cwd, o)))
      removeFiles(cwd, outputs)
      const hits = fx.counters().cache_hits
      const reply = await fx.compile(cwd, compiler, args, { env: fullEnv })
      assert.equal(reply.kind, 'done')
      if (reply.kind === 'done') assert.equal(text(reply.stderr), plain.stderr, `${co} stderr`)
      outputs.forEach((o, i) => {
        assert.ok(
          readFileSync(join(cwd, o)).equals(expected[i] as Buffer),
          `${co}: ${o} equals a local compile`,
        )
      })
      if (co === checkouts[1]) secondHit = fx.counters().cache_hits === hits + 1
    }
    return secondHit
  }

  for (const compiler of [COMPILERS.gcc, COMPILERS.clang]) {
    const name = compiler.endsWith('clang') ? 'clang' : 'gcc'
    it(`${name}: relative paths without -g share hits`, async () => {
      const hit = await twoCheckouts(
        compiler,
        () => ['-Wall', '-I../inc', '-c', '../src/a.c', '-o', 'a.o'],
        ['a.o'],
      )
      assert.equal(hit, true)
    })

    it(`${name}: -g without a prefix map does not share`, async () => {
      const hit = await twoCheckouts(
        compiler,
        () => ['-g', '-I../inc', '-c', '../src/a.c', '-o', 'g.o'],
        ['g.o'],
      )
      assert.equal(hit, false)
    })

    it(`${name}: -g with -fdebug-prefix-map over the checkout shares`, async () => {
      const hit = await twoCheckouts(
        compiler,
        (co) => ['-g', `-fdebug-prefix-map=${co}=/co`, '-I../inc', '-c', '../src/a.c', '-o', 'm.o'],
        ['m.o'],
      )
      assert.equal(hit, true)
    })

    it(`${name}: absolute include paths share, the depfile is mapped to the checkout`, async () => {
      const hit = await twoCheckouts(
        compiler,
        (co) => ['-I', `${co}/inc`, '-c', '../src/a.c', '-o', 'abs.o', '-MD', '-MF', 'abs.d'],
        ['abs.o', 'abs.d'],
      )
      assert.equal(hit, true)
    })

    it(`${name}: an absolute source path in the object is caught by the safety net`, async () => {
      const hit = await twoCheckouts(
        compiler,
        (co) => ['-I../inc', '-c', `${co}/src/a.c`, '-o', 'abs-src.o'],
        ['abs-src.o'],
      )
      assert.equal(hit, false)
    })
  }

  it('an absolute and a relative spelling of the same paths do not share', async () => {
    let call = 0
    const hit = await twoCheckouts(
      COMPILERS.gcc,
      (co) => {
        call++
        const inc = call === 1 ? `${co}/inc` : '../inc'
        return ['-I', inc, '-c', '../src/a.c', '-o', 'spell.o', '-MD', '-MF', 'spell.d']
      },
      ['spell.o', 'spell.d'],
    )
    assert.equal(hit, false)
  })

  it('relative paths share in preprocessor and both modes', async () => {
    for (const mode of ['preprocessor', 'both']) {
      const hit = await twoCheckouts(
        COMPILERS.gcc,
        () => ['-I../inc', '-c', '../src/a.c', '-o', `${mode}.o`],
        [`${mode}.o`],
        { MESHCC_CACHE_MODE: mode },
        mode === 'both' ? ['c3', 'c4'] : ['c1', 'c2'],
      )
      assert.equal(hit, true, mode)
    }
  })

  it('each cache mode: miss, hit, header edit is a miss', async () => {
    const cwd = join(base, 'c1', 'build')
    // A distinct -O per mode: entries of other tests (or modes) must not answer.
    const opt = { direct: '-O1', preprocessor: '-O2', both: '-Os' } as const
    for (const mode of ['direct', 'preprocessor', 'both'] as const) {
      const env = { MESHCC_CACHE_MODE: mode }
      const args = ['-I../inc', opt[mode], '-c', '../src/a.c', '-o', `mode-${mode}.o`]
      const c0 = fx.counters()
      await fx.compile(cwd, COMPILERS.gcc, args, { env })
      const c1 = fx.counters()
      assert.equal(c1.cache_misses, c0.cache_misses + 1, `${mode}: miss`)
      await fx.compile(cwd, COMPILERS.gcc, args, { env })
      const c2 = fx.counters()
      const kind = mode === 'preprocessor' ? 'cache_hits_preprocessed' : 'cache_hits_direct'
      assert.equal(c2[kind], c1[kind] + 1, `${mode}: hit`)
      fx.write({ 'base/c1/inc/a.h': `#define A ${mode.length}\n` })
      await fx.compile(cwd, COMPILERS.gcc, args, { env })
      assert.equal(fx.counters().cache_misses, c2.cache_misses + 1, `${mode}: header edit`)
      plainCompile(cwd, COMPILERS.gcc, [...args.slice(0, -1), 'plain.o'])
      assert.ok(
        readFileSync(join(cwd, `mode-${mode}.o`)).equals(readFileSync(join(cwd, 'plain.o'))),
      )
      fx.write({ 'base/c1/inc/a.h': FILES['inc/a.h'] })
    }
  })

  it("'both' finds a preprocessor-mode entry and records the manifest for a direct hit", async () => {
    const cwd = join(base, 'c1', 'build')
    const args = ['-I../inc', '-DBOTH_TEST', '-c', '../src/a.c', '-o', 'both.o']
    await fx.compile(cwd, COMPILERS.clang, args, { env: { MESHCC_CACHE_MODE: 'preprocessor' } })
    const c1 = fx.counters()
    await fx.compile(cwd, COMPILERS.clang, args, { env: { MESHCC_CACHE_MODE: 'both' } })
    const c2 = fx.counters()
    assert.equal(c2.cache_hits_preprocessed, c1.cache_hits_preprocessed + 1)
    await fx.compile(cwd, COMPILERS.clang, args, { env: { MESHCC_CACHE_MODE: 'both' } })
    assert.equal(fx.counters().cache_hits_direct, c2.cache_hits_direct + 1)
  })
})
