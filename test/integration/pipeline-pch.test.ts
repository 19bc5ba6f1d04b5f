/**
 * Precompiled headers: gcc and clang pick up `foo.h.gch` / `foo.h.pch` on their own, and their
 * depfiles do not name the PCH (gcc not even the headers it stands for). A rebuilt, new or
 * removed PCH must change the key: never a stale object.
 */
import assert from 'node:assert/strict'
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { CompileReply } from '../../src/compile/types.ts'
import { COMPILERS, createFixture, type Fixture, plainCompile } from './pipeline-fixture.ts'

const FOO_H = '#include "val.h"\nstatic inline int f(void) { return V; }\n'

describe('precompiled headers', () => {
  let fx: Fixture
  before(async () => {
    fx = await createFixture()
  })
  after(() => fx.close())

  /** Sends a compile through the pipeline; an exec-local reply runs it as the client would. */
  async function viaMeshcc(cwd: string, compiler: string, args: string[]): Promise<CompileReply> {
    const reply = await fx.compile(cwd, compiler, args)
    if (reply.kind === 'exec-local') assert.equal(plainCompile(cwd, compiler, args).exitCode, 0)
    else assert.equal(reply.exitCode, 0, Buffer.from(reply.stderr).toString())
    return reply
  }

  /** Compiles through meshcc, checks the counter that moved and the object against gcc's own. */
  async function expect(
    cwd: string,
    compiler: string,
    args: string[],
    outcome: 'hit' | 'miss',
    what: string,
  ): Promise<Buffer> {
    const before = fx.counters()
    await viaMeshcc(cwd, compiler, args)
    const after = fx.counters()
    const counter = outcome === 'hit' ? 'cache_hits' : 'cache_misses'
    assert.equal(after[counter], before[counter] + 1, `${what}: ${outcome}`)
    const out = args[args.indexOf('-o') + 1] ?? ''
    const got = readFileSync(join(cwd, out))
    const plainArgs = args.map((a) => (a === out ? 'plain.o' : a))
    assert.equal(plainCompile(cwd, compiler, plainArgs).exitCode, 0)
    assert.ok(
      got.equals(readFileSync(join(cwd, 'plain.o'))),
      `${what}: object as the compiler makes it`,
    )
    return got
  }

  /** Builds the PCH (uncacheable, run by the client) from val.h = `#define V <v>`, then restores val.h. */
  async function buildPch(
    cwd: string,
    compiler: string,
    pch: string,
    v: number,
    extra: string[] = [],
  ) {
    fx.write({ [`${cwd.slice(fx.root.length + 1)}/val.h`]: `#define V ${v}\n` })
    const args = ['-x', 'c-header', '-c', 'foo.h', '-o', pch, ...extra]
    const reply = await fx.compile(cwd, compiler, args)
    assert.deepEqual(reply, { kind: 'exec-local', reason: 'precompiled-header' })
    assert.equal(plainCompile(cwd, compiler, args).exitCode, 0)
    fx.write({ [`${cwd.slice(fx.root.length + 1)}/val.h`]: '#define V 1\n' })
  }

  it('gcc -include foo.h: a rebuilt foo.h.gch is a miss with the right object', async () => {
    const cwd = join(fx.root, 'inc')
    fx.write({
      'inc/foo.h': FOO_H,
      'inc/val.h': '#define V 1\n',
      'inc/a.c': 'int g(void) { return f(); }\n',
    })
    await buildPch(cwd, COMPILERS.gcc, 'foo.h.gch', 1)
    const args = ['-include', 'foo.h', '-c', 'a.c', '-o', 'a.o']
    const first = await expect(cwd, COMPILERS.gcc, args, 'miss', 'first compile')
    await expect(cwd, COMPILERS.gcc, args, 'hit', 'same PCH')
    // The header text is back to what it was; only the PCH says V 2 (gcc uses it anyway).
    await buildPch(cwd, COMPILERS.gcc, 'foo.h.gch', 2)
    const second = await expect(cwd, COMPILERS.gcc, args, 'miss', 'rebuilt PCH')
    assert.ok(!first.equals(second), 'the PCH changed the object')
    await expect(cwd, COMPILERS.gcc, args, 'hit', 'rebuilt PCH again')
    // Without the PCH gcc reads the text (V 1, as the first PCH had it): another key.
    rmSync(join(cwd, 'foo.h.gch'))
    const third = await expect(cwd, COMPILERS.gcc, args, 'miss', 'PCH removed')
    assert.ok(third.equals(first))
    await expect(cwd, COMPILERS.gcc, args, 'hit', 'PCH removed again')
  })

  it('gcc #include "foo.h" first in the source: a PCH that appears is a miss', async () => {
    const cwd = join(fx.root, 'lead')
    fx.write({
      'lead/foo.h': FOO_H,
      'lead/val.h': '#define V 1\n',
      'lead/b.c': '/* uses a PCH */\n#include "foo.h"\nint g(void) { return f(); }\n',
    })
    const args = ['-c', 'b.c', '-o', 'b.o']
    const first = await expect(cwd, COMPILERS.gcc, args, 'miss', 'no PCH')
    await expect(cwd, COMPILERS.gcc, args, 'hit', 'no PCH again')
    await buildPch(cwd, COMPILERS.gcc, 'foo.h.gch', 3)
    const withPch = await expect(cwd, COMPILERS.gcc, args, 'miss', 'new PCH')
    assert.ok(!withPch.equals(first))
    rmSync(join(cwd, 'foo.h.gch'))
    // A directory of candidates: gcc uses the first valid file in it.
    mkdirSync(join(cwd, 'foo.h.gch'))
    await buildPch(cwd, COMPILERS.gcc, 'foo.h.gch/c.gch', 4)
    const fromDir = await expect(cwd, COMPILERS.gcc, args, 'miss', 'PCH directory')
    assert.ok(!fromDir.equals(first) && !fromDir.equals(withPch))
    await buildPch(cwd, COMPILERS.gcc, 'foo.h.gch/c.gch', 5)
    await expect(cwd, COMPILERS.gcc, args, 'miss', 'PCH directory rebuilt')
  })

  it('gcc -Iinc: a PCH in an include directory counts', async () => {
    const cwd = join(fx.root, 'idir')
    fx.write({
      'idir/foo.h': FOO_H,
      'idir/val.h': '#define V 1\n',
      'idir/src/c.c': '#include "foo.h"\nint g(void) { return f(); }\n',
    })
    mkdirSync(join(cwd, 'pchdir'))
    const args = ['-Ipchdir', '-I.', '-c', 'src/c.c', '-o', 'c.o']
    await expect(cwd, COMPILERS.gcc, args, 'miss', 'no PCH')
    await buildPch(cwd, COMPILERS.gcc, 'pchdir/foo.h.gch', 6)
    await expect(cwd, COMPILERS.gcc, args, 'miss', 'PCH in -I dir')
    await expect(cwd, COMPILERS.gcc, args, 'hit', 'PCH in -I dir again')
  })

  it('clang -include foo.h: a foo.h.pch rebuilt with another -D is a miss', async () => {
    const cwd = join(fx.root, 'clang')
    fx.write({
      'clang/foo.h': '#ifndef V\n#define V 1\n#endif\nstatic inline int f(void) { return V; }\n',
      'clang/val.h': '\n',
      'clang/a.c': 'int g(void) { return f(); }\n',
    })
    const args = ['-include', 'foo.h', '-c', 'a.c', '-o', 'a.o']
    const text = await expect(cwd, COMPILERS.clang, args, 'miss', 'no PCH')
    await buildPch(cwd, COMPILERS.clang, 'foo.h.pch', 1, ['-DV=7'])
    const seven = await expect(cwd, COMPILERS.clang, args, 'miss', 'new PCH')
    assert.ok(!seven.equals(text))
    await expect(cwd, COMPILERS.clang, args, 'hit', 'same PCH')
    await buildPch(cwd, COMPILERS.clang, 'foo.h.pch', 1, ['-DV=8'])
    const eight = await expect(cwd, COMPILERS.clang, args, 'miss', 'rebuilt PCH')
    assert.ok(!eight.equals(seven))
  })
  it('gcc: a PCH rebuilt between the key and the compile is not stored under the old key', async () => {
    const cwd = join(fx.root, 'race')
    fx.write({
      'race/foo.h': FOO_H,
      'race/val.h': '#define V 1\n',
      'race/a.c': 'int g(void) { return f(); }\n',
    })
    await buildPch(cwd, COMPILERS.gcc, 'foo.h.gch', 2)
    copyFileSync(join(cwd, 'foo.h.gch'), join(cwd, 'two.gch'))
    await buildPch(cwd, COMPILERS.gcc, 'foo.h.gch', 1)
    copyFileSync(join(cwd, 'foo.h.gch'), join(cwd, 'one.gch'))
    // A "gcc" that, like a parallel job, swaps the PCH just before compiling (SWAP_PCH is not a
    // variable the key knows, so both calls below have the same key).
    const bin = join(fx.root, 'race-bin')
    mkdirSync(bin, { recursive: true })
    const gcc = join(bin, 'gcc')
    writeFileSync(
      gcc,
      `#!/bin/sh\ncase " $* " in *" -c "*) [ -n "$SWAP_PCH" ] && cp "$SWAP_PCH" foo.h.gch ;; esac\nexec ${COMPILERS.gcc} "$@"\n`,
    )
    chmodSync(gcc, 0o755)
    const args = ['-include', 'foo.h', '-c', 'a.c', '-o', 'a.o']
    const before = fx.counters()
    const raced = await fx.compile(cwd, gcc, args, { env: { SWAP_PCH: 'two.gch' } })
    assert.equal(raced.kind === 'done' && raced.exitCode, 0)
    assert.equal(fx.counters().uncacheable, before.uncacheable + 1, 'counted as input-too-new')
    copyFileSync(join(cwd, 'one.gch'), join(cwd, 'foo.h.gch'))
    const misses = fx.counters().cache_misses
    await fx.compile(cwd, gcc, args)
    assert.equal(
      fx.counters().cache_misses,
      misses + 1,
      'no entry was stored for the raced compile',
    )
    assert.equal(
      plainCompile(cwd, COMPILERS.gcc, ['-include', 'foo.h', '-c', 'a.c', '-o', 'p.o']).exitCode,
      0,
    )
    assert.ok(readFileSync(join(cwd, 'a.o')).equals(readFileSync(join(cwd, 'p.o'))))
  })
})
