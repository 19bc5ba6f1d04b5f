/**
 * Miss then hit through the pipeline, for every language and compiler, compared byte for byte
 * with a plain compile of the same command line: object, depfile, stderr, exit code.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import {
  COMPILERS,
  createFixture,
  type Fixture,
  plainCompile,
  removeFiles,
  snapshotFiles,
  text,
} from './pipeline-fixture.ts'

const C_SRC = `#include <stdio.h>
#include "inc/util.h"
int main(void) { int unused; printf("%d\\n", UTIL_VALUE); return 0; }
`
const CXX_SRC = `#include <vector>
#include "inc/util.h"
int f() { std::vector<int> v{UTIL_VALUE}; int unused; return v[0]; }
`
const OBJC_SRC = `#include "inc/util.h"
@interface Root { int x; } - (int)get; @end
@implementation Root - (int)get { return x + UTIL_VALUE; } @end
`

interface Case {
  name: string
  compiler: string
  source: string
  args?: string[]
}

const CASES: Case[] = [
  { name: 'gcc C', compiler: COMPILERS.gcc, source: 'a.c' },
  { name: 'clang C', compiler: COMPILERS.clang, source: 'a.c' },
  { name: 'g++ C++', compiler: COMPILERS.gxx, source: 'b.cpp' },
  { name: 'clang++ C++', compiler: COMPILERS.clangxx, source: 'b.cpp' },
  { name: 'gcc Objective-C (.m)', compiler: COMPILERS.gcc, source: 'o.m' },
  {
    name: 'gcc -x objective-c',
    compiler: COMPILERS.gcc,
    source: 'oc.c',
    args: ['-x', 'objective-c'],
  },
  { name: 'clang Objective-C', compiler: COMPILERS.clang, source: 'o.m' },
  { name: 'g++ Objective-C++ (.mm)', compiler: COMPILERS.gxx, source: 'o.mm' },
  { name: 'clang++ Objective-C++', compiler: COMPILERS.clangxx, source: 'o.mm' },
]

const VARIANTS: { name: string; args: string[]; outputs: string[] }[] = [
  { name: 'plain -Wall', args: ['-Wall'], outputs: [] },
  { name: '-g -MD', args: ['-g', '-MD'], outputs: ['out/x.d'] },
  {
    name: '-MMD -MP -MF -MT -MQ',
    args: ['-O1', '-MMD', '-MP', '-MF', 'deps/x.dep', '-MT', 'tgt$1', '-MQ', 'q t$2'],
    outputs: ['deps/x.dep'],
  },
]

describe('pipeline: miss then hit equals a plain compile', () => {
  let fx: Fixture
  before(async () => {
    fx = await createFixture()
    fx.write({
      'src/a.c': C_SRC,
      'src/b.cpp': CXX_SRC,
      'src/o.m': OBJC_SRC,
      'src/oc.c': OBJC_SRC,
      'src/o.mm': OBJC_SRC,
      'src/inc/util.h': '#define UTIL_VALUE 42\n',
      'src/out/.keep': '',
      'src/deps/.keep': '',
    })
  })
  after(() => fx.close())

  for (const c of CASES) {
    for (const v of VARIANTS) {
      it(`${c.name}, ${v.name}`, async () => {
        const cwd = `${fx.root}/src`
        const args = [...(c.args ?? []), '-c', c.source, '-o', 'out/x.o', ...v.args]
        const outputs = ['out/x.o', ...v.outputs]
        removeFiles(cwd, outputs)
        const plain = plainCompile(cwd, c.compiler, args)
        assert.equal(plain.exitCode, 0, plain.stderr)
        const expected = snapshotFiles(cwd, outputs)
        for (const [p, data] of expected) assert.ok(data !== undefined, `plain compile wrote ${p}`)

        for (const round of ['miss', 'hit'] as const) {
          removeFiles(cwd, outputs)
          const before = fx.counters()
          const reply = await fx.compile(cwd, c.compiler, args)
          assert.equal(reply.kind, 'done', JSON.stringify(reply))
          if (reply.kind !== 'done') return
          assert.equal(reply.exitCode, 0)
          assert.equal(text(reply.stderr), plain.stderr, `${round}: stderr`)
          assert.equal(text(reply.stdout), plain.stdout, `${round}: stdout`)
          const got = snapshotFiles(cwd, outputs)
          for (const [p, data] of expected) {
            assert.ok(
              got.get(p)?.equals(data as Buffer),
              `${round}: ${p} identical to a plain compile`,
            )
          }
          const after = fx.counters()
          if (round === 'miss') assert.equal(after.cache_misses, before.cache_misses + 1)
          else assert.equal(after.cache_hits_direct, before.cache_hits_direct + 1)
        }
      })
    }
  }
})
