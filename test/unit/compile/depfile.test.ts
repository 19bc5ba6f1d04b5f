import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseDepfile } from '../../../src/compile/depfile-parse.ts'
import { formatDepfile, makeQuote } from '../../../src/compile/depfile-replay.ts'

describe('parseDepfile', () => {
  it('reads targets, prerequisites across continuations, and phony rules', () => {
    const d = parseDepfile(
      'a.o b.o: a.c \\\n inc/a.h /usr/include/stdio.h\ninc/a.h:\n\n/usr/include/stdio.h:\n',
    )
    assert.deepEqual(d.targets, ['a.o', 'b.o'])
    assert.deepEqual(d.prereqs, ['a.c', 'inc/a.h', '/usr/include/stdio.h'])
    assert.deepEqual(d.phony, ['inc/a.h', '/usr/include/stdio.h'])
  })

  it('unescapes spaces, hashes and dollars the GNU make way', () => {
    const d = parseDepfile('x$$1\\ y.o: dir\\ with\\ space/h\\#1.h a$$b.h c\\\\\\ d.h e\\\\ f.h\n')
    assert.deepEqual(d.targets, ['x$1 y.o'])
    // `c\\\ d.h`: 3 backslashes + space = 1 backslash + literal space; `e\\ f.h`: 2 = 1 + separator
    assert.deepEqual(d.prereqs, ['dir with space/h#1.h', 'a$b.h', 'c\\ d.h', 'e\\', 'f.h'])
  })

  it('keeps colons inside prerequisites and handles CRLF', () => {
    const d = parseDepfile('a.o: c:/x/y.h \\\r\n z.h\r\n')
    assert.deepEqual(d.prereqs, ['c:/x/y.h', 'z.h'])
  })

  it('parses an empty file as nothing', () => {
    assert.deepEqual(parseDepfile(''), { targets: [], prereqs: [], phony: [] })
  })
})

describe('formatDepfile', () => {
  it('quotes like gcc and clang', () => {
    assert.equal(makeQuote('a b$#c'), 'a\\ b$$\\#c')
    assert.equal(makeQuote('x\\ y'), 'x\\\\\\ y')
    assert.equal(makeQuote('x\\y'), 'x\\y')
  })

  it('orders gcc targets: -MQ before -MT, then the libcpp swap', () => {
    const out = formatDepfile(
      'gcc',
      [
        { name: 'q1', quoted: true },
        { name: 't1', quoted: false },
        { name: 'q2', quoted: true },
      ],
      { prereqs: ['a.c'], phony: [] },
    )
    assert.equal(out, 't1 q2 q1: a.c\n')
  })

  it('keeps clang targets in order and separates phony rules with blank lines', () => {
    const out = formatDepfile(
      'clang',
      [
        { name: 'q1', quoted: true },
        { name: 't1', quoted: false },
      ],
      { prereqs: ['a.c', 'a.h'], phony: ['a.h'] },
    )
    assert.equal(out, 'q1 t1: a.c a.h\n\na.h:\n')
  })

  it('wraps gcc lines at 72 columns and clang lines at 75', () => {
    const long = Array.from({ length: 6 }, (_, i) => `dir/header-number-${i}.h`)
    const gcc = formatDepfile('gcc', [{ name: 'a.o', quoted: true }], { prereqs: long, phony: [] })
    for (const line of gcc.split('\n')) assert.ok(line.length <= 74, line)
    assert.match(gcc, / \\\n dir/)
    const clang = formatDepfile('clang', [{ name: 'a.o', quoted: true }], {
      prereqs: long,
      phony: [],
    })
    for (const line of clang.split('\n')) assert.ok(line.length <= 75, line)
    assert.notEqual(gcc, clang)
  })
})
