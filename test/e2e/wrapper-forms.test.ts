/**
 * End-to-end, every wrapper form besides the plain prefix (see languages.test.ts):
 * - a masquerade directory of symlinks first on PATH (through a shell and through make),
 *   including the loop guards (meshcc must skip itself on PATH, and fail cleanly when no real
 *   compiler is left);
 * - `CCACHE_PREFIX=meshcc` through real ccache;
 * - `CMAKE_<LANG>_COMPILER_LAUNCHER` in real CMake builds with Ninja and with Make;
 * - a Makefile project with `CC="meshcc gcc"` and `-MMD -MP` dependency files.
 * Every object (and dependency file) is compared with the same build done without meshcc.
 */
import assert from 'node:assert/strict'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import {
  compareWithPlain,
  copyExample,
  delta,
  hasCommand,
  listFiles,
  makeMasqueradeDir,
  makeNode,
  meshccBin,
  missingPrerequisite,
  mustRun,
  objectFiles,
  run,
  type TestNode,
} from '../helpers/e2e.ts'

const prerequisite = missingPrerequisite()

describe('wrapper forms', { skip: prerequisite ?? false }, () => {
  let node: TestNode
  let masq: string
  before(async () => {
    node = makeNode('forms')
    masq = await makeMasqueradeDir(join(node.dir, 'masq'))
  })
  after(async () => {
    await node?.stop()
  })

  test('masquerade directory first on PATH: gcc, cc, g++, clang through a shell', async () => {
    const env = node.envWith({ PATH: `${masq}:${process.env['PATH']}` })
    const cases = [
      { cc: 'gcc', example: 'hello', src: 'hello.c', flags: '-O2' },
      { cc: 'cc', example: 'hello', src: 'greet.c', flags: '-O2 -g' },
      { cc: 'g++', example: 'cpp', src: 'main.cpp', flags: '-std=c++20 -O1' },
      { cc: 'c++', example: 'cpp', src: 'shapes.cpp', flags: '-std=c++20' },
      ...(hasCommand('clang')
        ? [{ cc: 'clang', example: 'hello', src: 'hello.c', flags: '-O1' }]
        : []),
      ...(hasCommand('clang++')
        ? [{ cc: 'clang++', example: 'cpp', src: 'main.cpp', flags: '-std=c++20' }]
        : []),
    ]
    for (const c of cases) {
      const cwd = copyExample(c.example, join(node.dir, `masq-${c.cc}`))
      const cmd = `${c.cc} ${c.flags} -c ${c.src} -o out.o`
      const s0 = await node.stats()
      const miss = await run('sh', ['-c', cmd], { cwd, env })
      assert.equal(miss.status, 0, `${cmd}: ${miss.stderr}`)
      rmSync(join(cwd, 'out.o'))
      const hit = await run('sh', ['-c', cmd], { cwd, env })
      assert.equal(hit.status, 0, `${cmd}: ${hit.stderr}`)
      const d = delta(s0, await node.stats())
      assert.deepEqual({ hits: d.cache_hits, misses: d.cache_misses }, { hits: 1, misses: 1 }, cmd)
      // The plain run uses the real compiler: the shell finds it without the masquerade dir.
      const cmp = await compareWithPlain('sh', ['-c', cmd], cwd, ['out.o'])
      assert.ok(cmp.allEqual, `${cmd}: object from the hit is identical to plain`)
    }
  })

  test('masquerade: meshcc skips every directory on PATH that leads back to itself', async () => {
    const masq2 = await makeMasqueradeDir(join(node.dir, 'masq2'))
    const env = node.envWith({ PATH: `${masq}:${masq2}:${masq}:${process.env['PATH']}` })
    const cwd = copyExample('hello', join(node.dir, 'masq-twice'))
    const r = await run(join(masq, 'gcc'), ['-O2', '-c', 'hello.c', '-o', 'hello.o'], { cwd, env })
    assert.equal(r.status, 0, r.stderr.toString())
    const cmp = await compareWithPlain('gcc', ['-O2', '-c', 'hello.c', '-o', 'hello.o'], cwd, [
      'hello.o',
    ])
    assert.ok(cmp.allEqual)
  })

  test('masquerade: with no real compiler left on PATH, a clear error instead of a loop', async () => {
    const cwd = copyExample('hello', join(node.dir, 'masq-loop'))
    const env = node.envWith({ PATH: `${masq}:${join(node.dir, 'nowhere')}` })
    const r = await run(join(masq, 'gcc'), ['-c', 'hello.c', '-o', 'hello.o'], {
      cwd,
      env,
      signal: AbortSignal.timeout(20_000),
    })
    assert.notEqual(r.status, 0, 'fails')
    assert.equal(r.signal, null, 'exits by itself (no endless exec loop)')
    assert.match(r.stderr.toString(), /meshcc/i, 'says that meshcc could not find the compiler')
  })

  test('masquerade directory with make (CC defaults to cc)', {
    skip: !hasCommand('make'),
  }, async () => {
    const cwd = copyExample('make', join(node.dir, 'make-masq'))
    const env = node.envWith({ PATH: `${masq}:${process.env['PATH']}` })
    const s0 = await node.stats()
    await mustRun('make', ['-s'], { cwd, env })
    const first = delta(s0, await node.stats())
    assert.equal(first.cache_misses, 3, 'three translation units compiled through meshcc')
    assert.ok(first.uncacheable >= 1, 'the link step is counted as uncacheable')
    await mustRun('make', ['-s', 'clean'], { cwd, env })
    const s1 = await node.stats()
    await mustRun('make', ['-s'], { cwd, env })
    assert.equal(delta(s1, await node.stats()).cache_hits, 3, 'a rebuild is three hits')
    const viaMeshcc = collect(join(cwd, 'build'))
    await mustRun('make', ['-s', 'clean'], { cwd })
    await mustRun('make', ['-s'], { cwd }) // plain: the machine's PATH
    assertSameFiles(viaMeshcc, collect(join(cwd, 'build')))
    const out = await mustRun(join(cwd, 'build', 'wordcount'), ['one two', 'three'], { cwd })
    assert.match(out.stdout.toString(), /^3 words/)
  })

  test('Makefile project with CC="meshcc gcc": objects and -MMD -MP depfiles as plain', async () => {
    const cwd = copyExample('make', join(node.dir, 'make-prefix'))
    const cc = `CC=${meshccBin} gcc`
    await mustRun('make', ['-s', cc], { cwd, env: node.env })
    await mustRun('make', ['-s', 'clean'], { cwd })
    const s0 = await node.stats()
    await mustRun('make', ['-s', cc], { cwd, env: node.env })
    assert.equal(delta(s0, await node.stats()).cache_hits, 3)
    const viaMeshcc = collect(join(cwd, 'build'))
    assert.ok(
      [...viaMeshcc.keys()].some((f) => f.endsWith('.d')),
      'depfiles were written',
    )
    await mustRun('make', ['-s', 'clean'], { cwd })
    await mustRun('make', ['-s', 'CC=gcc'], { cwd })
    assertSameFiles(viaMeshcc, collect(join(cwd, 'build')))
  })

  test('CCACHE_PREFIX=meshcc through real ccache', { skip: !hasCommand('ccache') }, async () => {
    const cwd = copyExample('hello', join(node.dir, 'ccache'))
    const args = ['-O2', '-Wall', '-c', 'hello.c', '-o', 'hello.o']
    const withCcache = (dir: string) =>
      node.envWith({
        CCACHE_PREFIX: meshccBin,
        CCACHE_DIR: join(node.dir, dir),
        CCACHE_NOHASHDIR: '1',
      })
    const s0 = await node.stats()
    await mustRun('ccache', ['gcc', ...args], { cwd, env: withCcache('ccache-1') })
    const d1 = delta(s0, await node.stats())
    assert.equal(
      d1.cache_misses,
      1,
      'ccache missed and ran the compile through meshcc: a meshcc miss',
    )
    rmSync(join(cwd, 'hello.o'))
    // A fresh ccache directory: ccache misses again, meshcc must hit.
    const s1 = await node.stats()
    await mustRun('ccache', ['gcc', ...args], { cwd, env: withCcache('ccache-2') })
    const d2 = delta(s1, await node.stats())
    assert.equal(d2.cache_hits, 1, 'meshcc served the compile ccache asked for')
    const cmp = await compareWithPlain('gcc', args, cwd, ['hello.o'])
    assert.ok(cmp.allEqual)
  })

  for (const generator of ['Ninja', 'Unix Makefiles']) {
    const tool = generator === 'Ninja' ? 'ninja' : 'make'
    const skip = !hasCommand('cmake')
      ? 'cmake is not installed'
      : !hasCommand(tool)
        ? `${tool} is not installed`
        : false
    test(`CMAKE_<LANG>_COMPILER_LAUNCHER with CMake + ${generator}`, { skip }, async () => {
      const src = copyExample('cmake', join(node.dir, `cmake-src-${tool}`))
      const build = join(node.dir, `cmake-build-${tool}`)
      const configure = (launcher: boolean) => [
        '-S',
        src,
        '-B',
        build,
        '-G',
        generator,
        '-DCMAKE_BUILD_TYPE=RelWithDebInfo',
        ...(launcher
          ? [
              `-DCMAKE_C_COMPILER_LAUNCHER=${meshccBin}`,
              `-DCMAKE_CXX_COMPILER_LAUNCHER=${meshccBin}`,
            ]
          : []),
      ]
      // Reference: the same build dir path, no launcher.
      await mustRun('cmake', configure(false), { cwd: node.dir })
      await mustRun('cmake', ['--build', build], { cwd: node.dir })
      const plain = objectFiles(build)
      assert.equal(plain.size, 2, 'two objects in the plain build')
      rmSync(build, { recursive: true })

      await mustRun('cmake', configure(true), { cwd: node.dir, env: node.env })
      const s0 = await node.stats()
      await mustRun('cmake', ['--build', build], { cwd: node.dir, env: node.env })
      const first = delta(s0, await node.stats())
      assert.equal(first.cache_misses, 2, 'both translation units missed')
      assertSameFiles(plain, objectFiles(build))

      await mustRun('cmake', ['--build', build, '--target', 'clean'], {
        cwd: node.dir,
        env: node.env,
      })
      const s1 = await node.stats()
      await mustRun('cmake', ['--build', build], { cwd: node.dir, env: node.env })
      assert.equal(delta(s1, await node.stats()).cache_hits, 2, 'a clean rebuild is two hits')
      assertSameFiles(plain, objectFiles(build))
      const out = await mustRun(join(build, 'report'), [], { cwd: build })
      assert.equal(out.stdout.toString(), 'min 3.9 max 18.5 mean 7.65\n')
    })
  }
})

/** Objects and depfiles under a build dir. */
function collect(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>()
  for (const f of listFiles(dir)) {
    if (f.endsWith('.o') || f.endsWith('.d')) out.set(f, readFileSync(join(dir, f)))
  }
  return out
}

function assertSameFiles(expected: Map<string, Buffer>, actual: Map<string, Buffer>): void {
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort(), 'same set of files')
  const differing = [...expected].filter(([f, b]) => !b.equals(actual.get(f)!)).map(([f]) => f)
  assert.deepEqual(differing, [], 'every file byte-identical to the plain build')
}
