/**
 * End-to-end, the full language × wrapper-form matrix of issue 3: C (gcc, clang), C++ (g++,
 * clang++), Objective-C (gcc with gobjc, clang) and Objective-C++ (g++ with gobjc++, clang++),
 * each compiled through every wrapper form:
 * - prefix: `bin/meshcc <compiler> …`;
 * - masquerade: symlinks named after the compilers first on PATH, invoked by bare name;
 * - `CCACHE_PREFIX=meshcc ccache <compiler> …`, with a fresh CCACHE_DIR per run so ccache always
 *   misses and meshcc is the cache under test;
 * - `CMAKE_<LANG>_COMPILER_LAUNCHER` for C, CXX, OBJC and OBJCXX in one small CMake + Ninja
 *   project, once with the GNU compilers and once with the LLVM ones.
 *
 * Every case compiles once (a miss), deletes the object and compiles again (a hit), checks that
 * `meshcc stats --json` counted exactly that, and compares both objects byte for byte with the
 * real compiler run directly with the same arguments in the same directory. A control compile at
 * -O0 instead of -O2 must differ from the hit's object, so the comparison can fail.
 *
 * The sources are written by the test and kept tiny so the whole matrix stays well under a
 * minute; `-g` is on so the objects record their compile directory.
 */
import assert from 'node:assert/strict'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import {
  compareWithPlain,
  delta,
  gccIncludeDir,
  hasCommand,
  hasGccObjc,
  makeMasqueradeDir,
  makeNode,
  meshccBin,
  missingPrerequisite,
  mustRun,
  type RunResult,
  run,
  type TestNode,
} from '../helpers/e2e.ts'

/** The sources every case and the CMake project share: one per language and one header. */
const sources: Record<string, string> = {
  'matrix.h': '/* Shared by every unit. */\nstatic inline int scale(int x) { return x * 3 + 1; }\n',
  'c_unit.c': `#include "matrix.h"
int matrix_c(int n)
{
  int s = 0;
  for (int i = 0; i < n; i++) s += scale(i) ^ (s >> 3);
  return s;
}
`,
  'cxx_unit.cpp': `#include "matrix.h"
namespace mx {
template <typename T> struct Acc {
  T total{};
  void add(T v) { total += scale(static_cast<int>(v)); }
};
}
int matrix_cxx(int n)
{
  mx::Acc<long> a;
  for (int i = 0; i < n; ++i) a.add(i);
  return static_cast<int>(a.total);
}
`,
  'objc_unit.m': `#include <objc/Object.h>
#include "matrix.h"
@interface MxBox : Object
{
  int value;
}
- (int)bump:(int)n;
@end
@implementation MxBox
- (int)bump:(int)n
{
  int i; /* gobjc defaults to C90 */
  for (i = 0; i < n; i++) value += scale(i) ^ (value >> 2);
  return value;
}
@end
`,
  'objcxx_unit.mm': `#include <objc/Object.h>
#include "matrix.h"
template <typename T> static T twice(T v) { return v + v; }
@interface MxTally : Object
{
  long total;
}
- (long)add:(int)n;
@end
@implementation MxTally
- (long)add:(int)n
{
  for (int i = 0; i < n; ++i) total += twice<long>(scale(i)) ^ (total >> 2);
  return total;
}
@end
`,
}
/** Objective-C written to a `.c` file name: only `-x objective-c` makes it Objective-C. */
sources['objc_as_c.c'] = sources['objc_unit.m']!

type Lang = 'c' | 'c++' | 'objective-c' | 'objective-c++'

interface Case {
  name: string
  compiler: 'gcc' | 'g++' | 'clang' | 'clang++'
  lang: Lang
  source: string
  /** Flags before `-c`; every case has `-O2` so the -O0 control differs. */
  flags: string[]
}

const objcInclude = hasCommand('gcc') ? ['-I', gccIncludeDir()] : []
const cases: Case[] = [
  { name: 'C with gcc', compiler: 'gcc', lang: 'c', source: 'c_unit.c', flags: ['-O2', '-g'] },
  { name: 'C with clang', compiler: 'clang', lang: 'c', source: 'c_unit.c', flags: ['-O2', '-g'] },
  {
    name: 'C++ with g++',
    compiler: 'g++',
    lang: 'c++',
    source: 'cxx_unit.cpp',
    flags: ['-std=c++17', '-O2', '-g'],
  },
  {
    name: 'C++ with clang++',
    compiler: 'clang++',
    lang: 'c++',
    source: 'cxx_unit.cpp',
    flags: ['-std=c++17', '-O2', '-g'],
  },
  {
    name: 'Objective-C with gcc (.m)',
    compiler: 'gcc',
    lang: 'objective-c',
    source: 'objc_unit.m',
    flags: ['-O2', '-g'],
  },
  {
    name: 'Objective-C with gcc -x objective-c (.c name)',
    compiler: 'gcc',
    lang: 'objective-c',
    source: 'objc_as_c.c',
    flags: ['-O2', '-g', '-x', 'objective-c'],
  },
  {
    name: 'Objective-C with clang (.m)',
    compiler: 'clang',
    lang: 'objective-c',
    source: 'objc_unit.m',
    flags: [...objcInclude, '-O2', '-g'],
  },
  {
    name: 'Objective-C++ with g++ (.mm)',
    compiler: 'g++',
    lang: 'objective-c++',
    source: 'objcxx_unit.mm',
    flags: ['-O2', '-g'],
  },
  {
    name: 'Objective-C++ with clang++ (.mm)',
    compiler: 'clang++',
    lang: 'objective-c++',
    source: 'objcxx_unit.mm',
    flags: [...objcInclude, '-O2', '-g'],
  },
]

/** Why `compiler` cannot compile `lang` here, or false. */
function missingFor(compiler: string, lang: Lang): string | false {
  if (!hasCommand(compiler)) return `${compiler} is not installed`
  if (compiler === 'gcc' && lang === 'objective-c' && !hasGccObjc('objective-c')) {
    return 'gobjc is not installed'
  }
  if (compiler === 'g++' && lang === 'objective-c++' && !hasGccObjc('objective-c++')) {
    return 'gobjc++ is not installed'
  }
  return false
}

/** How one wrapper form runs `<compiler> <args>` through meshcc. */
interface Form {
  name: string
  skip: string | false
  invoke(node: TestNode, c: Case, args: string[], cwd: string, runNo: number): Promise<RunResult>
}

const forms: Form[] = [
  {
    name: 'prefix (bin/meshcc <compiler> …)',
    skip: false,
    invoke: (node, c, args, cwd) => node.meshcc([c.compiler, ...args], { cwd }),
  },
  {
    name: 'masquerade directory first on PATH (bare compiler name)',
    skip: false,
    invoke: (node, c, args, cwd) =>
      // Spawned by bare name: the lookup uses this PATH, so the symlink is what runs.
      run(c.compiler, args, {
        cwd,
        env: node.envWith({ PATH: `${join(node.dir, 'masq')}:${process.env['PATH']}` }),
      }),
  },
  {
    name: 'CCACHE_PREFIX=meshcc ccache <compiler>',
    skip: hasCommand('ccache') ? false : 'ccache is not installed',
    invoke: (node, c, args, cwd, runNo) =>
      run('ccache', [c.compiler, ...args], {
        cwd,
        // A ccache directory of its own for every run: ccache always misses and calls meshcc.
        env: node.envWith({
          CCACHE_PREFIX: meshccBin,
          CCACHE_DIR: join(cwd, `.ccache-${runNo}`),
        }),
      }),
  },
]

/** Replaces the one `-O2` in a command line with `-O0`, for the control compile. */
function atO0(args: string[]): string[] {
  const i = args.indexOf('-O2')
  assert.ok(i >= 0, 'the control needs an -O2 to replace')
  return args.with(i, '-O0')
}

function writeSources(dir: string): void {
  for (const [name, text] of Object.entries(sources)) writeFileSync(join(dir, name), text)
}

const prerequisite = missingPrerequisite()

describe('language × wrapper-form matrix: miss, hit, objects identical to plain', {
  skip: prerequisite ?? false,
}, () => {
  let node: TestNode
  before(async () => {
    node = makeNode('matrix')
    await makeMasqueradeDir(join(node.dir, 'masq'))
  })
  after(async () => {
    await node?.stop()
  })

  for (const [f, form] of forms.entries()) {
    describe(form.name, { skip: form.skip }, () => {
      for (const [k, c] of cases.entries()) {
        test(c.name, { skip: missingFor(c.compiler, c.lang), timeout: 30_000 }, async () => {
          const cwd = join(node.dir, `form${f}-case${k}`)
          await mkdir(cwd)
          writeSources(cwd)
          const out = c.source.replace(/\.\w+$/, '.o')
          const args = [...c.flags, '-c', c.source, '-o', out]

          const s0 = await node.stats()
          const miss = await form.invoke(node, c, args, cwd, 1)
          assert.equal(miss.status, 0, `miss failed: ${miss.stderr}`)
          const s1 = await node.stats()
          const d1 = delta(s0, s1)
          assert.deepEqual(
            { hits: d1.cache_hits, misses: d1.cache_misses },
            { hits: 0, misses: 1 },
            'the first compile is one meshcc miss',
          )
          const missObject = readFileSync(join(cwd, out))

          rmSync(join(cwd, out))
          const hit = await form.invoke(node, c, args, cwd, 2)
          assert.equal(hit.status, 0, `hit failed: ${hit.stderr}`)
          const d2 = delta(s1, await node.stats())
          assert.deepEqual(
            { hits: d2.cache_hits, misses: d2.cache_misses, local: d2.local_compiles },
            { hits: 1, misses: 0, local: 0 },
            'the second compile is one meshcc hit, with no compile behind it',
          )
          const hitObject = readFileSync(join(cwd, out))

          // The real compiler, found on the machine's PATH, same args, same directory.
          const cmp = await compareWithPlain(c.compiler, args, cwd, [out], node.env)
          assert.ok(cmp.allEqual, 'the hit object is byte-identical to a fresh plain compile')
          assert.ok(
            missObject.equals(readFileSync(join(cwd, out))),
            'the miss object is byte-identical to a fresh plain compile',
          )

          // Control: the comparison sees a difference when there is one.
          await mustRun(c.compiler, atO0(args), { cwd, env: node.env })
          assert.ok(!hitObject.equals(readFileSync(join(cwd, out))), 'an -O0 object differs')
        })
      }
    })
  }

  const cmakeSkip = !hasCommand('cmake')
    ? 'cmake is not installed'
    : !hasCommand('ninja')
      ? 'ninja is not installed'
      : false
  const toolchains = [
    { name: 'GNU', c: 'gcc', cxx: 'g++', objcFlags: '' },
    { name: 'LLVM', c: 'clang', cxx: 'clang++', objcFlags: objcInclude.join(' ') },
  ]
  for (const tc of toolchains) {
    const skip =
      cmakeSkip ||
      missingFor(tc.c, 'objective-c') ||
      missingFor(tc.cxx, 'objective-c++') ||
      missingFor(tc.cxx, 'c++')
    test(`CMAKE_<LANG>_COMPILER_LAUNCHER, C/CXX/OBJC/OBJCXX, ${tc.name} + Ninja`, {
      skip,
      timeout: 60_000,
    }, async () => {
      const src = join(node.dir, `cmake-src-${tc.name}`)
      const build = join(node.dir, `cmake-build-${tc.name}`)
      await mkdir(src)
      writeSources(src)
      writeFileSync(
        join(src, 'CMakeLists.txt'),
        [
          'cmake_minimum_required(VERSION 3.16)',
          'project(meshcc_matrix LANGUAGES C CXX OBJC OBJCXX)',
          'set(CMAKE_CXX_STANDARD 17)',
          // An object library: four compiles and no link (the ObjC runtime is not needed).
          'add_library(matrix OBJECT c_unit.c cxx_unit.cpp objc_unit.m objcxx_unit.mm)',
          '',
        ].join('\n'),
      )
      const launchers = ['C', 'CXX', 'OBJC', 'OBJCXX'].map(
        (l) => `-DCMAKE_${l}_COMPILER_LAUNCHER=${meshccBin}`,
      )
      await mustRun(
        'cmake',
        [
          ...['-S', src, '-B', build, '-G', 'Ninja', '-DCMAKE_BUILD_TYPE=RelWithDebInfo'],
          `-DCMAKE_C_COMPILER=${tc.c}`,
          `-DCMAKE_CXX_COMPILER=${tc.cxx}`,
          `-DCMAKE_OBJC_COMPILER=${tc.c}`,
          `-DCMAKE_OBJCXX_COMPILER=${tc.cxx}`,
          `-DCMAKE_OBJC_FLAGS=${tc.objcFlags}`,
          `-DCMAKE_OBJCXX_FLAGS=${tc.objcFlags}`,
          ...launchers,
        ],
        { cwd: node.dir, env: node.env },
      )

      // Ninja's own command lines: exactly what it runs, launcher first.
      const commands = (
        await mustRun('ninja', ['-C', build, '-t', 'commands'], { cwd: build })
      ).stdout
        .toString()
        .split('\n')
        .filter((l) => l.startsWith(`${meshccBin} `))
      assert.equal(commands.length, 4, `four compiles through the launcher:\n${commands}`)
      const units = commands.map((line) => {
        const plain = line.slice(meshccBin.length + 1)
        const object = / -o (\S+)/.exec(plain)?.[1]
        assert.ok(object !== undefined, `an -o in ${plain}`)
        return { plain, object }
      })

      const s0 = await node.stats()
      await mustRun('cmake', ['--build', build], { cwd: node.dir, env: node.env })
      const s1 = await node.stats()
      const d1 = delta(s0, s1)
      assert.deepEqual({ hits: d1.cache_hits, misses: d1.cache_misses }, { hits: 0, misses: 4 })
      const missObjects = units.map((u) => readFileSync(join(build, u.object)))

      for (const u of units) rmSync(join(build, u.object))
      await mustRun('cmake', ['--build', build], { cwd: node.dir, env: node.env })
      const d2 = delta(s1, await node.stats())
      assert.deepEqual(
        { hits: d2.cache_hits, misses: d2.cache_misses, local: d2.local_compiles },
        { hits: 4, misses: 0, local: 0 },
        'the rebuild after deleting the objects is four hits',
      )

      for (const [i, u] of units.entries()) {
        const hitObject = readFileSync(join(build, u.object))
        const cmp = await compareWithPlain('sh', ['-c', u.plain], build, [u.object], node.env)
        assert.ok(cmp.allEqual, `${u.object}: the hit object is byte-identical to plain`)
        assert.ok(
          missObjects[i]!.equals(readFileSync(join(build, u.object))),
          `${u.object}: the miss object is byte-identical to plain`,
        )
        assert.match(u.plain, / -O2 /, 'RelWithDebInfo compiles at -O2')
        await mustRun('sh', ['-c', u.plain.replace(' -O2 ', ' -O0 ')], {
          cwd: build,
          env: node.env,
        })
        assert.ok(
          !hitObject.equals(readFileSync(join(build, u.object))),
          `${u.object}: control at -O0 differs`,
        )
      }
    })
  }
})
