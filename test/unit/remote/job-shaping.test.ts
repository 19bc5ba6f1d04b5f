/**
 * The pure parts of shaping a remote job: which arguments the builder runs, which compiles are
 * distributable, how gcc's built-in definitions are dropped from directives-only output, and
 * how a job's paths map onto scratch directories on the builder.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseCompilerArgs } from '../../../src/compilers/parse.ts'
import type { CacheableInvocation } from '../../../src/compilers/types.ts'
import { builderArgs } from '../../../src/remote/builder-args.ts'
import { planJobMounts, reservedPath } from '../../../src/remote/job-paths.ts'
import { preprocessArgs, stripGccBuiltins } from '../../../src/remote/preprocess.ts'
import { remoteIneligibility } from '../../../src/remote/remote-eligibility.ts'

function parse(args: string[], compiler = '/usr/bin/gcc'): CacheableInvocation {
  const inv = parseCompilerArgs(args, { compiler, cwd: '/home/u/p', readFile: () => '' })
  assert.ok(inv.cacheable, `expected cacheable: ${JSON.stringify(inv)}`)
  return inv
}

describe('builder arguments', () => {
  it('drop dependency, include-path and forced-include options, keep everything else in order', () => {
    const args = [
      '-g',
      '-O2',
      '-Wall',
      '-Iinclude',
      '-I',
      'other',
      '-isystem',
      '/opt/x',
      '-iquote',
      'q',
      '-DFOO=1',
      '-U',
      'BAR',
      '-include',
      'config.h',
      '-MD',
      '-MF',
      'a.d',
      '-MT',
      'a.o',
      '-MP',
      '-MMD',
      '-MQ',
      '$x',
      '-MFjoined.d',
      '-Wp,-MD,dep.d,-DKEEP',
      '-Wp,-MMD,only.d',
      '-x',
      'c',
      '-c',
      'src/a.c',
      '-o',
      'a.o',
      '-fPIC',
      '--sysroot=/sr',
      '-idirafter',
      'late',
    ]
    assert.deepEqual(builderArgs(args), [
      '-g',
      '-O2',
      '-Wall',
      '-DFOO=1',
      '-U',
      'BAR',
      '-Wp,-DKEEP',
      '-x',
      'c',
      '-c',
      'src/a.c',
      '-o',
      'a.o',
      '-fPIC',
      '--sysroot=/sr',
    ])
  })
  it('leave everything after -- alone', () => {
    assert.deepEqual(builderArgs(['-c', '-I', 'x', '--', '-Iweird.c']), ['-c', '--', '-Iweird.c'])
  })
})

describe('remote eligibility', () => {
  const cwd = '/home/u/p'
  it('plain C and C++ compiles are eligible, with -g for gcc', () => {
    assert.equal(remoteIneligibility(parse(['-g', '-O2', '-c', 'a.c']), { cwd }), undefined)
    assert.equal(
      remoteIneligibility(parse(['-c', 'a.cpp', '-o', 'b/a.o'], '/usr/bin/g++'), { cwd }),
      undefined,
    )
  })
  it('clang -g at DWARF 5 is not; at DWARF 4 or without -g it is', () => {
    assert.equal(
      remoteIneligibility(parse(['-g', '-c', 'a.c'], '/usr/bin/clang'), { cwd }),
      'clang-dwarf5',
    )
    assert.equal(
      remoteIneligibility(parse(['-g', '-gdwarf-4', '-c', 'a.c'], '/usr/bin/clang'), { cwd }),
      undefined,
    )
    assert.equal(
      remoteIneligibility(parse(['-O2', '-c', 'a.c'], '/usr/bin/clang'), { cwd }),
      undefined,
    )
  })
  it('gcc diagnostics a builder cannot reproduce keep the compile local', () => {
    const reason = (args: string[]) => remoteIneligibility(parse(args), { cwd })
    assert.equal(reason(['-pedantic', '-g', '-c', 'a.c']), 'diagnostics-unreproducible')
    assert.equal(reason(['-Wsystem-headers', '-c', 'a.c']), 'diagnostics-unreproducible')
    assert.equal(reason(['-fdiagnostics-format=json', '-c', 'a.c']), 'diagnostics-unreproducible')
    // -pedantic without debug information compiles in the -fpreprocessed mode: eligible
    assert.equal(reason(['-pedantic', '-O2', '-c', 'a.c']), undefined)
    assert.equal(reason(['-Wall', '-g', '-c', 'a.c']), undefined)
  })
  it('names the reason for each compile it keeps local', () => {
    const cases: Array<[string[], string]> = [
      [['-march=native', '-c', 'a.c'], 'cpu-native'],
      [['-c', 'a.c', '-fplugin=./p.so'], 'extra-inputs'],
      [['-frecord-gcc-switches', '-c', 'a.c'], 'records-command-line'],
      [['-B', '/opt/gcc/', '-c', 'a.c'], 'driver-prefix'],
      [['-traditional-cpp', '-c', 'a.c'], 'traditional'],
      [['-fdirectives-only', '-c', 'a.c'], 'preprocessor-mode'],
      [['-c', 'a.s'], 'language'],
    ]
    let checked = 0
    for (const [args, reason] of cases) {
      const inv = parseCompilerArgs(args, { compiler: '/usr/bin/gcc', cwd, readFile: () => '' })
      if (!inv.cacheable) continue // the cache already keeps it local
      assert.equal(remoteIneligibility(inv, { cwd }), reason, args.join(' '))
      checked++
    }
    assert.ok(checked >= 6, `only ${checked} cases reached the eligibility check`)
    assert.equal(
      remoteIneligibility(parse(['-c', 'a.c']), { cwd: '/usr/src/p' }),
      'path-unmappable',
    )
    assert.equal(
      remoteIneligibility(parse(['-c', 'a.c', '-o', '/lib/x.o']), { cwd }),
      'path-unmappable',
    )
    assert.equal(
      remoteIneligibility(parse(['-c', 'a.c']), { cwd, env: { COMPILER_PATH: '/x' } }),
      'compiler-env',
    )
  })
})

describe('client preprocessing', () => {
  it('gcc runs directives-only, clang rewrite-includes, with the depfile the build asked for', () => {
    const gcc = parse(['-g', '-Iinc', '-c', 'a.c', '-o', 'a.o', '-MD', '-MT', 'tgt'])
    const a = preprocessArgs(gcc, gcc.depfile, '/tmp/x.d')
    assert.ok(a.includes('-fdirectives-only') && a.includes('-E') && a.includes('-Iinc'))
    assert.ok(!a.includes('-c') && !a.includes('-o'))
    assert.deepEqual(a.slice(a.indexOf('-MD')), ['-MD', '-MF', '/tmp/x.d', '-MT', 'tgt'])
    const clang = parse(['-c', 'a.c'], '/usr/bin/clang')
    assert.ok(preprocessArgs(clang, undefined, undefined).includes('-frewrite-includes'))
  })

  it('strips only the head run of <built-in> definitions', () => {
    const text = Buffer.from(
      [
        '# 0 "src/a.c"',
        '# 1 "/home/u/p//"',
        '# 0 "<built-in>"',
        '#define __STDC__ 1',
        '# 0 "<built-in>"',
        '#define __GNUC__ 12',
        '# 0 "<command-line>"',
        '#define FOO 1',
        '# 1 "src/a.c"',
        'int x = FOO;',
        '# 0 "<built-in>"',
        '#define LATE 1',
        '',
      ].join('\n'),
    )
    const want = [
      '# 0 "src/a.c"',
      '# 1 "/home/u/p//"',
      '# 0 "<command-line>"',
      '#define FOO 1',
      '# 1 "src/a.c"',
      'int x = FOO;',
      '# 0 "<built-in>"',
      '#define LATE 1',
      '',
    ].join('\n')
    const original = Buffer.from(text)
    assert.equal(stripGccBuiltins(text).toString(), want)
    assert.ok(text.equals(original), 'a copy leaves the input alone')
    // In place: the same bytes, a view of the input's own memory.
    const inPlace = stripGccBuiltins(text, { inPlace: true })
    assert.equal(inPlace.toString(), want)
    assert.equal(inPlace.buffer, text.buffer)
    const none = Buffer.from('int y;\n')
    assert.equal(stripGccBuiltins(none), none)
    assert.equal(stripGccBuiltins(none, { inPlace: true }), none)
  })
})

describe('job paths on the builder', () => {
  it('one root for an in-tree build, two for an out-of-tree source', () => {
    const inTree = planJobMounts('/j', {
      cwd: '/home/u/p/build',
      inputPath: '/home/u/p/build/src/a.c',
      outputs: [{ path: '/home/u/p/build/obj/a.o' }],
    })
    assert.ok(!('refused' in inTree))
    assert.deepEqual(inTree.roots, [{ path: '/home/u/p/build', host: '/j/m0' }])
    assert.equal(inTree.hostPath('/home/u/p/build/src/a.c'), '/j/m0/src/a.c')

    const outOfTree = planJobMounts('/j', {
      cwd: '/home/u/p/build',
      inputPath: '/home/u/p/src/a.c',
      outputs: [{ path: '/home/u/p/build/CMakeFiles/a.dir/a.c.o' }],
    })
    assert.ok(!('refused' in outOfTree))
    assert.deepEqual(
      outOfTree.roots.map((r) => r.path),
      ['/home/u/p/src', '/home/u/p/build'],
    )
    assert.deepEqual(
      outOfTree.locate('/home/u/p/build/CMakeFiles/a.dir/a.c.o').rel,
      'CMakeFiles/a.dir/a.c.o',
    )

    const parentOut = planJobMounts('/j', {
      cwd: '/home/u/p/build',
      inputPath: '/home/u/p/build/a.c',
      outputs: [{ path: '/home/u/p/a.o' }],
    })
    assert.ok(!('refused' in parentOut))
    assert.deepEqual(
      parentOut.roots.map((r) => r.path),
      ['/home/u/p'],
    )
    assert.equal(parentOut.hostPath('/home/u/p/build/a.c'), '/j/m0/build/a.c')
  })

  it('refuses paths on the toolchain or the sandbox file systems', () => {
    assert.ok(reservedPath('/usr/src/x') && reservedPath('/proc/1') && !reservedPath('/home/x'))
    const r = planJobMounts(
      '/j',
      { cwd: '/opt/p', inputPath: '/opt/p/a.c', outputs: [{ path: '/opt/p/a.o' }] },
      new Set(['opt']),
    )
    assert.ok('refused' in r)
  })
})
