/**
 * End-to-end: two checkouts of the same project (examples/make copied to two directories).
 *
 * The rule meshcc must follow: share a result between checkouts exactly when the output is the
 * same. Each case first asks the oracle — the plain compiler run in both checkouts — whether the
 * outputs are identical, then checks that meshcc hit in the second checkout if and only if they
 * are (where the case expects sharing at all), and that the second checkout's files are
 * byte-identical to its own plain compile either way.
 *
 * Cases: relative paths (shared without any setting); absolute paths with MESHCC_BASE_DIR
 * (shared, with the dependency file naming the second checkout's paths); -g with
 * -fdebug-prefix-map / -ffile-prefix-map and MESHCC_BASE_DIR (shared, ccache's base_dir rule);
 * the same maps without a base dir (correct, not required to share); -g without maps (never
 * shared: DW_AT_comp_dir differs); a header that differs between the checkouts (never shared).
 */
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import {
  cleanEnv,
  compareWithPlain,
  copyExample,
  delta,
  hasCommand,
  makeNode,
  missingPrerequisite,
  mustRun,
  type TestNode,
} from '../helpers/e2e.ts'

const prerequisite = missingPrerequisite()

describe('two checkouts', { skip: prerequisite ?? false }, () => {
  let node: TestNode
  before(() => {
    node = makeNode('checkouts')
  })
  after(async () => {
    await node?.stop()
  })

  /** Copies examples/make into two checkouts under `<node.dir>/<label>`, at different depths. */
  function twoCheckouts(label: string): { parent: string; a: string; b: string } {
    const parent = join(node.dir, label)
    return {
      parent,
      a: copyExample('make', join(parent, 'checkout-a')),
      b: copyExample('make', join(parent, 'work', 'checkout-b')),
    }
  }

  interface Case {
    compiler?: string
    /** Arguments for a checkout (they may name its absolute path). */
    args: (dir: string) => string[]
    /** Outputs to compare, relative to the checkout. */
    outputs: string[]
    env?: NodeJS.ProcessEnv
  }

  /** Whether the plain compiler gives byte-identical outputs in both checkouts. */
  async function oracleSame(c: Case, a: string, b: string): Promise<boolean> {
    const compiler = c.compiler ?? 'gcc'
    const read = async (dir: string) => {
      await mustRun(compiler, c.args(dir), { cwd: dir, env: cleanEnv() })
      return c.outputs.map((o) => readFileSync(join(dir, o)))
    }
    const [pa, pb] = [await read(a), await read(b)]
    return pa.every((x, i) => x.equals(pb[i]!))
  }

  /** Compiles in A then in B through meshcc; returns B's stats delta, checks B against plain. */
  async function run(c: Case, a: string, b: string) {
    const compiler = c.compiler ?? 'gcc'
    const env = c.env ?? {}
    const ra = await node.meshcc([compiler, ...c.args(a)], { cwd: a, env })
    assert.equal(ra.status, 0, ra.stderr.toString())
    const s1 = await node.stats()
    const rb = await node.meshcc([compiler, ...c.args(b)], { cwd: b, env })
    assert.equal(rb.status, 0, rb.stderr.toString())
    const second = delta(s1, await node.stats())
    const cmp = await compareWithPlain(compiler, c.args(b), b, c.outputs)
    assert.deepEqual(cmp.differing, [], "second checkout's outputs identical to its plain compile")
    return second
  }

  test('relative paths, no -g, no setting: shared', async () => {
    const { a, b } = twoCheckouts('relative')
    const c: Case = {
      args: () => ['-O2', '-Iinclude', '-MMD', '-MP', '-c', 'src/text.c', '-o', 'text.o'],
      outputs: ['text.o', 'text.d'],
    }
    assert.ok(await oracleSame(c, a, b), 'oracle: plain outputs are the same')
    assert.equal((await run(c, a, b)).cache_hits, 1, 'shared between checkouts')
  })

  test('absolute paths with MESHCC_BASE_DIR: shared, depfile names the second checkout', async () => {
    const { parent, a, b } = twoCheckouts('absolute')
    const c: Case = {
      args: (d) => [
        '-O2',
        `-I${d}/include`,
        '-MMD',
        '-MF',
        `${d}/main.d`,
        '-c',
        `${d}/src/main.c`,
        '-o',
        `${d}/main.o`,
      ],
      outputs: ['main.o', 'main.d'],
      env: { MESHCC_BASE_DIR: parent },
    }
    // Objects are equal (gcc names only the base name without -g); depfiles name each checkout.
    await oracleSame(c, a, b)
    const second = await run(c, a, b)
    assert.equal(second.cache_hits, 1, 'shared under the base directory')
    const dep = readFileSync(join(b, 'main.d'), 'utf8')
    assert.ok(dep.includes(b) && !dep.includes(a), 'the depfile names only the second checkout')
  })

  test('-g with -fdebug-prefix-map=<checkout>=. and MESHCC_BASE_DIR: shared', async () => {
    const { parent, a, b } = twoCheckouts('debug-prefix-map')
    const c: Case = {
      args: (d) => [
        '-O2',
        '-g',
        `-fdebug-prefix-map=${d}=.`,
        '-Iinclude',
        '-c',
        'src/list.c',
        '-o',
        'list.o',
      ],
      outputs: ['list.o'],
      env: { MESHCC_BASE_DIR: parent },
    }
    assert.ok(await oracleSame(c, a, b), 'oracle: the map makes the outputs the same')
    assert.equal((await run(c, a, b)).cache_hits, 1)
    assert.ok(!readFileSync(join(b, 'list.o')).includes(a), 'no trace of the first checkout')
  })

  test('-g with -ffile-prefix-map, clang, absolute paths, MESHCC_BASE_DIR: shared', {
    skip: !hasCommand('clang'),
  }, async () => {
    const { parent, a, b } = twoCheckouts('file-prefix-map')
    const c: Case = {
      compiler: 'clang',
      args: (d) => [
        '-g',
        `-ffile-prefix-map=${d}=.`,
        `-I${d}/include`,
        '-c',
        `${d}/src/text.c`,
        '-o',
        'text.o',
      ],
      outputs: ['text.o'],
      env: { MESHCC_BASE_DIR: parent },
    }
    assert.ok(await oracleSame(c, a, b), 'oracle: the map makes the outputs the same')
    assert.equal((await run(c, a, b)).cache_hits, 1)
  })

  test('-g with a prefix map but no base dir: correct in both checkouts', async () => {
    const { a, b } = twoCheckouts('map-no-base')
    const c: Case = {
      args: (d) => [
        '-O2',
        '-g',
        `-fdebug-prefix-map=${d}=.`,
        '-Iinclude',
        '-c',
        'src/list.c',
        '-o',
        'list.o',
      ],
      outputs: ['list.o'],
    }
    await run(c, a, b) // asserts the second checkout's object equals its plain compile
  })

  for (const base of [false, true]) {
    test(`-g without maps${base ? ' (even with MESHCC_BASE_DIR)' : ''}: never shared, correct`, async () => {
      const { parent, a, b } = twoCheckouts(`debug-nomap-${base}`)
      const c: Case = {
        args: () => ['-O2', '-g', '-Iinclude', '-c', 'src/main.c', '-o', 'main.o'],
        outputs: ['main.o'],
        ...(base ? { env: { MESHCC_BASE_DIR: parent } } : {}),
      }
      assert.ok(!(await oracleSame(c, a, b)), 'oracle: DW_AT_comp_dir makes the outputs differ')
      assert.equal(
        (await run(c, a, b)).cache_hits,
        0,
        'an object naming checkout-a is never served to b',
      )
      assert.ok(readFileSync(join(b, 'main.o')).includes(b), 'records its own directory')
    })
  }

  test('__FILE__ with absolute paths and MESHCC_BASE_DIR: never shared (the safety net)', async () => {
    const { parent, a, b } = twoCheckouts('absolute-file-macro')
    // The key is the same in both checkouts (paths under the base dir are made relative), but
    // the object embeds the absolute source path: only the safety net can keep them apart.
    for (const d of [a, b]) {
      writeFileSync(join(d, 'src', 'where.c'), 'const char *where(void) { return __FILE__; }\n')
    }
    const c: Case = {
      args: (d) => ['-O2', `-I${d}/include`, '-c', `${d}/src/where.c`, '-o', `${d}/where.o`],
      outputs: ['where.o'],
      env: { MESHCC_BASE_DIR: parent },
    }
    assert.ok(!(await oracleSame(c, a, b)), 'oracle: the objects name their checkout')
    assert.equal((await run(c, a, b)).cache_hits, 0, "the first checkout's object is not served")
    assert.ok(!readFileSync(join(b, 'where.o')).includes(a))
  })

  for (const base of [false, true]) {
    test(`a header that differs between the checkouts is never served from the other one${base ? ' (MESHCC_BASE_DIR)' : ''}`, async () => {
      const { parent, a, b } = twoCheckouts(`diverged-${base}`)
      const header = join(b, 'include', 'list.h')
      writeFileSync(
        header,
        readFileSync(header, 'utf8').replace('struct list {', 'struct list {\n  int generation;'),
      )
      const env = base ? { MESHCC_BASE_DIR: parent } : {}
      const c: Case = {
        args: (d) => ['-O2', `-I${d}/include`, '-c', 'src/list.c', '-o', 'list.o'],
        outputs: ['list.o'],
        env,
      }
      assert.ok(!(await oracleSame(c, a, b)), 'oracle: the objects differ')
      // Twice in A first, so a direct-mode manifest exists for it before B asks.
      await node.meshcc(['gcc', ...c.args(a)], { cwd: a, env })
      assert.equal((await run(c, a, b)).cache_hits, 0, 'different header: a miss')
    })
  }
})
