/**
 * -MT, -MQ, -MF or -MP without a dependency-generating option is a gcc error. meshcc must not
 * turn it into a success by adding its own -MD on a miss: such a command is run as is.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { parseCompilerArgs } from '../../../src/compilers/parse.ts'

const lines = [
  ['-c', '-MT', 'x', 'q.c', '-o', 'q.o'],
  ['-c', '-MQ', 'x', 'q.c', '-o', 'q.o'],
  ['-c', '-MF', 'q.d', 'q.c', '-o', 'q.o'],
  ['-c', '-MP', 'q.c', '-o', 'q.o'],
]

describe('dependency options without -M/-MD', () => {
  it('are not cacheable (the compiler runs them as they are)', () => {
    for (const args of lines) {
      const inv = parseCompilerArgs(args, { compiler: '/usr/bin/gcc', cwd: '/tmp' })
      assert.equal(inv.cacheable, false, args.join(' '))
      if (!inv.cacheable) assert.equal(inv.reason, 'unsupported-option')
    }
    // Control: with -MD the same options are an ordinary cacheable compile.
    const ok = parseCompilerArgs(['-c', '-MD', '-MT', 'x', 'q.c', '-o', 'q.o'], {
      compiler: '/usr/bin/gcc',
      cwd: '/tmp',
    })
    assert.equal(ok.cacheable, true)
  })

  it('really fail with gcc, so caching them would hide an error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshcc-deps-alone-'))
    try {
      writeFileSync(join(dir, 'q.c'), 'int q;\n')
      const r = spawnSync('gcc', lines[0]!, { cwd: dir, encoding: 'utf8' })
      assert.notEqual(r.status, 0)
      assert.match(r.stderr, /-M/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
