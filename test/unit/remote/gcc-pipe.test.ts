/**
 * `-pipe` on the builder (`gcc-pipe.ts`): added to gcc jobs, never to clang's, and left out
 * where it would show in what the job prints or writes; a real gcc gives the same object and
 * the same diagnostics with it as without; and what the assembler prints after a crashed cc1
 * names a file no job has, which sends the job to a local compile (`diag-sources.ts`).
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { diagnosticFiles } from '../../../src/remote/diag-locations.ts'
import { withPipe } from '../../../src/remote/gcc-pipe.ts'

describe('-pipe for builder jobs', () => {
  it('is added to gcc jobs only, once', () => {
    assert.deepEqual(withPipe('gcc', ['-O2', '-c', 'a.c', '-o', 'a.o']), [
      '-pipe',
      '-O2',
      '-c',
      'a.c',
      '-o',
      'a.o',
    ])
    assert.deepEqual(withPipe('clang', ['-c', 'a.c']), ['-c', 'a.c'])
    assert.deepEqual(withPipe('gcc', ['-pipe', '-c', 'a.c']), ['-pipe', '-c', 'a.c'])
  })

  it('is left out where it would show', () => {
    for (const extra of [
      ['-v'],
      ['--verbose'],
      ['-###'],
      ['-time'],
      ['-time=t.log'],
      ['-save-temps'],
      ['-save-temps=obj'],
      ['--save-temps'],
      ['-Wa,-adhln=a.lst'],
      ['-Xassembler', '-a'],
    ]) {
      const args = ['-c', 'a.c', ...extra]
      assert.deepEqual(withPipe('gcc', args), args, extra.join(' '))
    }
  })

  it("a crashed cc1's assembler messages name a file no job has: the client compiles locally", () => {
    const stderr = [
      'a.c:3:1: internal compiler error: Segmentation fault',
      '{standard input}: Assembler messages:',
      '{standard input}:12: Error: open CFI at the end of file; missing .cfi_endproc directive',
      'gcc: internal compiler error: Segmentation fault signal terminated program cc1',
      '',
    ].join('\n')
    assert.ok(diagnosticFiles(stderr).includes('{standard input}'))
  })

  it('gives the same object and diagnostics as without (real gcc)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshcc-pipe-'))
    try {
      await writeFile(
        join(dir, 'ok.c'),
        '#warning note\nint f(int x) { int unused; return x + 1; }\n',
      )
      await writeFile(
        join(dir, 'bad.c'),
        'int f(void) { return missing; }\nint g(void) { return 1; }\n',
      )
      for (const [src, extra] of [
        ['ok.c', ['-g', '-O2', '-Wall']],
        ['ok.c', ['-g3', '-gdwarf-5', '-O0', '-frecord-gcc-switches']],
        ['bad.c', ['-O2']],
        ['ok.c', ['-O2', '-Werror=unused-variable']],
      ] as const) {
        const args = [...extra, '-c', src, '-o', 'out.o']
        const plain = spawnSync('gcc', args, { cwd: dir })
        const plainObj = plain.status === 0 ? await readFile(join(dir, 'out.o')) : undefined
        await rm(join(dir, 'out.o'), { force: true })
        const piped = spawnSync('gcc', [...withPipe('gcc', args)], { cwd: dir })
        const what = `${src} ${extra.join(' ')}`
        assert.equal(piped.status, plain.status, what)
        assert.equal(piped.stderr.toString(), plain.stderr.toString(), what)
        if (plainObj !== undefined)
          assert.ok(
            (await readFile(join(dir, 'out.o'))).equals(plainObj),
            `${what}: objects differ`,
          )
        await rm(join(dir, 'out.o'), { force: true })
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
