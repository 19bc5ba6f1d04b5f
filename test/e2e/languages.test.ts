/**
 * End-to-end, prefix form (`bin/meshcc <compiler> -c …`): real C, C++, Objective-C and
 * Objective-C++ sources from examples/, compiled by gcc/g++ and clang/clang++ through the native
 * client and a real daemon. Each compile is a miss, then (objects deleted) a hit, and both
 * objects are byte-identical to the compiler run directly with the same arguments.
 */
import assert from 'node:assert/strict'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import {
  compareWithPlain,
  copyExample,
  delta,
  gccIncludeDir,
  hasCommand,
  hasGccObjc,
  makeNode,
  missingPrerequisite,
  type TestNode,
} from '../helpers/e2e.ts'

interface Case {
  name: string
  compiler: string
  example: string
  source: string
  flags: string[]
  skip?: string | false
}

const objcInclude = hasCommand('gcc') ? ['-I', gccIncludeDir()] : []
const cases: Case[] = [
  {
    name: 'C with gcc',
    compiler: 'gcc',
    example: 'hello',
    source: 'hello.c',
    flags: ['-O2', '-Wall'],
  },
  {
    name: 'C with clang',
    compiler: 'clang',
    example: 'hello',
    source: 'greet.c',
    flags: ['-O2', '-g'],
  },
  {
    name: 'C++ with g++',
    compiler: 'g++',
    example: 'cpp',
    source: 'shapes.cpp',
    flags: ['-std=c++20', '-O1'],
  },
  {
    name: 'C++ with clang++',
    compiler: 'clang++',
    example: 'cpp',
    source: 'main.cpp',
    flags: ['-std=c++20', '-g'],
  },
  {
    name: 'Objective-C with gcc (.m)',
    compiler: 'gcc',
    example: 'objc',
    source: 'counter.m',
    flags: ['-O2'],
  },
  {
    name: 'Objective-C with gcc -x objective-c',
    compiler: 'gcc',
    example: 'objc',
    source: 'main.m',
    flags: ['-x', 'objective-c', '-g'],
  },
  {
    name: 'Objective-C with clang',
    compiler: 'clang',
    example: 'objc',
    source: 'counter.m',
    flags: [...objcInclude, '-O2'],
  },
  {
    name: 'Objective-C++ with g++ (.mm)',
    compiler: 'g++',
    example: 'objcxx',
    source: 'tally.mm',
    flags: ['-O2'],
  },
  {
    name: 'Objective-C++ with clang++',
    compiler: 'clang++',
    example: 'objcxx',
    source: 'tally.mm',
    flags: [...objcInclude, '-g'],
  },
]
for (const c of cases) {
  if (!hasCommand(c.compiler)) c.skip = `${c.compiler} is not installed`
  else if (c.compiler.startsWith('g') && c.source.endsWith('.m') && !hasGccObjc('objective-c')) {
    c.skip = 'gobjc is not installed'
  } else if (c.compiler === 'g++' && c.source.endsWith('.mm') && !hasGccObjc('objective-c++')) {
    c.skip = 'gobjc++ is not installed'
  }
}

const prerequisite = missingPrerequisite()

describe('prefix form: every language, miss then hit, objects identical to plain', {
  skip: prerequisite ?? false,
}, () => {
  let node: TestNode
  before(() => {
    node = makeNode('lang')
  })
  after(async () => {
    await node?.stop()
  })

  for (const c of cases) {
    test(c.name, { skip: c.skip ?? false }, async () => {
      const cwd = copyExample(c.example, join(node.dir, `${c.example}-${c.compiler}-${c.source}`))
      const out = c.source.replace(/\.\w+$/, '.o')
      const args = [...c.flags, '-c', c.source, '-o', out]

      const s0 = await node.stats()
      const miss = await node.meshcc([c.compiler, ...args], { cwd })
      assert.equal(miss.status, 0, `miss failed: ${miss.stderr}`)
      const s1 = await node.stats()
      assert.deepEqual(
        { hits: delta(s0, s1).cache_hits, misses: delta(s0, s1).cache_misses },
        { hits: 0, misses: 1 },
        'first compile counts as one miss',
      )
      const missCmp = await compareWithPlain(c.compiler, args, cwd, [out], node.env)
      assert.ok(missCmp.allEqual, 'object from the miss is byte-identical to plain')
      assert.equal(miss.stderr.toString(), missCmp.plainRun.stderr.toString(), 'stderr as plain')

      await rm(join(cwd, out))
      const hit = await node.meshcc([c.compiler, ...args], { cwd })
      assert.equal(hit.status, 0, `hit failed: ${hit.stderr}`)
      assert.deepEqual(hit.stderr.toString(), miss.stderr.toString(), 'same diagnostics on a hit')
      const s2 = await node.stats()
      assert.deepEqual(
        { hits: delta(s1, s2).cache_hits, misses: delta(s1, s2).cache_misses },
        { hits: 1, misses: 0 },
        'second compile counts as one hit',
      )
      const hitCmp = await compareWithPlain(c.compiler, args, cwd, [out], node.env)
      assert.ok(hitCmp.allEqual, 'object from the hit is byte-identical to plain')
    })
  }
})
