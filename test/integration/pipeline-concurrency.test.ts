/**
 * Concurrent requests through one handler: several compiles of the same and of different
 * translation units at once all succeed, every object equals a plain compile, and identical
 * concurrent misses compile once (the others wait and replay the result as hits).
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { CompileReply } from '../../src/compile/types.ts'
import { COMPILERS, createFixture, type Fixture, plainCompile, text } from './pipeline-fixture.ts'

describe('pipeline concurrency', () => {
  let fx: Fixture
  const N = 6
  before(async () => {
    fx = await createFixture()
    const files: Record<string, string> = { 'c/common.h': '#define K 3\n' }
    for (let i = 0; i < N; i++)
      files[`c/u${i}.c`] = `#include "common.h"\nint u${i}(void) { return K + ${i}; }\n`
    fx.write(files)
  })
  after(() => fx.close())

  it('serves 3 rounds of N sources × 3 concurrent requests', async () => {
    const cwd = join(fx.root, 'c')
    for (let i = 0; i < N; i++) plainCompile(cwd, COMPILERS.gcc, ['-c', `u${i}.c`, '-o', `p${i}.o`])
    for (let round = 0; round < 3; round++) {
      const jobs = []
      for (let i = 0; i < N; i++)
        for (let j = 0; j < 3; j++)
          jobs.push(fx.compile(cwd, COMPILERS.gcc, ['-c', `u${i}.c`, '-o', `o${i}-${j}.o`, '-MD']))
      const replies = await Promise.all(jobs)
      for (const r of replies) assert.equal(r.kind === 'done' && r.exitCode, 0, JSON.stringify(r))
      for (let i = 0; i < N; i++)
        for (let j = 0; j < 3; j++)
          assert.ok(
            readFileSync(join(cwd, `o${i}-${j}.o`)).equals(readFileSync(join(cwd, `p${i}.o`))),
          )
    }
    const c = fx.counters()
    assert.equal(c.cache_hits + c.cache_misses, N * 3 * 3)
    assert.equal(c.local_compiles, N, 'one compile per translation unit')
    assert.equal(c.local_fallbacks, 0)
  })

  const ok = (r: CompileReply) => {
    assert.equal(r.kind === 'done' && r.exitCode, 0, JSON.stringify(r))
  }

  it('identical concurrent misses: one compile, the others hit with their own outputs', async () => {
    fx.write({ 'd/same.h': '#define S 5\n', 'd/same.c': '#include "same.h"\nint s = S;\n' })
    const cwd = join(fx.root, 'd')
    assert.equal(plainCompile(cwd, COMPILERS.gcc, ['-c', 'same.c', '-o', 'plain.o']).exitCode, 0)
    const before = fx.counters()
    const M = 8
    const jobs = []
    for (let j = 0; j < M; j++) {
      jobs.push(
        fx.compile(cwd, COMPILERS.gcc, ['-MD', '-MT', `t${j}`, '-c', 'same.c', '-o', `s${j}.o`]),
      )
    }
    for (const r of await Promise.all(jobs)) ok(r)
    const after = fx.counters()
    assert.equal(after.local_compiles - before.local_compiles, 1, 'one compile')
    assert.equal(after.cache_misses - before.cache_misses, 1)
    assert.equal(after.cache_hits - before.cache_hits, M - 1)
    assert.equal(fx.handler.inFlight.size, 0, 'nothing left in flight')
    const plain = readFileSync(join(cwd, 'plain.o'))
    for (let j = 0; j < M; j++) {
      assert.ok(readFileSync(join(cwd, `s${j}.o`)).equals(plain), `s${j}.o`)
      const dep = readFileSync(join(cwd, `s${j}.d`), 'utf8')
      assert.match(dep, new RegExp(`^t${j}: same\\.c .*same\\.h\\n$`), `s${j}.d: ${dep}`)
    }
  })

  it('a compile error: every waiting request compiles itself and gets its exact output', async () => {
    fx.write({ 'e/bad.c': 'int bad(void) { return missing; }\n' })
    const cwd = join(fx.root, 'e')
    const args = ['-c', 'bad.c', '-o', 'bad.o']
    const plain = plainCompile(cwd, COMPILERS.gcc, args)
    assert.notEqual(plain.exitCode, 0)
    const before = fx.counters()
    const M = 4
    const replies = await Promise.all(
      Array.from({ length: M }, () => fx.compile(cwd, COMPILERS.gcc, args)),
    )
    for (const r of replies) {
      assert.equal(r.kind, 'done')
      if (r.kind !== 'done') continue
      assert.equal(r.exitCode, plain.exitCode)
      assert.equal(text(r.stderr), plain.stderr)
      assert.equal(text(r.stdout), plain.stdout)
    }
    const after = fx.counters()
    assert.equal(after.local_compiles - before.local_compiles, M)
    assert.equal(after.compile_failures - before.compile_failures, M)
    assert.equal(after.cache_hits, before.cache_hits)
  })

  it('two checkouts with one direct key but different headers: each gets its own object', async () => {
    // Under MESHCC_BASE_DIR the two checkouts compute the same direct key; the header differs,
    // so the one that waited must not take the other's result.
    const files: Record<string, string> = {}
    for (const [co, k] of [
      ['co1', 1],
      ['co2', 2],
    ] as const) {
      files[`${co}/src/k.h`] = `#define KK ${k}\n`
      files[`${co}/src/k.c`] = '#include "k.h"\nint kk = KK;\n'
    }
    fx.write(files)
    const env = { MESHCC_BASE_DIR: fx.root }
    const args = ['-c', 'k.c', '-o', 'k.o']
    const dirs = [join(fx.root, 'co1', 'src'), join(fx.root, 'co2', 'src')]
    const before = fx.counters()
    const replies = await Promise.all(
      dirs.map((cwd) => fx.compile(cwd, COMPILERS.gcc, args, { env })),
    )
    for (const r of replies) ok(r)
    assert.equal(fx.counters().local_compiles - before.local_compiles, 2)
    assert.ok(
      fx.logLines.some((line) => line.includes('coalesced miss compiles itself')),
      'the second one waited for the first',
    )
    for (const cwd of dirs) {
      const got = readFileSync(join(cwd, 'k.o'))
      assert.equal(plainCompile(cwd, COMPILERS.gcc, ['-c', 'k.c', '-o', 'p.o']).exitCode, 0)
      assert.ok(got.equals(readFileSync(join(cwd, 'p.o'))), cwd)
    }
  })
})
