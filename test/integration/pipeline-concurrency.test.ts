/**
 * Concurrent requests through one handler: several compiles of the same and of different
 * translation units at once all succeed, and every object equals a plain compile.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { COMPILERS, createFixture, type Fixture, plainCompile } from './pipeline-fixture.ts'

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
    assert.ok(c.cache_hits >= N * 3 * 2, `later rounds hit (${c.cache_hits})`)
    assert.equal(c.local_fallbacks, 0)
  })
})
