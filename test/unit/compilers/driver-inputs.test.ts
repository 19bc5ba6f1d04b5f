/**
 * The driver's own choices that decide what a compile reads and is: the language a C++-mode
 * driver gives C inputs, header inputs (precompiled headers, with or without -c), clang --config
 * files, profile data, basic-block section lists, plugins, linker inputs named in warnings, and
 * debug info the -g options cannot see. Expected values were checked against gcc 12 and clang 14
 * (driver-inputs-real.test.ts runs the same rules against the installed compilers).
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { splitConfigFile } from '../../../src/compilers/config-file.ts'
import { manglePath } from '../../../src/compilers/profile-data.ts'
import { parseCompilerArgs } from '../../../src/compilers/parse.ts'
import { recordedWorkingDirectory } from '../../../src/compilers/working-directory.ts'
import type {
  CacheableInvocation,
  CompilerInvocation,
  ParseOptions,
} from '../../../src/compilers/types.ts'

function opts(compiler: string, extra: Partial<ParseOptions> = {}): ParseOptions {
  return { compiler: `/usr/bin/${compiler}`, cwd: '/p', readFile: noFiles, ...extra }
}

function noFiles(path: string): string {
  throw Object.assign(new Error(`ENOENT ${path}`), { code: 'ENOENT' })
}

function parse(compiler: string, args: string[], extra: Partial<ParseOptions> = {}) {
  return parseCompilerArgs(args, opts(compiler, extra))
}

function ok(compiler: string, args: string[], extra: Partial<ParseOptions> = {}) {
  const inv: CompilerInvocation = parse(compiler, args, extra)
  if (!inv.cacheable) assert.fail(`${compiler} ${args.join(' ')}: ${inv.reason} (${inv.detail})`)
  return inv as CacheableInvocation
}

function reason(compiler: string, args: string[], extra: Partial<ParseOptions> = {}): string {
  const inv = parse(compiler, args, extra)
  return inv.cacheable ? 'cacheable' : inv.reason
}

function lang(compiler: string, args: string[]): string {
  return ok(compiler, args).language
}

test('C++-mode drivers compile .c files as C++, other languages as they are', () => {
  for (const cc of ['g++', 'c++', 'clang++', 'clang++-14', 'x86_64-linux-gnu-g++-12']) {
    assert.equal(lang(cc, ['-c', 'a.c']), 'c++', cc)
    assert.equal(lang(cc, ['-c', 'a.m']), 'objective-c', cc)
    assert.equal(lang(cc, ['-c', 'a.S']), 'assembler-with-cpp', cc)
    assert.equal(lang(cc, ['-c', 'a.cc']), 'c++', cc)
    assert.equal(lang(cc, ['-x', 'c', '-c', 'a.c']), 'c', cc)
    // After the source, -x changes nothing for it.
    assert.equal(lang(cc, ['-c', 'a.c', '-x', 'c']), 'c++', cc)
    assert.equal(reason(cc, ['-c', 'a.i']), 'unsupported-language', cc)
  }
  for (const cc of ['gcc', 'cc', 'clang', 'clang-14', 'x86_64-linux-gnu-gcc-12']) {
    assert.equal(lang(cc, ['-c', 'a.c']), 'c', cc)
  }
})

test("g++'s -x rule: any -x since the last input stops the wrapping, clang's -x none does not", () => {
  // g++ only wraps a .c file when no -x came since the previous input (even -x none).
  assert.equal(lang('g++', ['-x', 'none', '-c', 'a.c']), 'c')
  assert.equal(lang('g++', ['-x', 'none', 'x.o', '-c', 'a.c']), 'c++')
  // …and then wraps it whatever -x is in effect: `-x c` made x.o a C source, a.c is C++.
  assert.equal(reason('g++', ['-x', 'c', 'x.o', '-c', 'a.c']), 'multiple-sources')
  assert.equal(lang('clang++', ['-x', 'none', '-c', 'a.c']), 'c++')
  // One-character names are left alone by g++ (and do not reset its -x flag).
  assert.equal(lang('g++', ['-x', 'none', 'x', '-c', 'a.c']), 'c')
  assert.equal(lang('g++', ['-x', 'none', 'xy', '-c', 'a.c']), 'c++')
})

test('clang --driver-mode decides C++ mode; other modes are not cached', () => {
  assert.equal(lang('clang', ['--driver-mode=g++', '-c', 'a.c']), 'c++')
  assert.equal(lang('clang++', ['-c', 'a.c', '--driver-mode=gcc']), 'c')
  assert.equal(lang('clang', ['--driver-mode=gcc', '--driver-mode=g++', '-c', 'a.c']), 'c++')
  assert.equal(reason('clang', ['--driver-mode=cl', '/c', 'a.c']), 'unsupported-option')
  assert.equal(reason('clang', ['--driver-mode=cpp', 'a.c']), 'unsupported-option')
  assert.equal(reason('gcc', ['--driver-mode=g++', '-c', 'a.c']), 'unsupported-option')
  // The mode option is in the key args too.
  assert.notDeepEqual(
    ok('clang', ['--driver-mode=gcc', '-c', 'a.c']).hashedArgs,
    ok('clang', ['-c', 'a.c']).hashedArgs,
  )
})

test('header inputs make precompiled headers, with or without -c', () => {
  const cases: [string, string[]][] = [
    ['gcc', ['-x', 'c-header', 'foo.h', '-o', 'foo.h.gch']],
    ['gcc', ['-x', 'c++-header', 'foo.hpp', '-o', 'foo.hpp.gch']],
    ['clang', ['-x', 'objective-c-header', 'foo.h', '-o', 'foo.pch']],
    ['clang', ['-x', 'objective-c++-header', 'foo.h']],
    ['gcc', ['foo.h']],
    ['g++', ['foo.h', '-o', 'foo.h.gch']],
    ['clang++', ['-O2', 'foo.h']],
    ['g++', ['pch.hh']],
    ['clang', ['-c', 'foo.h']],
    ['g++', ['-c', 'foo.h', '-o', 'foo.h.gch']],
    ['gcc', ['-x', 'c-header', 'foo.h', 'main.o', '-o', 'prog']],
  ]
  for (const [cc, args] of cases) {
    assert.equal(reason(cc, args), 'precompiled-header', `${cc} ${args.join(' ')}`)
  }
  // Earlier stages still win: nothing is written.
  assert.equal(reason('gcc', ['-E', 'foo.h']), 'preprocess-only')
  assert.equal(reason('gcc', ['-fsyntax-only', 'foo.h']), 'syntax-only')
  assert.equal(reason('gcc', ['-M', 'foo.h']), 'dependencies-only')
  // A plain link is still a link.
  assert.equal(reason('gcc', ['a.o', 'b.o', '-o', 'prog']), 'linking')
})

test('clang --config with a path: its options are scanned and the file is an input', () => {
  const files: Record<string, string> = {
    '/p/cfg/dbg.cfg': '# debug build\n  -g -gsplit-dwarf\n-DFROM_CFG=1\r\n-Iinc\n',
  }
  const readFile = (path: string): string => {
    const text = files[path]
    if (text === undefined) return noFiles(path)
    return text
  }
  for (const spelling of [['--config', 'cfg/dbg.cfg'], ['--config=cfg/dbg.cfg']]) {
    const inv = ok('clang', [...spelling, '-c', 'a.c', '-o', 'o/a.o'], { readFile })
    assert.deepEqual(inv.extraInputFiles, ['cfg/dbg.cfg'])
    assert.equal(inv.debugLevel, 2)
    assert.deepEqual(inv.extraOutputs, [{ role: 'split-dwarf', path: 'o/a.dwo' }])
    assert.ok(inv.hashedArgs.some((a) => a.kind === 'plain' && a.value === '-DFROM_CFG=1'))
    assert.ok(
      inv.hashedArgs.some((a) => a.kind === 'path' && a.option === '-I' && a.path === 'inc'),
    )
    // clang reads the file again in the preprocessor run: its options are not repeated.
    assert.deepEqual(inv.preprocessorArgs, [...spelling, 'a.c'])
  }
  // clang 14 rejects `--config=`: the two spellings must not share a key.
  assert.notDeepEqual(
    ok('clang', ['--config', 'cfg/dbg.cfg', '-c', 'a.c'], { readFile }).hashedArgs,
    ok('clang', ['--config=cfg/dbg.cfg', '-c', 'a.c'], { readFile }).hashedArgs,
  )
})

test('clang --config that cannot be followed is not cached', () => {
  const cfg = (text: string) => (path: string) => (path === '/p/c/x.cfg' ? text : noFiles(path))
  const uncached: [string, string[], ((path: string) => string) | undefined][] = [
    ['clang', ['--config', 'x.cfg', '-c', 'a.c'], cfg('-O2')], // searched in config dirs
    ['clang', ['--config', 'c/missing.cfg', '-c', 'a.c'], undefined],
    ['gcc', ['--config', 'c/x.cfg', '-c', 'a.c'], cfg('-O2')],
    ['clang', ['--config', 'c/x.cfg', '-c', 'a.c'], cfg('-MD')],
    ['clang', ['--config', 'c/x.cfg', '-c', 'a.c'], cfg('-o out.o')],
    ['clang', ['--config', 'c/x.cfg', '-c', 'a.c'], cfg('-c')],
    ['clang', ['--config', 'c/x.cfg', '-c', 'a.c'], cfg('extra.c')],
    ['clang', ['--config', 'c/x.cfg', '-c', 'a.c'], cfg('-Wp,-MD,x.d')],
    ['clang', ['--config', 'c/x.cfg', '-c', 'a.c'], cfg('-D"X=1 2"')],
    ['clang', ['--config', 'c/x.cfg', '-c', 'a.c'], cfg('@more.cfg')],
    ['clang', ['--config', 'c/x.cfg', '-c', 'a.c'], cfg('-I<CFGDIR>/inc')],
    ['clang', ['--config', 'c/x.cfg', '-c', 'a.c'], cfg('$-O0')],
  ]
  for (const [cc, args, readFile] of uncached) {
    const extra = readFile === undefined ? {} : { readFile }
    assert.equal(reason(cc, args, extra), 'unsupported-option', `${cc} ${args.join(' ')}`)
  }
  assert.deepEqual(splitConfigFile('#c\n -a  -b\n\n\t# also a comment\n-c#not\n'), [
    '-a',
    '-b',
    '-c#not',
  ])
})

test("clang's own configuration files (given by the pipeline) are scanned like --config", () => {
  const readFile = (path: string): string =>
    path === '/usr/lib/llvm-14/bin/x86_64-clang.cfg' ? '-g\n' : noFiles(path)
  const defaultConfigFiles = ['/usr/lib/llvm-14/bin/x86_64-clang.cfg']
  const inv = ok('clang', ['-c', 'a.c'], { readFile, defaultConfigFiles })
  assert.equal(inv.debugLevel, 2)
  // Their content is in the compiler identity already.
  assert.deepEqual(inv.extraInputFiles, [])
  assert.equal(ok('clang', ['-c', 'a.c'], { readFile }).debugLevel, 0)
  const md = (path: string): string => (path === defaultConfigFiles[0] ? '-MD' : noFiles(path))
  assert.equal(
    reason('clang', ['-c', 'a.c'], { readFile: md, defaultConfigFiles }),
    'unsupported-option',
  )
  // gcc has no configuration files.
  assert.equal(ok('gcc', ['-c', 'a.c'], { readFile, defaultConfigFiles }).debugLevel, 0)
})

test('-fbasic-block-sections=list= reads a file', () => {
  const inv = ok('clang', ['-fbasic-block-sections=list=bb/list.txt', '-c', 'a.c'])
  assert.deepEqual(inv.extraInputFiles, ['bb/list.txt'])
  assert.deepEqual(inv.hashedArgs[0], {
    kind: 'path',
    option: '-fbasic-block-sections=list=',
    path: 'bb/list.txt',
  })
  assert.deepEqual(ok('clang', ['-fbasic-block-sections=all', '-c', 'a.c']).extraInputFiles, [])
})

test('gcc profile feedback: the .gcda file gcc 12 reads', () => {
  const gcda = (args: string[], extra: Partial<ParseOptions> = {}) =>
    ok('gcc', [...args, '-c', 'sub/a.c', '-o', 'out/x.o'], extra).extraInputFiles
  assert.deepEqual(gcda(['-fprofile-use']), ['out/x.gcda'])
  assert.deepEqual(gcda(['-fbranch-probabilities']), ['out/x.gcda'])
  assert.deepEqual(gcda(['-fprofile-use', '-fprofile-dir=pd']), ['pd/#p#out#x.gcda'])
  assert.deepEqual(gcda(['-fprofile-use=pd']), ['pd/#p#out#x.gcda'])
  assert.deepEqual(gcda(['-fprofile-use=pd/']), ['pd//#p#out#x.gcda'])
  assert.deepEqual(gcda(['-fprofile-use=pd', '-fprofile-dir=o']), ['o/#p#out#x.gcda'])
  assert.deepEqual(gcda(['-fprofile-dir=o', '-fprofile-use=pd']), ['pd/#p#out#x.gcda'])
  assert.deepEqual(gcda(['-fbranch-probabilities', '-fprofile-dir=pd']), ['pd/#p#out#x.gcda'])
  assert.deepEqual(gcda(['-fprofile-use=pd', '-fprofile-prefix-path=/p']), ['pd/out#x.gcda'])
  assert.deepEqual(gcda(['-fprofile-use=pd', '-fprofile-prefix-path=/q']), ['pd/#p#out#x.gcda'])
  assert.deepEqual(
    ok('gcc', ['-fprofile-use=pd', '-c', 'a.c', '-o', './o/../o/x.o']).extraInputFiles,
    ['pd/#p#.#o#^#o#x.gcda'],
  )
  assert.deepEqual(ok('gcc', ['-fprofile-use=pd', '-c', 'a.c', '-o', '/abs/x.o']).extraInputFiles, [
    'pd//abs/x.gcda',
  ])
  assert.deepEqual(ok('gcc', ['-fprofile-use', '-c', 'sub/a.c']).extraInputFiles, ['a.gcda'])
  assert.deepEqual(ok('gcc', ['-fprofile-use', '-S', 'a.c', '-o', 'y.s']).extraInputFiles, [
    'y.gcda',
  ])
  // gcc's warning for a missing profile names it with the working directory.
  assert.equal(ok('gcc', ['-fprofile-use', '-c', 'a.c']).embedsCwd, true)
  // The mangled name uses $PWD only when it names the working directory (it does not here).
  assert.deepEqual(gcda(['-fprofile-use=pd'], { env: { PWD: '/p' } }), ['pd/#p#out#x.gcda'])
  assert.deepEqual(gcda(['-fprofile-use=pd'], { env: { PWD: '/stale/dir' } }), ['pd/#p#out#x.gcda'])
  assert.equal(manglePath('/a/../b/./c'), '#a#^#b#.#c')
})

test('the recorded working directory: $PWD when it names the same directory', () => {
  const real = mkdtempSync(join(tmpdir(), 'meshcc-pwd-'))
  try {
    mkdirSync(join(real, 'proj'))
    symlinkSync(join(real, 'proj'), join(real, 'link'))
    const cwd = join(real, 'proj')
    assert.equal(recordedWorkingDirectory(cwd, { PWD: join(real, 'link') }), join(real, 'link'))
    assert.equal(recordedWorkingDirectory(cwd, { PWD: real }), cwd) // stale: another directory
    assert.equal(recordedWorkingDirectory(cwd, { PWD: 'proj' }), cwd) // relative: ignored
    assert.equal(recordedWorkingDirectory(cwd, { PWD: join(real, 'gone') }), cwd)
    assert.equal(recordedWorkingDirectory(cwd, {}), cwd)
    const viaLink = ok('gcc', ['-fprofile-use=pd', '-c', 'a.c'], {
      cwd,
      env: { PWD: join(real, 'link') },
    })
    assert.deepEqual(viaLink.extraInputFiles, [`pd/${manglePath(join(real, 'link', 'a'))}.gcda`])
  } finally {
    rmSync(real, { recursive: true, force: true })
  }
})

test('auto-profile, sample and instrumentation profiles', () => {
  assert.deepEqual(ok('gcc', ['-fauto-profile', '-c', 'a.c']).extraInputFiles, ['fbdata.afdo'])
  // clang's bare -fauto-profile only switches on a `=file` given elsewhere.
  assert.deepEqual(ok('clang', ['-fauto-profile', '-c', 'a.c']).extraInputFiles, [])
  assert.deepEqual(ok('gcc', ['-fauto-profile=p.afdo', '-c', 'a.c']).extraInputFiles, ['p.afdo'])
  const clangFiles = (args: string[]) => ok('clang', [...args, '-c', 'a.c']).extraInputFiles
  assert.deepEqual(clangFiles(['-fprofile-use']), ['default.profdata'])
  assert.deepEqual(clangFiles(['-fprofile-instr-use']), ['default.profdata'])
  assert.deepEqual(clangFiles(['-fprofile-use=pgo']), ['pgo'])
  assert.deepEqual(clangFiles(['-fprofile-instr-use=x.profdata']), ['x.profdata'])
  assert.deepEqual(clangFiles(['-fprofile-sample-use=s.prof']), ['s.prof'])
  assert.deepEqual(clangFiles(['-fprofile-sample-use=s.prof', '-fprofile-remapping-file=r.txt']), [
    's.prof',
    'r.txt',
  ])
  // clang has no .gcda reading: -fprofile-dir only matters for gcov output there.
  assert.deepEqual(clangFiles(['-fprofile-dir=pd']), [])
})

test('linker inputs are named in the "unused" warning, so they are in the key', () => {
  const a = ok('gcc', ['-c', 'a.c', 'x.o'])
  const b = ok('gcc', ['-c', 'a.c', 'y.o'])
  assert.notDeepEqual(a.hashedArgs, b.hashedArgs)
  assert.equal(a.source, 'a.c')
  assert.notDeepEqual(
    ok('clang', ['-c', 'a.c']).hashedArgs,
    ok('clang', ['-c', 'a.c', 'x.o']).hashedArgs,
  )
})

test('debug info the -g options do not control still puts the directory in the key', () => {
  assert.equal(ok('clang', ['-Xclang', '-debug-info-kind=constructor', '-c', 'a.c']).debugLevel, 2)
  assert.equal(
    ok('clang', ['-Xclang', '-debug-info-kind=limited', '-g0', '-c', 'a.c']).debugLevel,
    2,
  )
  assert.equal(ok('gcc', ['-Wa,-g', '-c', 'a.S']).debugLevel, 2)
  assert.equal(ok('gcc', ['-Wa,--gdwarf-5', '-c', 'a.S']).debugLevel, 2)
  assert.equal(ok('gcc', ['-Xassembler', '--gen-debug', '-c', 'a.S']).debugLevel, 2)
  assert.equal(ok('gcc', ['-Wa,--noexecstack', '-c', 'a.S']).debugLevel, 0)
})

test("clang's CC_PRINT_* / CC_LOG_DIAGNOSTICS variables write files: not cached", () => {
  for (const name of ['CC_PRINT_OPTIONS', 'CC_PRINT_HEADERS', 'CC_LOG_DIAGNOSTICS']) {
    assert.equal(reason('clang', ['-c', 'a.c'], { env: { [name]: '' } }), 'unsupported-option')
    assert.equal(reason('gcc', ['-c', 'a.c'], { env: { [name]: '1' } }), 'cacheable')
  }
})
