/**
 * The pure half of running gcc's cc1 without its driver: reading `gcc -###` output, picking the
 * one cc1 command out of it, and filling a learnt command in with a job's values.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  fillCommand,
  type JobValues,
  learntTemplate,
  parseDriverCommands,
  sentinelValues,
} from '../../../src/remote/gcc-driver-commands.ts'

const values: JobValues = {
  dir: '/home/dev/.meshcc/tmp',
  id: '1b2c',
  source: '../src/we ird$.c',
  targets: ['obj/a.o', '$(OUT)/a.o'],
}
const s = sentinelValues(values)

const shown = [
  'Using built-in specs.',
  'COLLECT_GCC=/usr/bin/gcc',
  `COLLECT_GCC_OPTIONS='-E' '-o' '${s.dir}/pp-${s.id}.i'`,
  ` /usr/lib/gcc/x86_64-linux-gnu/12/cc1 -E -quiet -MD ${s.dir}/pp-${s.id}.d -MT ${s.targets[0]} -MQ ${s.targets[1]} "-DMSG=\\"a b\\"" "-DV=\\$x" ${s.source} -o ${s.dir}/pp-${s.id}.i "-mtune=generic" -dumpdir ${s.dir}/ -dumpbase pp-${s.id}.c -dumpbase-ext .c`,
  'COMPILER_PATH=/usr/lib/gcc/x86_64-linux-gnu/12/',
].join('\n')

describe('gcc driver commands', () => {
  it('keeps the source extension in its sentinel', () => {
    assert.equal(s.source, 'MESHCC-SRC-S3NT.c')
    assert.equal(sentinelValues({ ...values, source: 'dir.v2/noext' }).source, 'MESHCC-SRC-S3NT')
    assert.deepEqual(s.targets, ['MESHCC-T0-S3NT', 'MESHCC-T1-S3NT'])
  })

  it('reads commands, bare and quoted, and skips the other lines', () => {
    const commands = parseDriverCommands(shown)
    assert.equal(commands?.length, 1)
    const argv = commands?.[0] ?? []
    assert.equal(argv[0], '/usr/lib/gcc/x86_64-linux-gnu/12/cc1')
    assert.ok(argv.includes('-DMSG="a b"'))
    assert.ok(argv.includes('-DV=$x'))
    assert.ok(argv.includes('-mtune=generic'))
  })

  it('refuses a malformed quoted argument', () => {
    assert.equal(parseDriverCommands(' /usr/bin/cc1 "-Dunterminated'), undefined)
    assert.equal(parseDriverCommands(' /usr/bin/cc1 "-Da"b'), undefined)
  })

  it('fills every sentinel in one pass, inside strings too', () => {
    const template = learntTemplate(shown, s)
    assert.ok(template)
    const argv = fillCommand(template, values)
    assert.ok(argv.includes('../src/we ird$.c'))
    assert.ok(argv.includes('/home/dev/.meshcc/tmp/pp-1b2c.i'))
    assert.ok(argv.includes('/home/dev/.meshcc/tmp/pp-1b2c.d'))
    assert.ok(argv.includes('/home/dev/.meshcc/tmp/'))
    assert.ok(argv.includes('pp-1b2c.c'))
    assert.ok(argv.includes('obj/a.o'))
    assert.ok(argv.includes('$(OUT)/a.o'))
    assert.ok(!argv.some((a) => a.includes('S3NT')))
    // A value that contains a sentinel's text is left as it is.
    const tricky = fillCommand(template, { ...values, id: 'MESHCC-T0-S3NT' })
    assert.ok(tricky.includes('/home/dev/.meshcc/tmp/pp-MESHCC-T0-S3NT.i'))
  })

  it('takes only a single absolute cc1 command that keeps the text path and the source', () => {
    const line = shown.split('\n')[3] as string
    assert.equal(learntTemplate(`${line}\n${line}`, s), undefined, 'two commands')
    assert.equal(
      learntTemplate(line.replace(' /usr/lib/gcc/x86_64-linux-gnu/12/cc1', ' cc1'), s),
      undefined,
    )
    assert.equal(learntTemplate(line.replace('/cc1 ', '/as '), s), undefined, 'not cc1')
    assert.equal(learntTemplate(line.replace(` ${s.source}`, ''), s), undefined, 'no source')
    assert.equal(learntTemplate(line.replace(`-o ${s.dir}/pp-${s.id}.i`, ''), s), undefined)
    assert.ok(learntTemplate(line.replace('/cc1 ', '/cc1plus '), s))
  })
})
