import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { KeyPaths } from '../../../src/compile/path-normalize.ts'
import { digestPreprocessed, preprocessOnlyArgs } from '../../../src/compile/preprocessor-key.ts'
import { replayStderr, stripSgr, wantsColor } from '../../../src/compile/stderr-replay.ts'

describe('stderr replay', () => {
  const colored = Buffer.from(
    '\x1b[01m\x1b[Ka.c:1:5:\x1b[m\x1b[K \x1b[01;35m\x1b[Kwarning: \x1b[m\x1b[Kx\n',
  )
  it('strips SGR for a client without colors, refuses to invent them', () => {
    assert.equal(stripSgr(colored).toString(), 'a.c:1:5: warning: x\n')
    assert.equal(
      Buffer.from(replayStderr(colored, true, false, undefined) ?? []).toString(),
      'a.c:1:5: warning: x\n',
    )
    assert.equal(replayStderr(Buffer.from('a.c: warning\n'), false, true, undefined), undefined)
    assert.equal(replayStderr(Buffer.alloc(0), false, true, undefined)?.byteLength, 0)
  })
  it('decides colors like the compiler', () => {
    const inv = { color: 'auto' as const, family: 'gcc' as const }
    assert.equal(wantsColor(inv, true, {}), true)
    assert.equal(wantsColor(inv, false, {}), false)
    assert.equal(wantsColor(inv, true, { TERM: 'dumb' }), false)
    assert.equal(wantsColor(inv, true, { GCC_COLORS: '' }), false)
    assert.equal(wantsColor({ ...inv, color: 'always' }, false, {}), true)
  })
})

describe('preprocessed text', () => {
  it('normalizes marker paths under the base dir and lists the files', () => {
    const text = [
      '# 0 "../src/a.c"',
      '# 1 "/b/c1/build//"',
      '# 0 "<built-in>"',
      '# 1 "/b/c1/inc/a.h" 1',
      'int x = 1; // "/b/c1/inc/a.h" stays in code',
      '# 1 "/usr/include/stdio.h" 1 3 4',
      '',
    ].join('\n')
    const d = digestPreprocessed(Buffer.from(text), new KeyPaths('/b/c1/build', '/b'))
    assert.deepEqual(d.files, ['../src/a.c', '/b/c1/inc/a.h', '/usr/include/stdio.h'])
    assert.ok(d.text.includes('# 1 "\0base\0../inc/a.h" 1\n'), d.text)
    assert.ok(d.text.includes('# 1 "\0base\0.//"\n'))
    assert.match(d.text, /stays in code/)
    assert.match(d.text, /"\/b\/c1\/inc\/a\.h" stays/)
  })
  it('always preprocesses only', () => {
    assert.deepEqual(preprocessOnlyArgs(['-I', 'x', 'a.c']), ['-I', 'x', 'a.c', '-E'])
    assert.deepEqual(preprocessOnlyArgs(['-E', 'a.c']), ['-E', 'a.c'])
  })
})
