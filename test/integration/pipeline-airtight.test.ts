/**
 * Inputs the command line does not show: extra outputs the compiler skips, the environment,
 * clang's configuration files and the name clang is invoked by.
 */
import assert from 'node:assert/strict'
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { KEY_ENV_VARS } from '../../src/compile/key-inputs.ts'
import type { CompileReply } from '../../src/compile/types.ts'
import { DIAGNOSTICS_ENV_VARS, OUTPUT_ENV_VARS } from '../../src/compilers/environment.ts'
import {
  COMPILERS,
  createFixture,
  type Fixture,
  plainCompile,
  removeFiles,
} from './pipeline-fixture.ts'

describe('pipeline: hidden inputs and outputs', () => {
  let fx: Fixture
  let cwd: string
  before(async () => {
    fx = await createFixture()
    cwd = join(fx.root, 'w')
    fx.write({
      'w/m.c': 'int fn(int x) { return x + 1; }\n',
      'w/cfg.c': 'int from_cfg = FROMCFG;\n',
    })
  })
  after(() => fx.close())

  const done = (reply: CompileReply) => {
    assert.equal(reply.kind, 'done', JSON.stringify(reply))
    if (reply.kind !== 'done') throw new Error('unreachable')
    assert.equal(reply.exitCode, 0, Buffer.from(reply.stderr).toString())
    return reply
  }

  /** Compiles and returns which counter moved. */
  async function outcome(
    compiler: string,
    args: string[],
    env: Record<string, string> = {},
  ): Promise<'hit' | 'miss'> {
    const before = fx.counters()
    done(await fx.compile(cwd, compiler, args, { env }))
    const after = fx.counters()
    if (after.cache_hits === before.cache_hits + 1) return 'hit'
    assert.equal(after.cache_misses, before.cache_misses + 1, 'neither a hit nor a miss')
    return 'miss'
  }

  // LTO sections are named from a random seed unless -frandom-seed fixes it.
  it('gcc -flto -fstack-usage: the .su it does not write is neither stored nor restored', async () => {
    const args = ['-flto', '-frandom-seed=1', '-fstack-usage', '-O1', '-c', 'm.c', '-o', 'lto.o']
    removeFiles(cwd, ['lto.o', 'lto.su', 'plain-lto.o', 'plain-lto.su'])
    assert.equal(
      plainCompile(
        cwd,
        COMPILERS.gcc,
        args.map((a) => (a === 'lto.o' ? 'plain-lto.o' : a)),
      ).exitCode,
      0,
    )
    assert.ok(!existsSync(join(cwd, 'plain-lto.su')), 'gcc writes no .su at -flto -c')
    const expected = readFileSync(join(cwd, 'plain-lto.o'))
    // A leftover of an earlier non-LTO build: the compiler leaves it alone, so must meshcc.
    writeFileSync(join(cwd, 'lto.su'), 'stale\n')
    assert.equal(await outcome(COMPILERS.gcc, args), 'miss')
    assert.equal(readFileSync(join(cwd, 'lto.su'), 'utf8'), 'stale\n')
    removeFiles(cwd, ['lto.o'])
    assert.equal(await outcome(COMPILERS.gcc, args), 'hit')
    assert.ok(readFileSync(join(cwd, 'lto.o')).equals(expected))
    assert.equal(readFileSync(join(cwd, 'lto.su'), 'utf8'), 'stale\n', 'not removed, not replaced')
    removeFiles(cwd, ['lto.o', 'lto.su'])
    assert.equal(await outcome(COMPILERS.gcc, args), 'hit')
    assert.ok(readFileSync(join(cwd, 'lto.o')).equals(expected))
    assert.ok(!existsSync(join(cwd, 'lto.su')), 'the leftover was not stored as an output')
  })

  it('gcc -fstack-usage without LTO: the .su is stored and restored', async () => {
    const args = ['-fstack-usage', '-c', 'm.c', '-o', 'su.o']
    removeFiles(cwd, ['su.o', 'su.su'])
    assert.equal(await outcome(COMPILERS.gcc, args), 'miss')
    const su = readFileSync(join(cwd, 'su.su'))
    removeFiles(cwd, ['su.o', 'su.su'])
    assert.equal(await outcome(COMPILERS.gcc, args), 'hit')
    assert.ok(readFileSync(join(cwd, 'su.su')).equals(su))
  })

  it('the key takes the compiler model environment lists, and no MESHCC variable', () => {
    for (const name of [...OUTPUT_ENV_VARS, ...DIAGNOSTICS_ENV_VARS]) {
      if (!/MESHCC_/.test(name)) assert.ok(KEY_ENV_VARS.includes(name), name)
    }
    assert.ok(!KEY_ENV_VARS.some((name) => /MESHCC_/.test(name)))
  })

  it('LANG, LC_ALL and CPATH change the key; MESHCC_HOME and _MESHCC_SAFEGUARD do not', async () => {
    const args = ['-O2', '-c', 'm.c', '-o', 'env.o']
    assert.equal(await outcome(COMPILERS.gcc, args), 'miss')
    assert.equal(await outcome(COMPILERS.gcc, args), 'hit')
    const meshcc = { MESHCC_HOME: join(fx.root, 'elsewhere'), _MESHCC_SAFEGUARD: '1' }
    assert.equal(await outcome(COMPILERS.gcc, args, meshcc), 'hit', 'meshcc variables')
    // LANGUAGE and GCC_COLORS come from the compiler model's list only.
    for (const env of [
      { LANGUAGE: 'de' },
      { GCC_COLORS: 'error=01;35' },
      { LANG: 'de_DE.UTF-8' },
      { LC_ALL: 'fr_FR.UTF-8' },
      { CPATH: join(fx.root, 'none') },
    ]) {
      assert.equal(await outcome(COMPILERS.gcc, args, env), 'miss', JSON.stringify(env))
      assert.equal(
        await outcome(COMPILERS.gcc, args, { ...env, ...meshcc }),
        'hit',
        JSON.stringify(env),
      )
    }
  })

  it('clang and clang++ (one binary) do not share: clang++ compiles a .c file as C++', async () => {
    const args = ['-c', 'm.c', '-o', 'lang.o']
    assert.equal(await outcome(COMPILERS.clang, args), 'miss')
    assert.equal(await outcome(COMPILERS.clangxx, args), 'miss')
    assert.equal(
      plainCompile(cwd, COMPILERS.clangxx, ['-c', 'm.c', '-o', 'lang-plain.o']).exitCode,
      0,
    )
    assert.ok(readFileSync(join(cwd, 'lang.o')).equals(readFileSync(join(cwd, 'lang-plain.o'))))
  })

  it('clang configuration file beside the driver: an edit is a miss with the right object', async () => {
    // clang 14 reads <target>-clang.cfg from its own directory: a copy of the driver (it finds
    // its libraries by absolute path) in a temporary bin directory.
    const bin = join(fx.root, 'bin')
    mkdirSync(bin, { recursive: true })
    const clang = join(bin, 'x86_64-linux-gnu-clang')
    copyFileSync(realpathSync(COMPILERS.clang), clang)
    writeFileSync(join(bin, 'x86_64-linux-gnu-clang.cfg'), '-DFROMCFG=1\n')
    const args = ['-c', 'cfg.c', '-o', 'cfg.o']
    const check = async (want: 'hit' | 'miss', what: string) => {
      assert.equal(await outcome(clang, args), want, what)
      assert.equal(plainCompile(cwd, clang, ['-c', 'cfg.c', '-o', 'cfg-plain.o']).exitCode, 0)
      const got = readFileSync(join(cwd, 'cfg.o'))
      assert.ok(got.equals(readFileSync(join(cwd, 'cfg-plain.o'))), `${what}: right object`)
      return got
    }
    const one = await check('miss', 'first')
    await check('hit', 'again')
    writeFileSync(join(bin, 'x86_64-linux-gnu-clang.cfg'), '-DFROMCFG=2\n')
    const two = await check('miss', 'config edited')
    assert.ok(!one.equals(two))
    await check('hit', 'edited config again')
  })
  it("clang's own configuration file: a -g or -gsplit-dwarf in it is seen by the key", async () => {
    const bin = join(fx.root, 'bin-g')
    mkdirSync(bin, { recursive: true })
    const clang = join(bin, 'x86_64-linux-gnu-clang')
    copyFileSync(realpathSync(COMPILERS.clang), clang)
    const cfg = join(bin, 'x86_64-linux-gnu-clang.cfg')
    fx.write({ 'w2/m.c': readFileSync(join(cwd, 'm.c'), 'utf8') })
    const cwd2 = join(fx.root, 'w2')
    const at = async (dir: string, args: string[], files: string[]) => {
      const before = fx.counters()
      removeFiles(dir, files)
      done(await fx.compile(dir, clang, args))
      const got = files.map((f) => readFileSync(join(dir, f)))
      removeFiles(dir, files)
      assert.equal(plainCompile(dir, clang, args).exitCode, 0)
      for (const [i, data] of got.entries())
        assert.ok(data.equals(readFileSync(join(dir, files[i] ?? ''))), `${dir}: ${files[i]}`)
      return fx.counters().cache_hits > before.cache_hits ? 'hit' : 'miss'
    }
    // -g: the object records the working directory, so two directories do not share.
    writeFileSync(cfg, '-g\n')
    const g = ['-c', 'm.c', '-o', 'cfg-g.o']
    assert.equal(await at(cwd, g, ['cfg-g.o']), 'miss')
    assert.equal(await at(cwd2, g, ['cfg-g.o']), 'miss', 'the other directory')
    assert.equal(await at(cwd2, g, ['cfg-g.o']), 'hit')
    // clang 14 skips its default file when --config names one: -g is off, the directories share.
    fx.write({ 'w/o1.cfg': '-O1\n', 'w2/o1.cfg': '-O1\n' })
    const explicit = ['--config', './o1.cfg', '-c', 'm.c', '-o', 'cfg-o1.o']
    assert.equal(await at(cwd, explicit, ['cfg-o1.o']), 'miss')
    assert.equal(await at(cwd2, explicit, ['cfg-o1.o']), 'hit', 'no -g with an explicit --config')
    // -gsplit-dwarf: a hit restores the .dwo too.
    writeFileSync(cfg, '-g -gsplit-dwarf\n')
    const split = ['-c', 'm.c', '-o', 'cfg-split.o']
    assert.equal(await at(cwd, split, ['cfg-split.o', 'cfg-split.dwo']), 'miss')
    assert.equal(await at(cwd, split, ['cfg-split.o', 'cfg-split.dwo']), 'hit')
  })
  it('.incbin (a file no depfile lists) in the source or a header is never cached', async () => {
    fx.write({
      'w/blob.bin': 'one\n',
      'w/blob.h': '__asm__(".pushsection .rodata\\n.incbin \\"blob.bin\\"\\n.popsection");\n',
      'w/inc-src.c':
        '__asm__(".pushsection .rodata\\n.incbin \\"blob.bin\\"\\n.popsection");\nint a;\n',
      'w/inc-hdr.c': '#include "blob.h"\nint b;\n',
    })
    const src = await fx.compile(cwd, COMPILERS.gcc, ['-c', 'inc-src.c', '-o', 'inc-src.o'])
    assert.deepEqual(src, { kind: 'exec-local', reason: 'incbin' })
    const args = ['-c', 'inc-hdr.c', '-o', 'inc-hdr.o']
    const before = fx.counters()
    done(await fx.compile(cwd, COMPILERS.gcc, args))
    fx.write({ 'w/blob.bin': 'two\n' })
    done(await fx.compile(cwd, COMPILERS.gcc, args))
    const after = fx.counters()
    assert.equal(after.cache_hits, before.cache_hits, 'not stored: the blob is unseen')
    assert.equal(after.uncacheable, before.uncacheable + 2)
    assert.ok(readFileSync(join(cwd, 'inc-hdr.o')).includes('two\n'))
  })
  it("'both' mode: a header edited after the preprocessor read it is not recorded", async () => {
    fx.write({
      'w/both.h': '#define H 1\n',
      'w/both.c': '#include "both.h"\nint h = H; /* v1 */\n',
    })
    // A "gcc" that edits the header right after a preprocessor run, as an editor saving would.
    const bin = join(fx.root, 'both-bin')
    mkdirSync(bin, { recursive: true })
    const gcc = join(bin, 'gcc')
    writeFileSync(
      gcc,
      `#!/bin/sh\ncase " $* " in *" -E "*) ${COMPILERS.gcc} "$@"; rc=$?; [ -n "$MUTATE" ] && printf '#define H 2\\n' > both.h; exit $rc ;; esac\nexec ${COMPILERS.gcc} "$@"\n`,
    )
    chmodSync(gcc, 0o755)
    const both = { MESHCC_CACHE_MODE: 'both' }
    const args = ['-c', 'both.c', '-o', 'both.o']
    done(await fx.compile(cwd, gcc, args, { env: both }))
    // Another comment: another direct key, the same preprocessed text (a preprocessor hit).
    fx.write({ 'w/both.c': '#include "both.h"\nint h = H; /* v2 */\n' })
    const hits = fx.counters().cache_hits
    done(await fx.compile(cwd, gcc, args, { env: { ...both, MUTATE: '1' } }))
    assert.equal(fx.counters().cache_hits, hits + 1, 'preprocessor hit')
    assert.equal(readFileSync(join(cwd, 'both.h'), 'utf8'), '#define H 2\n')
    // The header now says 2: the object must too (a manifest entry pairing the new header with
    // the old text's result would replay H = 1).
    done(await fx.compile(cwd, gcc, args, { env: both }))
    assert.equal(
      plainCompile(cwd, COMPILERS.gcc, ['-c', 'both.c', '-o', 'both-plain.o']).exitCode,
      0,
    )
    assert.ok(readFileSync(join(cwd, 'both.o')).equals(readFileSync(join(cwd, 'both-plain.o'))))
  })
  it('-fprofile-use=<dir>: new profile data in the directory is a miss', async () => {
    fx.write({
      'w/p.c':
        'int work(int c) { int s = 0; for (int i = 0; i < 100000; i++) { if (c > 3) s += i * 3; else s ^= i; } return s; }\n' +
        'int main(int c, char **v) { (void)v; return work(c) & 1; }\n',
    })
    const profile = (runArgs: string[]) => {
      rmSync(join(cwd, 'prof'), { recursive: true, force: true })
      // The .gcda is named after the object path: generate with the same -o as the use below.
      const gen = ['-O2', '-fprofile-generate=prof', '-c', 'p.c', '-o', 'p.o']
      assert.equal(plainCompile(cwd, COMPILERS.gcc, gen).exitCode, 0)
      assert.equal(
        plainCompile(cwd, COMPILERS.gcc, ['-fprofile-generate=prof', 'p.o', '-o', 'p']).exitCode,
        0,
      )
      spawnSync(join(cwd, 'p'), runArgs, { cwd })
    }
    const args = ['-O2', '-fprofile-use=prof', '-c', 'p.c', '-o', 'p.o']
    const check = async (want: 'hit' | 'miss', what: string) => {
      assert.equal(await outcome(COMPILERS.gcc, args), want, what)
      const got = readFileSync(join(cwd, 'p.o'))
      assert.equal(plainCompile(cwd, COMPILERS.gcc, args).exitCode, 0)
      assert.ok(got.equals(readFileSync(join(cwd, 'p.o'))), `${what}: right object`)
      return got
    }
    profile([])
    const cold = await check('miss', 'first profile')
    await check('hit', 'same profile')
    profile(['a', 'b', 'c', 'd'])
    const hot = await check('miss', 'other profile')
    assert.ok(!hot.equals(cold), 'the profile changed the object')
    // gcc reads only this object's .gcda (named after the mangled cwd and -o): another object's
    // profile data landing in the directory changes nothing.
    fx.write({ 'w/prof/#elsewhere#q.gcda': 'not ours\n' })
    await check('hit', 'another object profile in the directory')
  })
})
