/**
 * The pieces of gcc's `-fpreprocessed` job mode: the `<built-in>` block the client strips is
 * found and put back byte for byte (checked against real gcc output), the block a run on an
 * empty input gives is the one the source's own run had, and only `-pedantic` compiles without
 * debug information or recorded switches use the mode.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { parseCompilerArgs } from '../../../src/compilers/parse.ts'
import type { CacheableInvocation } from '../../../src/compilers/types.ts'
import {
  builtinBlock,
  gccBuiltins,
  wantsPreprocessedMode,
  withBuiltins,
} from '../../../src/remote/gcc-preprocessed-mode.ts'
import { stripGccBuiltins } from '../../../src/remote/preprocess.ts'

const hasGcc = spawnSync('sh', ['-c', 'command -v gcc']).status === 0

function inv(args: string[], cwd = '/p'): CacheableInvocation {
  const r = parseCompilerArgs(args, { compiler: 'gcc', cwd })
  if (!r.cacheable) throw new Error(`not cacheable: ${r.reason}`)
  return r
}

describe('wantsPreprocessedMode', () => {
  it('takes -pedantic compiles without debug information', () => {
    for (const a of [
      ['-O2', '-pedantic', '-c', 'a.c', '-o', 'a.o'],
      ['-O2', '-Wpedantic', '-c', 'a.c', '-o', 'a.o'],
      ['-pedantic-errors', '-g0', '-c', 'a.c', '-o', 'a.o'],
    ]) {
      const i = inv(a)
      assert.equal(wantsPreprocessedMode(i, i.expandedArgs), true, a.join(' '))
    }
  })
  it('leaves the rest alone', () => {
    for (const a of [
      ['-O2', '-c', 'a.c', '-o', 'a.o'],
      ['-g', '-pedantic', '-c', 'a.c', '-o', 'a.o'],
      ['-ggdb3', '-Wpedantic', '-c', 'a.c', '-o', 'a.o'],
      ['-pedantic', '-frecord-gcc-switches', '-c', 'a.c', '-o', 'a.o'],
    ]) {
      const i = inv(a)
      assert.equal(wantsPreprocessedMode(i, i.expandedArgs), false, a.join(' '))
    }
  })
})

describe('the <built-in> block', { skip: !hasGcc && 'no gcc' }, () => {
  it("strip and put back gives gcc's own text; an empty input gives the same block", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshcc-ppmode-'))
    try {
      writeFileSync(join(dir, 'a.c'), '#include <stddef.h>\n#define X 1\nint a = X;\n')
      const args = ['-O2', '-DFOO=2', '-pedantic', '-c', 'a.c', '-o', 'a.o']
      const i = inv(args, dir)
      const raw = spawnSync('gcc', [...i.preprocessorArgs, '-E', '-fdirectives-only'], {
        cwd: dir,
      }).stdout
      const stripped = stripGccBuiltins(raw)
      assert.ok(stripped.length < raw.length, 'there were built-ins to strip')
      const block = builtinBlock(raw)
      assert.ok(block !== undefined)
      assert.ok(withBuiltins(stripped, block).equals(raw))
      const fromEmpty = await gccBuiltins('gcc', i, dir, { PATH: process.env['PATH'] ?? '' })
      assert.ok(fromEmpty !== undefined)
      assert.ok(fromEmpty.equals(block), 'the empty input has other built-ins')
      // Control: another optimisation level predefines other macros.
      const o0 = inv(['-O0', '-pedantic', '-c', 'a.c', '-o', 'a.o'], dir)
      const other = await gccBuiltins('gcc', o0, dir, { PATH: process.env['PATH'] ?? '' })
      assert.ok(other !== undefined && !other.equals(block))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
