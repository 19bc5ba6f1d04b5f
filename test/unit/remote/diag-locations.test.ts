/**
 * The parser of gcc diagnostic text (`diag-locations.ts`): it must find every file a real gcc
 * stderr names (locations, include and inlining chains, context lines, colours and hyperlinks
 * around them), and never mistake an excerpt for a location. The fixtures are real gcc 12
 * output; one is produced live from this machine's gcc when it is there.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { diagnosticFiles, stripEscapes } from '../../../src/remote/diag-locations.ts'
import { judgeDiagnostics } from '../../../src/remote/diag-sources.ts'

const SAMPLE = [
  'In file included from ../src/a.c:2:',
  '../inc/h.h: In function ‘hwarn’:',
  '../inc/h.h:5:13: warning: unused variable ‘unused_in_header’ [-Wunused-variable]',
  '    5 |         int unused_in_header;',
  '      |             ^~~~~~~~~~~~~~~~',
  '../src/a.c: In function ‘f’:',
  '/abs/macros.h:3:27: warning: left shift count >= width of type [-Wshift-count-overflow]',
  '    3 | #define BAD_SHIFT(x) ((x) << 40)',
  '      |                           ^~',
  '../src/a.c:7:16: note: in expansion of macro ‘BAD_SHIFT’',
  '    7 |         return BAD_SHIFT(x) + hwarn(x);',
  '      |                ^~~~~~~~~',
  'In file included from /usr/include/stdio.h:33,',
  '                 from gen/deep.h:1,',
  '                 from ../src/a.c:1:',
  'In function ‘copy’,',
  '    inlined from ‘main’ at other.c:10:3:',
  'no-col.c:12: warning: something without a column',
  'cc1: all warnings being treated as errors',
  '<command-line>: warning: "FOO" redefined',
  '<built-in>: note: this is the location of the previous definition',
  '',
].join('\n')

describe('diagnosticFiles', () => {
  it('finds every file named by locations, chains and context lines', () => {
    assert.deepEqual(diagnosticFiles(SAMPLE), [
      '../src/a.c',
      '../inc/h.h',
      '/abs/macros.h',
      '/usr/include/stdio.h',
      'gen/deep.h',
      'other.c',
      'no-col.c',
    ])
  })

  it('does not read excerpt lines as locations', () => {
    const text = ['a.c:1:1: warning: w', '    1 | x:12:3: y', '      | ^', ''].join('\n')
    assert.deepEqual(diagnosticFiles(text), ['a.c'])
  })

  it('sees through colour and hyperlink escapes', () => {
    const coloured =
      '\x1b[01m\x1b[Ksrc/m.c:3:9:\x1b[m\x1b[K \x1b[01;35m\x1b[Kwarning: \x1b[m\x1b[Kx ' +
      '[\x1b]8;;https://gcc.gnu.org/x\x07-Wall\x1b]8;;\x07]\n' +
      '\x1b[01m\x1b[KIn file included from \x1b[01m\x1b[Kinc/u.h:1\x1b[m\x1b[K:\n'
    assert.equal(stripEscapes('\x1b[01;35m\x1b[Kw\x1b[m\x1b[K'), 'w')
    assert.deepEqual(diagnosticFiles(coloured).sort(), ['inc/u.h', 'src/m.c'])
  })

  it('is empty for output without locations', () => {
    assert.deepEqual(diagnosticFiles('cc1: warning: command-line option ignored\n'), [])
    assert.deepEqual(diagnosticFiles(''), [])
  })

  it('matches what real gcc prints for a header, a macro and the main file', {
    skip: spawnSync('sh', ['-c', 'command -v gcc']).status !== 0 && 'no gcc',
  }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshcc-diag-'))
    try {
      writeFileSync(
        join(dir, 'h.h'),
        '#define SH(x) ((x) << 40)\nstatic int hh(void) { int u; return 0; }\n',
      )
      writeFileSync(join(dir, 'm.c'), '#include "h.h"\nint f(int x) { int v; return SH(x); }\n')
      const r = spawnSync(
        'gcc',
        ['-Wall', '-fdiagnostics-color=always', '-c', 'm.c', '-o', '/dev/null'],
        {
          cwd: dir,
        },
      )
      assert.deepEqual(diagnosticFiles(r.stderr).sort(), ['h.h', 'm.c'])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('judgeDiagnostics', () => {
  it('is exact only when every named file was placed, by absolute path', () => {
    const err = Buffer.from('In file included from src/a.c:1:\ninc/h.h:2:3: warning: w\n')
    assert.deepEqual(judgeDiagnostics(err, '/p', ['/p/src/a.c', '/p/inc/h.h']), { exact: true })
    assert.deepEqual(judgeDiagnostics(err, '/p', ['/p/src/a.c']), {
      exact: false,
      missing: ['/p/inc/h.h'],
    })
    assert.deepEqual(judgeDiagnostics(Buffer.from('../x/y.h:1:1: note: n\n'), '/p/b', []), {
      exact: false,
      missing: ['/p/x/y.h'],
    })
  })
})
