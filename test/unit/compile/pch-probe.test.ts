import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { FileHashCache } from '../../../src/compile/file-hash-cache.ts'
import { scanLeadingIncludes } from '../../../src/compile/leading-includes.ts'
import { PchDirCache } from '../../../src/compile/pch-dir-cache.ts'
import { pchProbes } from '../../../src/compile/pch-probe.ts'
import { parseCompilerArgs } from '../../../src/compilers/parse.ts'
import type { CacheableInvocation } from '../../../src/compilers/types.ts'

describe('pchProbes', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'meshcc-pch-'))
  after(() => rmSync(cwd, { recursive: true, force: true }))
  const files = new FileHashCache()
  // A clock far ahead: every listing counts as settled, so reuse is exercised.
  const dirs = new PchDirCache({ nowMs: () => Date.now() + 1e9 })
  const write = (rel: string, text: string) => {
    mkdirSync(join(cwd, rel, '..'), { recursive: true })
    writeFileSync(join(cwd, rel), text)
  }
  const parse = (compiler: string, args: string[]): CacheableInvocation => {
    const inv = parseCompilerArgs(args, { compiler, cwd })
    assert.ok(inv.cacheable)
    return inv
  }
  const probe = (inv: CacheableInvocation, source = '') =>
    pchProbes(inv, {
      cwd,
      env: {},
      files,
      dirs,
      leading: inv.family === 'gcc' ? scanLeadingIncludes(Buffer.from(source)) : undefined,
    })

  it('gcc: finds .gch beside -include names and leading includes, in every search directory', () => {
    const inv = parse('/usr/bin/gcc', ['-Iinc', '-include', 'forced.h', '-c', 'src/a.c'])
    const source = '#include "sub/lead.h"\n#include <sys.h>\nint x;\n#include "late.h"\n'
    assert.deepEqual(probe(inv, source), { fields: [], gccPch: false })
    write('forced.h.gch', 'one')
    write('src/sub/lead.h.gch', 'two')
    write('inc/sys.h.gch', 'three')
    write('inc/late.h.gch', 'never: after the first token')
    const found = probe(inv, source)
    assert.deepEqual(found.fields.map(([p]) => p).sort(), [
      'forced.h.gch',
      'inc/sys.h.gch',
      'src/sub/lead.h.gch',
    ])
    assert.equal(found.gccPch, true)
    assert.ok(found.fields.every(([, state]) => state.startsWith('file:')))
    // Content, not presence: a rebuilt PCH changes its state.
    const before = found.fields.find(([p]) => p === 'inc/sys.h.gch')?.[1]
    write('inc/sys.h.gch', 'three, rebuilt')
    const after = probe(inv, source).fields.find(([p]) => p === 'inc/sys.h.gch')?.[1]
    assert.notEqual(after, before)
  })

  it('gcc: a .gch directory is described by its files', () => {
    const inv = parse('/usr/bin/gcc', ['-c', 'd.c'])
    mkdirSync(join(cwd, 'dir.h.gch'))
    write('dir.h.gch/a', 'x')
    const first = probe(inv, '#include "dir.h"\n').fields
    assert.equal(first.length, 1)
    assert.match(first[0]?.[1] ?? '', /^dir:/)
    write('dir.h.gch/b', 'y')
    assert.notDeepEqual(probe(inv, '#include "dir.h"\n').fields, first)
  })

  it('gcc: a computed leading include makes every .gch in a search directory count', () => {
    const inv = parse('/usr/bin/gcc', ['-Icomp', '-c', 'c.c'])
    write('comp/any.h.gch', 'z')
    const fields = probe(inv, '#include HEADER\nint x;\n').fields.map(([p]) => p)
    assert.ok(fields.includes('comp/any.h.gch'), JSON.stringify(fields))
  })

  it('clang: only the -include path itself, .pch and .gch', () => {
    write('cl.h.pch', 'p')
    write('inc/cl.h.pch', 'not looked at by clang')
    const inv = parse('/usr/bin/clang', ['-Iinc', '-include', 'cl.h', '-c', 'x.c'])
    const found = probe(inv)
    assert.deepEqual(
      found.fields.map(([p]) => p),
      ['cl.h.pch'],
    )
    assert.equal(found.gccPch, false)
  })
})
