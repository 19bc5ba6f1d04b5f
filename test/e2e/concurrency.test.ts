/**
 * End-to-end: 200 wrapper invocations at once against a node whose daemon is not running yet, so
 * they also race to start it. Every one must succeed with an object byte-identical to the plain
 * compiler's, and every invocation must be accounted for in `meshcc stats`.
 */
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import {
  delta,
  eventually,
  makeNode,
  missingPrerequisite,
  mustRun,
  type Stats,
  type TestNode,
} from '../helpers/e2e.ts'

const prerequisite = missingPrerequisite()
const INVOCATIONS = 200
const SOURCES = 40

describe('200 concurrent wrapper invocations', { skip: prerequisite ?? false }, () => {
  let node: TestNode
  before(() => {
    node = makeNode('concurrent')
  })
  after(async () => {
    await node?.stop()
  })

  test('all succeed with correct objects, and all are counted', { timeout: 300_000 }, async (t) => {
    const cwd = join(node.dir, 'work')
    mkdirSync(join(cwd, 'src'), { recursive: true })
    mkdirSync(join(cwd, 'out'))
    mkdirSync(join(cwd, 'ref'))
    writeFileSync(join(cwd, 'src', 'common.h'), '#define SCALE(x) ((x) * 3 + 1)\n')
    for (let i = 0; i < SOURCES; i++) {
      writeFileSync(
        join(cwd, 'src', `f${i}.c`),
        `#include "common.h"\nint f${i}(int x) { return SCALE(x) + ${i}; }\n`,
      )
    }
    // References: each source compiled once by the plain compiler.
    for (let i = 0; i < SOURCES; i++) {
      await mustRun('gcc', ['-O2', '-c', `src/f${i}.c`, '-o', `ref/f${i}.o`], { cwd })
    }

    // No daemon yet: the first invocations race to start it.
    assert.equal(node.daemonPid(), undefined)
    const runs = Array.from({ length: INVOCATIONS }, (_, k) => {
      const i = k % SOURCES
      return node
        .meshcc(['gcc', '-O2', '-c', `src/f${i}.c`, '-o', `out/${k}.o`], { cwd })
        .then((r) => ({ k, i, r }))
    })
    const results = await Promise.all(runs)
    const failed = results.filter(({ r }) => r.status !== 0 || r.stderr.length > 0)
    assert.deepEqual(
      failed.map(
        ({ k, r }) => `#${k}: exit ${r.status ?? r.signal} ${r.stderr.toString().slice(0, 200)}`,
      ),
      [],
      'every invocation succeeded silently',
    )
    const wrong = results.filter(
      ({ k, i }) =>
        !readFileSync(join(cwd, 'out', `${k}.o`)).equals(readFileSync(join(cwd, 'ref', `f${i}.o`))),
    )
    assert.deepEqual(
      wrong.map(({ k }) => k),
      [],
      'every object identical to the plain compile',
    )

    const zero: Stats = {
      cache_hits: 0,
      cache_misses: 0,
      uncacheable: 0,
      local_compiles: 0,
      remote_compiles: 0,
      local_fallbacks: 0,
    }
    let last = zero
    const counted = await eventually(async () => {
      last = await node.stats()
      const d = delta(zero, last)
      return d.cache_hits + d.cache_misses + d.local_fallbacks + d.uncacheable >= INVOCATIONS
    }, 10_000)
    const d = delta(zero, last)
    t.diagnostic(`stats after ${INVOCATIONS} concurrent invocations: ${JSON.stringify(d)}`)
    assert.ok(counted, `all ${INVOCATIONS} invocations counted: ${JSON.stringify(d)}`)
    assert.ok(
      d.cache_misses >= SOURCES - d.local_fallbacks,
      'each distinct source compiled at least once',
    )
    assert.ok(d.cache_hits > 0, 'repeats were served from the cache')
    assert.equal(d.cache_hits + d.cache_misses + d.local_fallbacks + d.uncacheable, INVOCATIONS)
  })
})
