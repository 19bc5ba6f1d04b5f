/**
 * End-to-end: two checkouts of the same project in two directories.
 * - relative paths, no -g: the second checkout hits, and its objects equal its own plain build;
 * - -g with -fdebug-prefix-map=<checkout>=. : the output no longer depends on the directory, so
 *   the second checkout hits, and its objects equal its own plain build;
 * - -g without maps: DW_AT_comp_dir differs, so the second checkout must not take the first's
 *   object; whatever meshcc does, the object equals the second checkout's own plain compile;
 * - a header that differs between the checkouts is never served from the other checkout.
 */
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import {
  compareWithPlain,
  copyExample,
  delta,
  hasCommand,
  makeNode,
  missingPrerequisite,
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

  /** Copies examples/make into two sibling checkouts under `label`. */
  function twoCheckouts(label: string): [string, string] {
    return [
      copyExample('make', join(node.dir, label, 'checkout-a')),
      copyExample('make', join(node.dir, label, 'work', 'checkout-b')),
    ]
  }

  async function compileBoth(
    a: string,
    b: string,
    args: (dir: string) => string[],
    compiler = 'gcc',
  ) {
    const s0 = await node.stats()
    const ra = await node.meshcc([compiler, ...args(a)], { cwd: a })
    assert.equal(ra.status, 0, ra.stderr.toString())
    const s1 = await node.stats()
    const rb = await node.meshcc([compiler, ...args(b)], { cwd: b })
    assert.equal(rb.status, 0, rb.stderr.toString())
    const s2 = await node.stats()
    return { first: delta(s0, s1), second: delta(s1, s2) }
  }

  test('relative paths without -g: the second checkout hits, objects as its plain build', async () => {
    const [a, b] = twoCheckouts('relative')
    const args = () => ['-O2', '-Iinclude', '-c', 'src/text.c', '-o', 'text.o']
    const { first, second } = await compileBoth(a, b, args)
    assert.equal(first.cache_misses, 1)
    assert.equal(second.cache_hits, 1, 'shared between checkouts')
    assert.ok((await compareWithPlain('gcc', args(), b, ['text.o'])).allEqual)
  })

  test('relative paths with -MMD: the depfile of the hit is right for the second checkout', async () => {
    const [a, b] = twoCheckouts('relative-md')
    const args = () => ['-O2', '-Iinclude', '-MMD', '-MP', '-c', 'src/main.c', '-o', 'main.o']
    const { second } = await compileBoth(a, b, args)
    assert.equal(second.cache_hits, 1)
    const cmp = await compareWithPlain('gcc', args(), b, ['main.o', 'main.d'])
    assert.deepEqual(cmp.differing, [])
  })

  test('-g with -fdebug-prefix-map=<checkout>=. : shared, objects as plain', async () => {
    const [a, b] = twoCheckouts('prefix-map')
    const args = (dir: string) => [
      '-O2',
      '-g',
      `-fdebug-prefix-map=${dir}=.`,
      '-Iinclude',
      '-c',
      'src/list.c',
      '-o',
      'list.o',
    ]
    const { first, second } = await compileBoth(a, b, args)
    assert.equal(first.cache_misses, 1)
    assert.equal(second.cache_hits, 1, 'the mapped output does not depend on the checkout: shared')
    const cmp = await compareWithPlain('gcc', args(b), b, ['list.o'])
    assert.ok(cmp.allEqual, 'identical to a plain compile in the second checkout')
    assert.ok(!readFileSync(join(b, 'list.o')).includes(a), 'no trace of the first checkout')
  })

  test('-g with -ffile-prefix-map and clang: shared, objects as plain', {
    skip: !hasCommand('clang'),
  }, async () => {
    const [a, b] = twoCheckouts('file-prefix-map')
    const args = (dir: string) => [
      '-g',
      `-ffile-prefix-map=${dir}=.`,
      '-Iinclude',
      '-c',
      'src/text.c',
      '-o',
      'text.o',
    ]
    const { second } = await compileBoth(a, b, args, 'clang')
    assert.equal(second.cache_hits, 1)
    assert.ok((await compareWithPlain('clang', args(b), b, ['text.o'])).allEqual)
  })

  test('-g without maps: not shared (comp_dir differs), object correct for each checkout', async () => {
    const [a, b] = twoCheckouts('debug-nomap')
    const args = () => ['-O2', '-g', '-Iinclude', '-c', 'src/main.c', '-o', 'main.o']
    const { second } = await compileBoth(a, b, args)
    assert.equal(second.cache_hits, 0, 'an object naming checkout-a is never served to checkout-b')
    const cmp = await compareWithPlain('gcc', args(), b, ['main.o'])
    assert.ok(cmp.allEqual, 'identical to a plain compile in the second checkout')
    assert.ok(readFileSync(join(b, 'main.o')).includes(b), 'records its own directory')
  })

  test('a header that differs between the checkouts is never served from the other one', async () => {
    const [a, b] = twoCheckouts('diverged')
    const header = join(b, 'include', 'list.h')
    writeFileSync(
      header,
      readFileSync(header, 'utf8').replace('struct list {', 'struct list {\n  int generation;'),
    )
    const args = () => ['-O2', '-Iinclude', '-c', 'src/list.c', '-o', 'list.o']
    // Warm the first checkout twice so a direct-mode manifest exists for it.
    await compileBoth(a, a, args)
    const s0 = await node.stats()
    const r = await node.meshcc(['gcc', ...args()], { cwd: b })
    assert.equal(r.status, 0)
    assert.equal(delta(s0, await node.stats()).cache_hits, 0, 'different header: a miss')
    assert.ok((await compareWithPlain('gcc', args(), b, ['list.o'])).allEqual)
  })
})
