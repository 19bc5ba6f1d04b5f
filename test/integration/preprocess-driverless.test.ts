/**
 * gcc preprocessing without the driver (`remote/gcc-driver-commands.ts`), with the real gcc and
 * g++: after one job of a flag set the command is learnt and checked, and every later job of that
 * flag set runs cc1 directly and gets exactly the text and depfile the driver gives, for flag sets
 * with quoted definitions, forced includes, a source outside the working directory, odd file
 * names and make-quoted targets. A learnt command that can no longer start sends the flag set back
 * to the driver, and the job still succeeds.
 */
import assert from 'node:assert/strict'
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runCompiler } from '../../src/compile/run-compiler.ts'
import type { ClientRunner } from '../../src/compile/types.ts'
import { parseCompilerArgs } from '../../src/compilers/parse.ts'
import type { CacheableInvocation } from '../../src/compilers/types.ts'
import { GccDriverCommands, hashBytes } from '../../src/remote/gcc-driver-commands.ts'
import { type PreprocessSpec, preprocess } from '../../src/remote/preprocess.ts'

const ENV = { PATH: '/usr/bin:/bin', LC_ALL: 'C' }

interface Case {
  name: string
  compiler: string
  cwd: string
  args: string[]
}

describe('gcc preprocessing without the driver', () => {
  let dir: string
  let build: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshcc-driverless-'))
    build = join(dir, 'build')
    await mkdir(join(dir, 'src'), { recursive: true })
    await mkdir(join(dir, 'inc'), { recursive: true })
    await mkdir(build, { recursive: true })
    await writeFile(join(dir, 'inc', 'a.h'), '#define A 1\n#include <stdio.h>\n')
    await writeFile(join(dir, 'inc', 'pre.h'), '#define PRE 2\n')
    const c = '#include "a.h"\nconst char *m = MSG;\nint a = A + PRE;\nint v = V;\n'
    await writeFile(join(dir, 'src', 'a.c'), c)
    await writeFile(join(dir, 'src', 'we ird$.c'), c)
    await writeFile(join(dir, 'src', 'b.cpp'), '#include <vector>\nstd::vector<int> v{1, 2};\n')
  })
  after(() => rm(dir, { recursive: true, force: true }))

  const common = ['-O2', '-g', '-DMSG="a b"', '-DV=3', '-I../inc', '-include', '../inc/pre.h']
  const cases = (): Case[] => [
    {
      name: 'C, source outside the cwd, -MD with -MT and -MQ',
      compiler: '/usr/bin/gcc',
      cwd: build,
      args: [
        ...common,
        '-std=gnu11',
        '-MD',
        '-MT',
        'obj/a.o',
        '-MQ',
        '$(X)/a.o',
        '-MF',
        'a.d',
        '-c',
        '../src/a.c',
        '-o',
        'obj/a.o',
      ],
    },
    {
      name: 'C, a source name with a space and a dollar sign, -MMD -MP',
      compiler: '/usr/bin/gcc',
      cwd: build,
      args: [
        ...common,
        '-fopenmp',
        '-pthread',
        '-MMD',
        '-MP',
        '-c',
        '../src/we ird$.c',
        '-o',
        'w.o',
      ],
    },
    {
      name: 'C++, absolute source, no depfile',
      compiler: '/usr/bin/g++',
      cwd: dir,
      args: ['-std=c++17', '-O2', '-fPIC', '-c', join(dir, 'src', 'b.cpp'), '-o', 'b.o'],
    },
  ]

  const specFor = (c: Case, extra: Partial<PreprocessSpec> = {}): PreprocessSpec => {
    const parsed = parseCompilerArgs(c.args, { compiler: basename(c.compiler), cwd: c.cwd })
    assert.ok(parsed.cacheable, c.name)
    const inv = parsed as CacheableInvocation
    return {
      compiler: c.compiler,
      inv,
      cwd: c.cwd,
      env: ENV,
      depfile: inv.depfile,
      tempDir: join(dir, 'tmp'),
      ...extra,
    }
  }

  /** A client runner that records the programs it ran. */
  const recording =
    (cwd: string, programs: string[]): ClientRunner =>
    async (argv, opts) => {
      programs.push(basename(argv[0] as string))
      return runCompiler({ compiler: argv[0] as string, args: argv.slice(1), cwd, env: ENV }, opts)
    }

  /** Driver commands whose learning outcomes the test can wait for. */
  const learning = () => {
    const outcomes: string[] = []
    const { promise: learnt, resolve } = Promise.withResolvers<void>()
    const commands = new GccDriverCommands({
      onLearnt: (_key, outcome) => {
        outcomes.push(outcome)
        resolve()
      },
    })
    return { commands, outcomes, learnt }
  }

  for (const index of [0, 1, 2]) {
    it(`gives the driver's own text and depfile (case ${index + 1})`, async () => {
      const c = cases()[index] as Case
      const { commands, outcomes, learnt } = learning()
      const programs: string[] = []
      const spec = specFor(c, { driverCommands: commands, run: recording(c.cwd, programs) })
      const reference = await preprocess(specFor(c))
      assert.equal(reference.exitCode, 0, reference.stderr.toString())
      const first = await preprocess(spec)
      await learnt
      assert.deepEqual(outcomes, ['ready'], c.name)
      const second = await preprocess(spec)
      assert.deepEqual(programs, [
        basename(c.compiler),
        c.compiler.endsWith('++') ? 'cc1plus' : 'cc1',
      ])
      for (const pp of [first, second]) {
        assert.equal(pp.exitCode, 0, pp.stderr.toString())
        assert.ok(pp.text.equals(reference.text), c.name)
        assert.deepEqual(pp.depfile, reference.depfile)
        assert.equal(pp.stderr.length, 0)
      }
      if (index === 0)
        assert.match(second.depfile?.toString() ?? '', /^obj\/a\.o \$\$\(X\)\/a\.o: /)
      for (const pp of [reference, first, second]) pp.release()
    })
  }

  it('goes back to the driver when a learnt cc1 can no longer start', async () => {
    // A driver whose -### names a cc1 of ours, which execs the real one (so the check passes).
    const fake = join(dir, 'fake')
    await mkdir(fake, { recursive: true })
    const realCc1 = (
      await runCompiler({
        compiler: '/usr/bin/gcc',
        args: ['-print-prog-name=cc1'],
        cwd: dir,
        env: ENV,
      })
    ).stdout
      .toString()
      .trim()
    await writeFile(join(fake, 'cc1'), `#!/bin/sh\nexec ${realCc1} "$@"\n`)
    await writeFile(
      join(fake, 'gcc'),
      `#!/bin/sh\nif [ "$1" = "-###" ]; then /usr/bin/gcc "$@" 2>&1 | sed 's| [^ ]*/cc1 | ${fake}/cc1 |' >&2; exit 0; fi\nexec /usr/bin/gcc "$@"\n`,
    )
    await chmod(join(fake, 'cc1'), 0o755)
    await chmod(join(fake, 'gcc'), 0o755)
    const c: Case = { ...(cases()[0] as Case), compiler: join(fake, 'gcc') }
    const { commands, outcomes, learnt } = learning()
    const programs: string[] = []
    const spec = specFor(c, { driverCommands: commands, run: recording(c.cwd, programs) })
    const first = await preprocess(spec)
    await learnt
    assert.deepEqual(outcomes, ['ready'])
    await rm(join(fake, 'cc1'))
    const second = await preprocess(spec)
    const third = await preprocess(spec)
    assert.deepEqual(programs, ['gcc', 'cc1', 'gcc', 'gcc'])
    for (const pp of [second, third]) {
      assert.equal(pp.exitCode, 0)
      assert.ok(pp.text.equals(first.text))
    }
  })

  it('learns at most two flag sets at once; the others keep the driver meanwhile', async () => {
    const slow = join(dir, 'slow')
    await mkdir(slow, { recursive: true })
    await writeFile(join(slow, 'gcc'), '#!/bin/sh\nsleep 0.3\nexit 1\n')
    await chmod(join(slow, 'gcc'), 0o755)
    const commands = new GccDriverCommands()
    const job = (n: number) => ({
      compiler: join(slow, 'gcc'),
      cwd: dir,
      env: ENV,
      values: { dir: join(dir, 'tmp'), id: `x${n}`, source: 'a.c', targets: [] },
      sentinelArgs: [
        `-DN=${n}`,
        '-E',
        'MESHCC-SRC-S3NT.c',
        '-o',
        '/MESHCC-DIR-S3NT/pp-MESHCC-ID-S3NT.i',
      ],
    })
    const keys = [1, 2, 3].map((n) => commands.keyOf(job(n)) as string)
    const sample = { textHash: '-', depfileHash: undefined, stderr: Buffer.alloc(0) }
    const first = commands.learn(keys[0] as string, job(1), sample)
    const second = commands.learn(keys[1] as string, job(2), sample)
    assert.equal(commands.wantsSample(keys[2] as string), false, 'two are being learnt')
    await commands.learn(keys[2] as string, job(3), sample) // turned away at once
    await Promise.all([first, second])
    assert.equal(commands.wantsSample(keys[0] as string), false, 'learnt (driver-only)')
    assert.equal(commands.wantsSample(keys[2] as string), true, 'its turn comes later')
  })

  it('keeps the driver for a flag set whose learnt command does not give the same text', async () => {
    // A flag set whose check run succeeds, so that only the comparison decides.
    const tmp = join(dir, 'tmp')
    await mkdir(tmp, { recursive: true })
    const job = {
      compiler: '/usr/bin/gcc',
      cwd: build,
      env: ENV,
      values: { dir: tmp, id: 'mismatch', source: '../src/a.c', targets: [] },
      sentinelArgs: [
        '-E',
        '-I../inc',
        'MESHCC-SRC-S3NT.c',
        '-o',
        '/MESHCC-DIR-S3NT/pp-MESHCC-ID-S3NT.i',
      ],
    }
    const driver = await runCompiler({
      compiler: '/usr/bin/gcc',
      args: ['-E', '-I../inc', '../src/a.c', '-o', join(tmp, 'pp-reference.i')],
      cwd: build,
      env: ENV,
    })
    assert.equal(driver.exitCode, 0, driver.stderr.toString())
    const right = {
      textHash: hashBytes(await readFile(join(tmp, 'pp-reference.i'))),
      depfileHash: undefined,
      stderr: Buffer.alloc(0),
    }
    const values = { ...job.values, id: 'later' }
    // The same text as the driver's: learnt.
    const agreeing = new GccDriverCommands()
    const key = agreeing.keyOf(job) as string
    await agreeing.learn(key, job, right)
    assert.equal(agreeing.command(key, values)?.[0]?.endsWith('/cc1'), true)
    // Another text: the driver stays.
    const disagreeing = new GccDriverCommands()
    await disagreeing.learn(key, job, { ...right, textHash: 'not the text' })
    assert.equal(disagreeing.command(key, values), undefined)
    assert.equal(disagreeing.wantsSample(key), false)
  })
})
