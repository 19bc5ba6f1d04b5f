/**
 * The working directory as the compiler records it: entered through a symlink (PWD names the
 * link), gcc and clang write the link's path into -g objects and coverage notes, so the key must
 * tell it from the same directory entered directly.
 */
import assert from 'node:assert/strict'
import { readFileSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { CompileReply } from '../../src/compile/types.ts'
import {
  COMPILERS,
  createFixture,
  type Fixture,
  plainCompile,
  removeFiles,
} from './pipeline-fixture.ts'

describe('pipeline: $PWD through a symlink', () => {
  let fx: Fixture
  let real: string
  let link: string
  before(async () => {
    fx = await createFixture()
    fx.write({ 'real/w.c': 'int w(int x) { return x * 7; }\n' })
    real = join(fx.root, 'real')
    link = join(fx.root, 'link')
    symlinkSync(real, link)
  })
  after(() => fx.close())

  const done = (reply: CompileReply) => {
    assert.equal(reply.kind, 'done', JSON.stringify(reply))
    if (reply.kind !== 'done') throw new Error('unreachable')
    assert.equal(reply.exitCode, 0, Buffer.from(reply.stderr).toString())
  }

  const cases: [string, string, string[], string[]][] = [
    ['gcc -g', COMPILERS.gcc, ['-g'], []],
    ['clang -g', COMPILERS.clang, ['-g'], []],
    ['gcc --coverage', COMPILERS.gcc, ['--coverage', '-frandom-seed=1'], ['.gcno']],
  ]
  for (const [name, compiler, flags, extras] of cases) {
    it(`${name}: no hit shared between the link and the real path; each object is right`, async () => {
      const base = name.replace(/\W+/g, '-')
      const files = [`${base}.o`, ...extras.map((e) => `${base}${e}`)]
      const args = [...flags, '-c', 'w.c', '-o', `${base}.o`]
      const objects = new Map<string, Buffer>()
      const run = async (which: 'direct' | 'link', want: 'hit' | 'miss') => {
        const env = { PWD: which === 'link' ? link : real }
        removeFiles(real, files)
        const before = fx.counters()
        done(await fx.compile(real, compiler, args, { env }))
        const after = fx.counters()
        assert.equal(
          after.cache_hits - before.cache_hits,
          want === 'hit' ? 1 : 0,
          `${which} ${want}`,
        )
        const got = files.map((f) => readFileSync(join(real, f)))
        removeFiles(real, files)
        assert.equal(plainCompile(real, compiler, args, env).exitCode, 0)
        for (const [i, data] of got.entries()) {
          assert.ok(data.equals(readFileSync(join(real, files[i] ?? ''))), `${which}: ${files[i]}`)
        }
        objects.set(which, got[0] ?? Buffer.alloc(0))
      }
      await run('direct', 'miss')
      await run('link', 'miss')
      await run('direct', 'hit')
      await run('link', 'hit')
      // Otherwise the test would prove nothing.
      assert.ok(!objects.get('direct')?.equals(objects.get('link') ?? Buffer.alloc(0)))
    })
  }
})
