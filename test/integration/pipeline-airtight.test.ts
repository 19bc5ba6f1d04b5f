/**
 * Inputs the command line does not show: extra outputs the compiler skips, the environment,
 * clang's configuration files and the name clang is invoked by.
 */
import assert from 'node:assert/strict'
import { copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { KEY_ENV_VARS } from '../../src/compile/key-inputs.ts'
import type { CompileReply } from '../../src/compile/types.ts'
import { DIAGNOSTICS_ENV_VARS, OUTPUT_ENV_VARS } from '../../src/compilers/environment.ts'
import { COMPILERS, createFixture, type Fixture, plainCompile, removeFiles } from './pipeline-fixture.ts'

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
    assert.equal(plainCompile(cwd, COMPILERS.gcc, args.map((a) => (a === 'lto.o' ? 'plain-lto.o' : a))).exitCode, 0)
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
    for (const env of [{ LANG: 'de_DE.UTF-8' }, { LC_ALL: 'fr_FR.UTF-8' }, { CPATH: join(fx.root, 'none') }]) {
      assert.equal(await outcome(COMPILERS.gcc, args, env), 'miss', JSON.stringify(env))
      assert.equal(await outcome(COMPILERS.gcc, args, { ...env, ...meshcc }), 'hit', JSON.stringify(env))
    }
  })

  it('clang and clang++ (one binary) do not share: clang++ compiles a .c file as C++', async () => {
    const args = ['-c', 'm.c', '-o', 'lang.o']
    assert.equal(await outcome(COMPILERS.clang, args), 'miss')
    assert.equal(await outcome(COMPILERS.clangxx, args), 'miss')
    assert.equal(plainCompile(cwd, COMPILERS.clangxx, ['-c', 'm.c', '-o', 'lang-plain.o']).exitCode, 0)
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
})
