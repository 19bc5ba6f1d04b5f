/**
 * The rules of driver-inputs.test.ts checked against the installed gcc and clang: the language
 * a driver really compiles an input as, the precompiled header a header input really makes, the
 * .gcda file gcc really looks for (its -Wmissing-profile warning names it), and that clang
 * really reads --config files and basic-block section lists. Skipped when a compiler is missing.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, test } from 'node:test'
import { parseCompilerArgs } from '../../../src/compilers/parse.ts'

const root = mkdtempSync(join(tmpdir(), 'meshcc-driver-'))
after(() => rmSync(root, { recursive: true, force: true }))

function has(compiler: string): boolean {
  return spawnSync(compiler, ['--version'], { stdio: 'ignore' }).status === 0
}
const GCC = has('gcc') && has('g++')
const CLANG = has('clang') && has('clang++')

/** A fresh directory holding `files`; returns its path. */
function workdir(files: Record<string, string>): string {
  const cwd = mkdtempSync(join(root, 'w-'))
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(cwd, name, '..'), { recursive: true })
    writeFileSync(join(cwd, name), text)
  }
  return cwd
}

function run(compiler: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  return spawnSync(compiler, args, {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, LC_ALL: 'C', PWD: cwd, ...env },
  })
}

// Stops with an #error naming the language the compiler proper sees.
const PROBE = [
  '#if defined(__OBJC__) && defined(__cplusplus)',
  '#error LANG=objective-c++',
  '#elif defined(__OBJC__)',
  '#error LANG=objective-c',
  '#elif defined(__cplusplus)',
  '#error LANG=c++',
  '#else',
  '#error LANG=c',
  '#endif',
  '',
].join('\n')

const LANGUAGE_CASES: [string, string[]][] = [
  ['gcc', ['-c', 'a.c']],
  ['g++', ['-c', 'a.c']],
  ['g++', ['-c', 'a.m']],
  ['g++', ['-x', 'c', '-c', 'a.c']],
  ['g++', ['-x', 'none', '-c', 'a.c']],
  ['g++', ['-x', 'none', 'x.o', '-c', 'a.c']],
  ['g++', ['-c', 'a.c', '-x', 'c']],
  ['c++', ['-c', 'a.c']],
  ['cc', ['-c', 'a.c']],
  ['clang', ['-c', 'a.c']],
  ['clang++', ['-c', 'a.c']],
  ['clang++', ['-c', 'a.m']],
  ['clang++', ['-x', 'c', '-c', 'a.c']],
  ['clang++', ['-x', 'none', '-c', 'a.c']],
  ['clang', ['--driver-mode=g++', '-c', 'a.c']],
  ['clang++', ['--driver-mode=gcc', '-c', 'a.c']],
]

for (const family of ['gcc', 'clang']) {
  test(`${family}: the model's language is the one the driver compiles`, {
    skip: family === 'gcc' ? !GCC : !CLANG,
  }, () => {
    const cwd = workdir({ 'a.c': PROBE, 'a.m': PROBE, 'x.o': '' })
    for (const [compiler, args] of LANGUAGE_CASES) {
      if (compiler.startsWith('clang') !== (family === 'clang')) continue
      const inv = parseCompilerArgs(args, { compiler: `/usr/bin/${compiler}`, cwd })
      if (!inv.cacheable) assert.fail(`${compiler} ${args.join(' ')}: ${inv.reason}`)
      const real = /LANG=([a-z+-]+)/.exec(run(compiler, args, cwd).stderr)?.[1]
      assert.equal(inv.language, real, `${compiler} ${args.join(' ')}`)
    }
  })
}

test('header inputs: the driver writes a precompiled header, and the model says so', {
  skip: !GCC || !CLANG,
}, () => {
  const cases: [string, string[], string][] = [
    ['gcc', ['-x', 'c-header', 'h.h', '-o', 'h.h.gch'], 'h.h.gch'],
    ['gcc', ['h.h'], 'h.h.gch'],
    ['g++', ['h.h'], 'h.h.gch'],
    ['g++', ['-x', 'c++-header', 'h.hpp', '-o', 'h.hpp.gch'], 'h.hpp.gch'],
    ['clang', ['-x', 'objective-c-header', 'h.h', '-o', 'h.pch'], 'h.pch'],
    ['clang++', ['h.h'], 'h.h.gch'],
  ]
  for (const [compiler, args, written] of cases) {
    const cwd = workdir({ 'h.h': 'int g(void);\n', 'h.hpp': 'int g();\n' })
    const inv = parseCompilerArgs(args, { compiler: `/usr/bin/${compiler}`, cwd })
    assert.equal(inv.cacheable ? 'cacheable' : inv.reason, 'precompiled-header')
    const result = run(compiler, args, cwd)
    assert.equal(result.status, 0, result.stderr)
    assert.ok(existsSync(join(cwd, written)), `${compiler} ${args.join(' ')} wrote no ${written}`)
    assert.ok(!existsSync(join(cwd, 'a.out')), `${compiler} ${args.join(' ')} linked`)
  }
})

test('gcc: the predicted .gcda is the file gcc looks for', { skip: !GCC }, () => {
  const cases: string[][] = [
    ['-fprofile-use', '-c', 'sub/a.c', '-o', 'out/x.o'],
    ['-fprofile-use', '-c', 'sub/a.c'],
    ['-fprofile-use', '-S', 'sub/a.c', '-o', 'out/y.s'],
    ['-fprofile-use', '-c', 'sub/a.c', '-o', 'out/noext'],
    ['-fprofile-use', '-c', 'sub/a.c', '-o', 'out/two.dots.o'],
    ['-fprofile-use', '-fprofile-dir=pd', '-c', 'sub/a.c', '-o', 'out/x.o'],
    ['-fprofile-use=pd', '-c', 'sub/a.c', '-o', './out/../out/x.o'],
    ['-fprofile-use=pd/', '-c', 'sub/a.c', '-o', 'out/x.o'],
    ['-fprofile-use=pd', '-fprofile-dir=other', '-c', 'sub/a.c', '-o', 'out/x.o'],
    ['-fprofile-dir=other', '-fprofile-use=pd', '-c', 'sub/a.c', '-o', 'out/x.o'],
    ['-fprofile-generate=gen', '-fprofile-use', '-c', 'sub/a.c', '-o', 'out/x.o'],
    ['-fbranch-probabilities', '-c', 'sub/a.c', '-o', 'out/x.o'],
    ['-fbranch-probabilities', '-fprofile-dir=pd', '-c', 'sub/a.c', '-o', 'out/x.o'],
  ]
  const cwd = workdir({ 'sub/a.c': 'int f(int x) { return x ? 1 : 2; }\n', 'out/.keep': '' })
  const withPrefix = (prefix: string) => [
    '-fprofile-use=pd',
    `-fprofile-prefix-path=${prefix}`,
    '-c',
    'sub/a.c',
    '-o',
    'out/x.o',
  ]
  cases.push(
    withPrefix(cwd),
    withPrefix(`${cwd}/`),
    withPrefix(cwd.slice(0, -2)),
    withPrefix('/no'),
  )
  cases.push(['-fprofile-use=pd', '-c', 'sub/a.c', '-o', join(cwd, 'out/abs.o')])
  for (const args of cases) {
    const inv = parseCompilerArgs(args, { compiler: '/usr/bin/gcc', cwd, env: { PWD: cwd } })
    if (!inv.cacheable) assert.fail(`${args.join(' ')}: ${inv.reason} ${inv.detail}`)
    const stderr = run('gcc', ['-Wmissing-profile', ...args], cwd).stderr
    const looked = /'([^']+\.gcda)' profile count data file not found/.exec(stderr)?.[1]
    assert.ok(looked !== undefined, `${args.join(' ')}: ${stderr}`)
    const predicted = inv.extraInputFiles.at(-1) as string
    assert.equal(resolve(cwd, predicted), resolve(cwd, looked), args.join(' '))
  }
  // Through a symlinked directory gcc names the file after $PWD, as the model does.
  symlinkSync(cwd, `${cwd}-link`)
  const viaLink = ['-fprofile-use=pd', '-c', 'sub/a.c', '-o', 'out/x.o']
  for (const pwd of [`${cwd}-link`, root]) {
    const inv = parseCompilerArgs(viaLink, { compiler: '/usr/bin/gcc', cwd, env: { PWD: pwd } })
    assert.ok(inv.cacheable)
    const stderr = run('gcc', viaLink, cwd, { PWD: pwd }).stderr
    const looked = /'([^']+\.gcda)' profile count data file not found/.exec(stderr)?.[1]
    assert.equal(inv.extraInputFiles[0], looked, `PWD=${pwd}`)
  }
  // -fauto-profile without a file reads fbdata.afdo from the working directory.
  const auto = parseCompilerArgs(['-fauto-profile', '-c', 'sub/a.c'], { compiler: 'gcc', cwd })
  assert.ok(auto.cacheable)
  assert.deepEqual(auto.extraInputFiles, ['fbdata.afdo'])
  assert.match(run('gcc', ['-fauto-profile', '-c', 'sub/a.c'], cwd).stderr, /fbdata\.afdo/)
})

test('clang reads --config files before the command line, as the model scans them', {
  skip: !CLANG,
}, () => {
  const cwd = workdir({
    'sub/a.c': 'int f(void) { return X; }\n',
    'cfg/split.cfg': '# split DWARF for this build\n-g -gsplit-dwarf\n-DX=2\n',
    'out/.keep': '',
  })
  const args = ['--config', 'cfg/split.cfg', '-c', 'sub/a.c', '-o', 'out/a.o']
  const inv = parseCompilerArgs(args, { compiler: '/usr/bin/clang', cwd })
  if (!inv.cacheable) assert.fail(`${inv.reason} ${inv.detail}`)
  assert.deepEqual(inv.extraInputFiles, ['cfg/split.cfg'])
  const result = run('clang', args, cwd)
  assert.equal(result.status, 0, result.stderr)
  const written = readdirSync(join(cwd, 'out')).filter((f) => f !== '.keep')
  assert.deepEqual(
    written.sort(),
    [inv.output, ...inv.extraOutputs.map((x) => x.path)].map((p) => p.slice(4)).sort(),
  )
  // The preprocessor run the pipeline makes sees the config's macros too.
  const pre = run('clang', [...inv.preprocessorArgs, '-E'], cwd)
  assert.match(pre.stdout, /return 2;/)
})

test('clang reads -fbasic-block-sections=list= relative to the working directory', {
  skip: !CLANG,
}, () => {
  const cwd = workdir({ 'a.c': 'int f(void) { return 1; }\n', 'bb/list.txt': '!f\n' })
  const args = ['-fbasic-block-sections=list=bb/list.txt', '-c', 'a.c', '-o', 'a.o']
  const inv = parseCompilerArgs(args, { compiler: '/usr/bin/clang', cwd })
  assert.ok(inv.cacheable)
  assert.deepEqual(inv.extraInputFiles, ['bb/list.txt'])
  assert.equal(run('clang', args, cwd).status, 0)
  rmSync(join(cwd, 'bb/list.txt'))
  assert.notEqual(run('clang', args, cwd).status, 0)
})
