import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { scanLeadingIncludes } from '../../../src/compile/leading-includes.ts'

const scan = (text: string) => scanLeadingIncludes(Buffer.from(text, 'utf8'))

describe('scanLeadingIncludes', () => {
  it('lists the includes before the first token, with their quoting', () => {
    const r = scan('#include "pch.h"\n#include <stdio.h>\nint x;\n#include "late.h"\n')
    assert.deepEqual(r, { names: ['pch.h', 'stdio.h'], quoted: [true, false], computed: false })
  })

  it('skips comments, blank lines, continuations and other directives', () => {
    const r = scan(
      '/* licence\n int not_code; */\n// line comment \\\n still comment\n\n' +
        '#define A 1\n  #  include \\\n "a.h" // trailing\n#pragma once\n#import <b.h>\nvoid f(void);\n',
    )
    assert.deepEqual(r.names, ['a.h', 'b.h'])
    assert.deepEqual(r.quoted, [true, false])
  })

  it('looks through text inside conditionals (it may be excluded), stops at depth 0', () => {
    const r = scan(
      '#if 0\nthis is not code\n#endif\n#ifdef X\n#include "x.h"\n#endif\nint y;\n#include "z.h"\n',
    )
    assert.deepEqual(r.names, ['x.h'])
  })

  it('reports computed includes', () => {
    const r = scan('#define H "h.h"\n#include H\n#include "after.h"\n')
    assert.equal(r.computed, true)
    assert.deepEqual(r.names, ['after.h'])
  })

  it('keeps comment-like text inside literals and non-ASCII names', () => {
    const r = scan('#include "dir/é.h"\n#define S "/* not a comment"\n#include "next.h"\nint z;\n')
    assert.deepEqual(r.names, ['dir/é.h', 'next.h'])
  })

  it('finds nothing in a file that starts with code', () => {
    assert.deepEqual(scan('int main(void) { return 0; }\n#include "x.h"\n').names, [])
  })
})
