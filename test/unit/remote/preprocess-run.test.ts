/**
 * The client's preprocessing for a remote job: its scratch directory is made when missing (the
 * first job of a build may need a depfile before anything else made it), and the preprocessor
 * runs through the waiting native client when one is offered, the daemon running it itself only
 * when the client cannot start it.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runCompiler } from '../../../src/compile/run-compiler.ts'
import type { ClientRunner } from '../../../src/compile/types.ts'
import { parseCompilerArgs } from '../../../src/compilers/parse.ts'
import type { CacheableInvocation } from '../../../src/compilers/types.ts'
import { ClientRunFailedError } from '../../../src/errors.ts'
import { preprocess, preprocessArgs, stripGccBuiltins } from '../../../src/remote/preprocess.ts'

const ENV = { PATH: '/usr/bin:/bin', LC_ALL: 'C' }

describe('remote preprocessing', () => {
  let dir: string
  let inv: CacheableInvocation
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshcc-pp-'))
    await writeFile(join(dir, 'a.h'), '#define A 1\n')
    await writeFile(join(dir, 'a.c'), '#include "a.h"\nint a = A;\n')
    const parsed = parseCompilerArgs(['-MMD', '-c', 'a.c', '-o', 'a.o'], {
      compiler: 'gcc',
      cwd: dir,
    })
    assert.ok(parsed.cacheable)
    inv = parsed
  })
  after(() => rm(dir, { recursive: true, force: true }))

  /** gcc preprocessing `a.c` (its -MMD depfile included) with scratch files in `tempDir`. */
  const specIn = (tempDir: string) => ({
    compiler: '/usr/bin/gcc',
    inv,
    cwd: dir,
    env: ENV,
    depfile: inv.depfile,
    tempDir,
  })

  it('makes a missing scratch directory for the depfile', async () => {
    const tempDir = join(dir, 'not', 'yet')
    const pp = await preprocess(specIn(tempDir))
    assert.equal(pp.exitCode, 0, pp.stderr.toString())
    assert.match(pp.depfile?.toString() ?? '', /a\.o: a\.c a\.h/)
    assert.match(pp.text.toString(), /#define A 1/)
  })

  it('runs through the client when offered, and falls back when the client cannot start it', async () => {
    const calls: string[][] = []
    const viaClient: ClientRunner = async (argv, opts) => {
      calls.push([...argv])
      const [compiler, ...args] = argv
      return runCompiler({ compiler: compiler as string, args, cwd: dir, env: ENV }, opts)
    }
    const spec = specIn(dir)
    const a = await preprocess({ ...spec, run: viaClient })
    assert.equal(a.exitCode, 0)
    assert.equal(calls.length, 1)
    assert.equal(calls[0]?.[0], '/usr/bin/gcc')
    assert.ok(calls[0]?.includes('-fdirectives-only'))
    assert.match(a.depfile?.toString() ?? '', /a\.h/)
    const cannot: ClientRunner = async () => {
      throw new ClientRunFailedError('no')
    }
    const b = await preprocess({ ...spec, run: cannot })
    assert.equal(b.exitCode, 0)
    assert.ok(b.text.equals(a.text))
    const broken: ClientRunner = async () => {
      throw new Error('protocol trouble')
    }
    await assert.rejects(preprocess({ ...spec, run: broken }), /protocol trouble/)
  })
  it('reads the text from a scratch file: the bytes gcc prints on stdout, and nothing left behind', async () => {
    const tempDir = await mkdtemp(join(tmpdir(), 'meshcc-pp-scratch-'))
    try {
      const pp = await preprocess(specIn(tempDir))
      assert.equal(pp.exitCode, 0, pp.stderr.toString())
      const stdout = await runCompiler({
        compiler: '/usr/bin/gcc',
        args: preprocessArgs(inv, undefined, undefined),
        cwd: dir,
        env: ENV,
      })
      assert.equal(stdout.exitCode, 0)
      assert.ok(stdout.stdout.length > 0)
      assert.ok(pp.text.equals(stripGccBuiltins(stdout.stdout)))
      assert.deepEqual(await readdir(tempDir), [])

      await writeFile(join(dir, 'bad.c'), '#include "missing.h"\n')
      const bad = parseCompilerArgs(['-c', 'bad.c', '-o', 'bad.o'], { compiler: 'gcc', cwd: dir })
      assert.ok(bad.cacheable)
      const failed = await preprocess({
        compiler: '/usr/bin/gcc',
        inv: bad,
        cwd: dir,
        env: ENV,
        tempDir,
      })
      assert.notEqual(failed.exitCode, 0)
      assert.equal(failed.text.length, 0)
      assert.match(failed.stderr.toString(), /missing\.h/)
      assert.deepEqual(await readdir(tempDir), [])
    } finally {
      await rm(tempDir, { recursive: true, force: true })
    }
  })
})
