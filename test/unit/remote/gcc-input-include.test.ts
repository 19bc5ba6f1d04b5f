import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { includeEligibleArgs, includeSafeText } from '../../../src/remote/gcc-input-include.ts'

describe('includeEligibleArgs', () => {
  it('takes an ordinary compile', () => {
    assert.ok(includeEligibleArgs(['-O2', '-g', '-Wall', '-Wextra', '-c', 'a.c', '-o', 'a.o']))
    assert.ok(includeEligibleArgs(['-gdwarf-4', '-gsplit-dwarf', '-fPIC', '-c', 'a.c']))
    assert.ok(includeEligibleArgs(['-ffile-prefix-map=/src=.', '-c', 'a.c']))
  })

  for (const arg of [
    '-frecord-gcc-switches',
    '-g3',
    '-ggdb3',
    '-gdwarf3',
    '-Wunused-macros',
    '-H',
    '-fdump-tree-all',
    '-dA',
    '-save-temps',
    '-save-temps=obj',
    '-flto',
    '-flto=auto',
    '--coverage',
    '-fprofile-arcs',
    '-fcompare-debug',
    '-fpreprocessed',
    '-include',
    '-v',
  ]) {
    it(`refuses ${arg}`, () => {
      assert.equal(includeEligibleArgs(['-O2', arg, '-c', 'a.c']), false)
    })
  }
})

describe('includeSafeText', () => {
  const text = (s: string) => Buffer.from(s)

  it('takes ordinary text, pragmas that act the same anywhere, and "once" elsewhere', () => {
    assert.ok(includeSafeText(text('# 1 "a.c"\nint f(void) { return 1; }\n')))
    assert.ok(includeSafeText(text('#pragma GCC visibility push(default)\nint x;\n')))
    assert.ok(includeSafeText(text('#pragma GCC diagnostic push\n/* said once */ int y;\n')))
    assert.ok(includeSafeText(new Uint8Array(0)))
  })

  for (const [what, s] of [
    ['__INCLUDE_LEVEL__', 'int level = __INCLUDE_LEVEL__;\n'],
    ['__TIMESTAMP__', 'const char *t = __TIMESTAMP__;\n'],
    ['#pragma once', '#pragma once\nint x;\n'],
    ['#pragma once, spaced', '#  pragma   once\n'],
    ['_Pragma("once")', '#define ONCE _Pragma("once")\n'],
    ['#pragma GCC system_header', '#pragma GCC system_header\n'],
  ] as const) {
    it(`refuses text with ${what}`, () => {
      assert.equal(includeSafeText(text(`# 1 "a.c"\n${s}int z;\n`)), false)
    })
  }

  it('looks at a subarray only', () => {
    const whole = text('__INCLUDE_LEVEL__ int ok;')
    assert.ok(includeSafeText(whole.subarray(18)))
  })
})
