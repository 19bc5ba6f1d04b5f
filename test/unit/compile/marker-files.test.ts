/**
 * The header list of a remote compile comes from its preprocessing's line markers: it must name
 * exactly the files the preprocessor-mode digest names (and a dependency pass would list).
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { markerFiles } from '../../../src/compile/marker-files.ts'
import { KeyPaths } from '../../../src/compile/path-normalize.ts'
import { digestPreprocessed } from '../../../src/compile/preprocessor-key.ts'

const hasClang = spawnSync('sh', ['-c', 'command -v clang']).status === 0

describe('markerFiles', () => {
  it('names each file once, in order, without pseudo-files or the cwd marker', () => {
    const text = Buffer.from(
      [
        '# 0 "a.c"',
        '# 0 "/work//"',
        '# 0 "<built-in>"',
        '#define X 1',
        '# 0 "<command-line>"',
        '# 1 "a.c"',
        '# 1 "inc/h \\"q\\".h" 1',
        'int x;',
        '#  define Y',
        '# 2 "a.c" 2',
        '# 1 "/usr/include/stdio.h" 1 3 4',
        '# 1 "inc/h \\"q\\".h" 1',
        '# 1 "d\u00e9j\u00e0.h" 1',
        '',
      ].join('\n'),
      'utf8',
    )
    assert.deepEqual(markerFiles(text), ['a.c', 'inc/h "q".h', '/usr/include/stdio.h', 'déjà.h'])
  })

  for (const [compiler, mode] of [
    ['gcc', '-fdirectives-only'],
    ...(hasClang ? [['clang', '-frewrite-includes']] : []),
  ] as const)
    it(`agrees with the preprocessor-mode digest on ${compiler} ${mode} output`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'meshcc-markers-'))
      try {
        mkdirSync(join(dir, 'inc'))
        writeFileSync(join(dir, 'inc', 'a.h'), '#pragma once\n#include "b.h"\n#define A 1\n')
        writeFileSync(join(dir, 'inc', 'b.h'), '#ifndef B\n#define B\nint b;\n#endif\n')
        writeFileSync(
          join(dir, 'm.c'),
          '#include <stdio.h>\n#include "a.h"\n#include "a.h"\n#include "b.h"\nint main(void){return A;}\n',
        )
        const r = spawnSync(compiler, ['-g', '-Iinc', '-E', mode, 'm.c'], { cwd: dir })
        assert.equal(r.status, 0, r.stderr.toString())
        const files = markerFiles(r.stdout)
        assert.deepEqual(files, digestPreprocessed(r.stdout, new KeyPaths(dir, undefined)).files)
        assert.ok(files.includes('inc/a.h') && files.includes('inc/b.h'), files.join(' '))
        assert.ok(files.some((f) => f.endsWith('/stdio.h')))
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
})
