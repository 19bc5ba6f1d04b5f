/**
 * Remote compiles over a real (in-process) mesh, with the real sandbox and toolchains packaged
 * from this machine's gcc and clang: the client preprocesses, a builder compiles at the client's
 * paths, and every object is byte-identical to a local compile in the same directory, `-g`
 * included; depfiles too. Controls show the comparison can fail (the same remote compile at
 * another path differs). Compile errors come back with the compiler's exit code; diagnostics
 * are exact for clang and, with the sources gcc jobs ship, for gcc.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { testOrg } from '../helpers/mesh.ts'
import {
  buildSandboxHelper,
  hasClang,
  localCompile,
  type Pair,
  packageToolchains,
  remoteCompile,
  startPair,
  type Toolchains,
  writeTree,
} from './remote-fixture.ts'

const isLinux = process.platform === 'linux'

const PROJECT: Record<string, string> = {
  'include/greet.h': [
    '#pragma once',
    '#define GREETING "hello from " __FILE__',
    '#define SQ(x) ((x) * (x))',
    'static inline int twice(int a) { return 2 * a; }',
    '',
  ].join('\n'),
  'src/main.c': [
    '#include <stdio.h>',
    '#include "greet.h"',
    'static const char *where(void) { return __FILE__; }',
    'int main(void) { printf("%s %s %d\\n", GREETING, where(), SQ(twice(3)) + FOO); return __LINE__; }',
    '',
  ].join('\n'),
  'src/warn.c': ['#include "greet.h"', 'int f(int x) { int unused; return SQ(x); }', ''].join('\n'),
  'src/bad.c': ['#include "greet.h"', 'int g(void) { return undeclared_thing + SQ(2); }', ''].join(
    '\n',
  ),
  'src/shapes.cpp': [
    '#include <string>',
    '#include <vector>',
    '#include <numeric>',
    '#include "greet.h"',
    'template <class T> T total(const std::vector<T>& v) { return std::accumulate(v.begin(), v.end(), T{}); }',
    'struct Shape { virtual ~Shape() = default; virtual double area() const = 0; };',
    'struct Sq : Shape { double s; explicit Sq(double x) : s(x) {} double area() const override { return SQ(s); } };',
    'int run() { std::vector<int> v{1, 2, 3}; std::string g = GREETING; Sq q(2); return total(v) + (int)q.area() + (int)g.size(); }',
    '',
  ].join('\n'),
}

describe('remote compiles are byte-identical to local ones', {
  skip: !isLinux && 'Linux only',
}, () => {
  let tc: Toolchains
  let pair: Pair
  let cwd: string
  const org = testOrg('acme')

  before(async () => {
    buildSandboxHelper()
    tc = await packageToolchains(hasClang ? ['gcc', 'clang'] : ['gcc'])
    pair = await startPair(org, tc)
    cwd = join(await mkdtemp(join(tmpdir(), 'meshcc-remote-client-')), 'home', 'alice', 'proj')
    await writeTree(cwd, PROJECT)
  })
  after(async () => {
    await pair?.stop()
    await rm(tc.dir, { recursive: true, force: true })
    await rm(join(cwd, '..', '..', '..'), { recursive: true, force: true })
  })

  /** Compiles locally, moves the object aside, compiles remotely to the same path. */
  async function both(compiler: string, args: string[], out: string, toolchain: string) {
    const local = localCompile(compiler, args, cwd)
    assert.equal(local.exitCode, 0, local.stderr.toString())
    const localObj = await readFile(join(cwd, out))
    await rename(join(cwd, out), join(cwd, `${out}.local`))
    const remote = await remoteCompile(pair, compiler, args, cwd, toolchain)
    assert.equal(remote.exitCode, 0, remote.stderr.toString())
    const remoteObj = await readFile(join(cwd, out))
    return { local, localObj, remote, remoteObj }
  }

  it('gcc C with -g -O2 -Wall, macros, __FILE__, -D and a depfile', async () => {
    const args = [
      '-g',
      '-O2',
      '-Wall',
      '-Iinclude',
      '-DFOO=7',
      '-MD',
      '-MP',
      '-c',
      'src/main.c',
      '-o',
      'main.o',
    ]
    const local = localCompile('gcc', args, cwd)
    assert.equal(local.exitCode, 0, local.stderr.toString())
    const localObj = await readFile(join(cwd, 'main.o'))
    const localDep = await readFile(join(cwd, 'main.d'))
    await rm(join(cwd, 'main.o'))
    await rm(join(cwd, 'main.d'))
    const remote = await remoteCompile(pair, 'gcc', args, cwd, tc.ids['gcc']!)
    assert.equal(remote.exitCode, 0)
    assert.equal(remote.suspect, undefined, remote.stderr.toString())
    assert.ok(
      localObj.includes(Buffer.from(cwd)),
      'the object names the directory (DW_AT_comp_dir)',
    )
    assert.ok(localObj.equals(await readFile(join(cwd, 'main.o'))), 'objects differ')
    assert.equal((await readFile(join(cwd, 'main.d'))).toString(), localDep.toString())
    assert.equal(pair.builder.counters.compiled >= 1, true)
  })

  it('g++ C++ with -g -O2 (templates, virtuals, the standard library)', async () => {
    const { localObj, remoteObj, remote } = await both(
      'g++',
      ['-g', '-O2', '-Wall', '-std=c++17', '-Iinclude', '-c', 'src/shapes.cpp', '-o', 'shapes.o'],
      'shapes.o',
      tc.ids['gcc']!,
    )
    assert.equal(remote.suspect, undefined)
    assert.ok(localObj.equals(remoteObj), 'C++ objects differ')
  })

  // gcc runs objcopy (packaged with the toolchain) to split the .dwo off.
  it('gcc -gsplit-dwarf: the object and its .dwo both match', async () => {
    const args = [
      '-g',
      '-gsplit-dwarf',
      '-O2',
      '-Iinclude',
      '-DFOO=3',
      '-c',
      'src/main.c',
      '-o',
      'split.o',
    ]
    const local = localCompile('gcc', args, cwd)
    assert.equal(local.exitCode, 0, local.stderr.toString())
    const [obj, dwo] = [
      await readFile(join(cwd, 'split.o')),
      await readFile(join(cwd, 'split.dwo')),
    ]
    await rm(join(cwd, 'split.o'))
    await rm(join(cwd, 'split.dwo'))
    const remote = await remoteCompile(pair, 'gcc', args, cwd, tc.ids['gcc']!)
    assert.equal(remote.exitCode, 0, remote.stderr.toString())
    assert.ok(obj.equals(await readFile(join(cwd, 'split.o'))), 'objects differ')
    assert.ok(dwo.equals(await readFile(join(cwd, 'split.dwo'))), '.dwo files differ')
  })

  it('an out-of-tree source (absolute path outside the working directory), CMake style', async () => {
    const build = join(cwd, 'build')
    await writeTree(build, { '.keep': '' })
    const args = [
      '-g',
      '-O1',
      `-I${cwd}/include`,
      '-DFOO=1',
      '-c',
      `${cwd}/src/main.c`,
      '-o',
      'CMakeFiles/app.dir/main.c.o',
    ]
    await writeTree(build, { 'CMakeFiles/app.dir/.keep': '' })
    const local = localCompile('gcc', args, build)
    assert.equal(local.exitCode, 0, local.stderr.toString())
    const localObj = await readFile(join(build, 'CMakeFiles/app.dir/main.c.o'))
    await rm(join(build, 'CMakeFiles/app.dir/main.c.o'))
    const remote = await remoteCompile(pair, 'gcc', args, build, tc.ids['gcc']!)
    assert.equal(remote.exitCode, 0, remote.stderr.toString())
    assert.ok(localObj.equals(await readFile(join(build, 'CMakeFiles/app.dir/main.c.o'))))
  })

  it('control: the same job for another working directory gives a different object', async () => {
    const other = join(cwd, '..', 'elsewhere')
    await writeTree(other, PROJECT)
    const args = ['-g', '-O2', '-Iinclude', '-DFOO=7', '-c', 'src/main.c', '-o', 'main.o']
    await remoteCompile(pair, 'gcc', args, other, tc.ids['gcc']!)
    const local = localCompile('gcc', args, cwd)
    assert.equal(local.exitCode, 0)
    const there = await readFile(join(other, 'main.o'))
    assert.ok(there.includes(Buffer.from(other)))
    assert.ok(
      !there.equals(await readFile(join(cwd, 'main.o'))),
      'objects for two directories agree?',
    )
  })

  // More cases (headers, macros, colours, -Werror) in remote-gcc-diagnostics.test.ts.
  it('gcc warnings: same exit code and exactly the same stderr, excerpts included', async () => {
    const args = ['-O2', '-Wall', '-Iinclude', '-c', 'src/warn.c', '-o', 'warn.o']
    const local = localCompile('gcc', args, cwd)
    const remote = await remoteCompile(pair, 'gcc', args, cwd, tc.ids['gcc']!)
    assert.equal(remote.exitCode, 0)
    assert.equal(remote.suspect, undefined)
    assert.ok(local.stderr.length > 0)
    assert.equal(remote.stderr.toString(), local.stderr.toString())
  })

  it('a gcc compile error: the exit code, the messages, and no object left behind', async () => {
    const args = ['-Iinclude', '-c', 'src/bad.c', '-o', 'bad.o']
    const local = localCompile('gcc', args, cwd)
    assert.equal(local.exitCode, 1)
    await writeTree(cwd, { 'bad.o': 'stale' })
    const remote = await remoteCompile(pair, 'gcc', args, cwd, tc.ids['gcc']!)
    assert.equal(remote.exitCode, 1)
    assert.equal(remote.suspect, undefined)
    assert.match(
      remote.stderr.toString(),
      /src\/bad\.c:2:\d+: error: 'undeclared_thing' undeclared/,
    )
    assert.equal(remote.stderr.toString(), local.stderr.toString())
    await assert.rejects(stat(join(cwd, 'bad.o')), /ENOENT/)
  })

  it('clang: warnings come back exactly, objects identical (-O2, and -g with DWARF 4)', {
    skip: !hasClang && 'no clang',
  }, async () => {
    const warn = await both(
      'clang',
      ['-O2', '-Wall', '-Iinclude', '-c', 'src/warn.c', '-o', 'warn-clang.o'],
      'warn-clang.o',
      tc.ids['clang']!,
    )
    assert.equal(warn.remote.suspect, undefined)
    assert.ok(warn.local.stderr.length > 0, 'the control compile warns')
    assert.equal(warn.remote.stderr.toString(), warn.local.stderr.toString())
    assert.ok(warn.localObj.equals(warn.remoteObj))

    const dbg = await both(
      'clang',
      ['-g', '-gdwarf-4', '-O1', '-Iinclude', '-DFOO=2', '-c', 'src/main.c', '-o', 'main-clang.o'],
      'main-clang.o',
      tc.ids['clang']!,
    )
    assert.ok(dbg.localObj.includes(Buffer.from(cwd)))
    assert.ok(dbg.localObj.equals(dbg.remoteObj), 'clang -g objects differ')

    const cxx = await both(
      'clang++',
      ['-O2', '-std=c++17', '-Iinclude', '-c', 'src/shapes.cpp', '-o', 'shapes-clang.o'],
      'shapes-clang.o',
      tc.ids['clang']!,
    )
    assert.ok(cxx.localObj.equals(cxx.remoteObj), 'clang++ objects differ')
  })

  it('clang: a compile error returns the exact stderr and exit code', {
    skip: !hasClang && 'no clang',
  }, async () => {
    const args = ['-Iinclude', '-c', 'src/bad.c', '-o', 'bad-clang.o']
    const local = localCompile('clang', args, cwd)
    assert.equal(local.exitCode, 1)
    const remote = await remoteCompile(pair, 'clang', args, cwd, tc.ids['clang']!)
    assert.equal(remote.exitCode, 1)
    assert.equal(remote.suspect, undefined)
    assert.equal(remote.stderr.toString(), local.stderr.toString())
  })
})
