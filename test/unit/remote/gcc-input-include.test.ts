import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  IncludeGate,
  includeEligibleArgs,
  includeSafeText,
} from '../../../src/remote/gcc-input-include.ts'

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

describe('IncludeGate', () => {
  it('lets small jobs and jobs without an estimate take the way from the start', () => {
    const gate = new IncludeGate()
    assert.ok(gate.allow(15))
    assert.ok(gate.allow(undefined))
    assert.equal(gate.allow(600), false, 'a long compile is not risked for a few ms')
  })

  it('weighs the recent share of jobs run again against the compile time', () => {
    const gate = new IncludeGate()
    for (let i = 0; i < 200; i++) gate.record(false)
    assert.ok(gate.allow(200), 'with no job run again, medium jobs take it too')
    for (let i = 0; i < 20; i++) gate.record(true)
    assert.equal(gate.allow(50), false, 'a build whose compiles print keeps its jobs usual')
    assert.ok(gate.allow(10), 'tiny ones still pay')
    for (let i = 0; i < 600; i++) gate.record(false)
    assert.ok(gate.allow(50), 'old reruns fade')
  })
})
