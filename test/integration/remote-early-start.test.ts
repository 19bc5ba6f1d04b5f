/**
 * Early start between two real nodes: a builder whose grant offers `early-start` gets the job's
 * head while the client still preprocesses, starts the sandboxed compiler at once (it waits in
 * its first read), and hands it the input when that comes; the object equals a local compile.
 * A head whose input never comes, or comes malformed or for another job, stops the compile,
 * frees the slot and leaves no job directory; the deadline counts from the input's arrival.
 */
import assert from 'node:assert/strict'
import { readdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { BuilderFailedError } from '../../src/errors.ts'
import { encodeInput } from '../../src/remote/job-codec.ts'
import type { JobChannel } from '../../src/remote/job-protocol.ts'
import type { PreparedJob, RemoteOutcome } from '../../src/remote/remote-executor.ts'
import { runSandboxed } from '../../src/sandbox/run-sandboxed.ts'
import { testOrg, waitFor } from '../helpers/mesh.ts'
import {
  ENV,
  localCompile,
  openJobChannel,
  type Pair,
  parse,
  SOURCE_ARGS as ARGS,
  type SourcePair,
  startSourcePair,
  type Toolchains,
  writeTree,
} from './remote-fixture.ts'

describe('early start of a job on its builder', {
  skip: process.platform !== 'linux' && 'Linux only',
}, () => {
  const org = testOrg('acme')
  let sp: SourcePair
  let tc: Toolchains
  let pair: Pair
  let cwd: string
  let builderId: string
  let local: Buffer
  /** When each compile (not the locale probe) started, its arguments, and how it ended. */
  const compiles: { at: number; args: readonly string[]; ended?: string }[] = []

  before(async () => {
    sp = await startSourcePair(org, 'meshcc-early-start-', {
      builder: {
        slots: 1,
        run: async (spec, o) => {
          if (!spec.args.includes('-c')) return runSandboxed(spec, o)
          const entry: { at: number; args: readonly string[]; ended?: string } = {
            at: performance.now(),
            args: spec.args,
          }
          compiles.push(entry)
          try {
            const r = await runSandboxed(spec, o)
            entry.ended = r.timedOut ? 'timed out' : `exit ${r.exitCode}`
            return r
          } catch (err) {
            entry.ended = 'stopped'
            throw err
          }
        },
      },
    })
    ;({ tc, pair, cwd, builderId, local } = sp)
  })
  after(() => sp?.stop())

  const reserve = async () => {
    const channel = await openJobChannel(pair)
    const r = await channel.reserve({ v: 1, toolchain: tc.ids['gcc']! })
    assert.equal(r.status, 'granted')
    assert.deepEqual(r.status === 'granted' && r.features, ['early-start'])
    return channel
  }
  const begin = (args = ARGS) =>
    pair.exec.begin({
      compiler: 'gcc',
      inv: parse('gcc', args, cwd),
      cwd,
      env: ENV,
      toolchain: tc.ids['gcc']!,
    })
  const jobDirs = async () => (await readdir(join(pair.work, 'jobs')).catch(() => [])).length
  const idle = () =>
    waitFor(async () => pair.builder.freeSlots() === 1 && (await jobDirs()) === 0, {
      what: 'idle builder, no job directory left',
    })
  /** Sends the head and waits until the builder's compiler runs, before any input went. */
  const headFirst = async (channel: JobChannel, args = ARGS) => {
    const b = begin(args)
    const head = await b.head
    assert.ok(head !== undefined, 'a plain gcc job has a head')
    const n = compiles.length
    assert.ok(channel.sendHead(head.jobId, head.bytes))
    await waitFor(() => compiles.length === n + 1, { what: 'compile started on the head alone' })
    return { job: await b.job, compile: compiles[n]! }
  }

  /** Commits a compiled job and checks that its object is a local compile's (then removes it). */
  const matchesLocal = async (job: PreparedJob, out: RemoteOutcome) => {
    assert.equal(out.exitCode, 0, out.stderr.toString())
    await pair.exec.commit(job, out, { umask: 0o022 })
    assert.ok((await readFile(join(cwd, 'a.o'))).equals(local), 'objects differ')
    await rm(join(cwd, 'a.o'))
  }

  it('starts the compile on the head and gives the input to it: the object equals a local one', async () => {
    const channel = await reserve()
    const { job, compile } = await headFirst(channel)
    assert.ok(job.input !== undefined, 'the job carries its input frame')
    // The compiler waits for its input; nothing has ended yet.
    await new Promise((r) => setTimeout(r, 200))
    assert.equal(compile.ended, undefined)
    const sentAt = performance.now()
    const out = await pair.exec.send(job, builderId, { lease: channel })
    assert.ok(compile.at < sentAt)
    // The input went behind `-include`: the compiler's set-up did not wait for it.
    assert.ok(compile.args.includes('-include'), compile.args.join(' '))
    assert.equal(compiles.at(-1), compile, 'compiled once')
    // The builder's wall time counts from the input, not from the head (the wait is ours).
    assert.ok(out.builderWallMs <= out.wallMs, `${out.builderWallMs} > ${out.wallMs} ms`)
    await matchesLocal(job, out)
    await idle()
  })

  it('a head sent right behind the reservation, before the grant, starts the compile', async () => {
    await idle()
    const channel = await openJobChannel(pair)
    const b = begin()
    const n = compiles.length
    const r = await channel.reserve({ v: 1, toolchain: tc.ids['gcc']! }, { ahead: b.head })
    assert.equal(r.status, 'granted')
    assert.ok(channel.earlyStart)
    await waitFor(() => compiles.length === n + 1, { what: 'compile started on the head' })
    assert.ok(channel.headSent)
    const job = await b.job
    // The runner's own attempt to send the head finds it gone already.
    assert.equal(channel.sendHead(job.jobId, new Uint8Array([1])), false)
    await matchesLocal(job, await pair.exec.send(job, builderId, { lease: channel }))
    await idle()
  })

  it('a head whose input never comes stops its compile and frees the slot', async () => {
    await idle()
    const failed = pair.builder.counters.failed
    const channel = await reserve()
    const { compile } = await headFirst(channel)
    channel.dispose()
    channel.abort()
    await waitFor(() => compile.ended === 'stopped', { what: 'compile stopped' })
    await idle()
    assert.equal(pair.builder.running, 0)
    await waitFor(() => pair.builder.counters.failed === failed + 1, { what: 'counted failed' })
  })

  for (const [what, input] of [
    ['of another job', (job: PreparedJob) => encodeInput('another-job', job.fields!.input)],
    [
      'that does not decompress',
      (job: PreparedJob) =>
        encodeInput(job.jobId, { size: 10, data: new Uint8Array([1, 2, 3, 4]) }),
    ],
  ] as const) {
    it(`an input ${what} is refused, the compile stopped, nothing left`, async () => {
      await idle()
      const channel = await reserve()
      const { job, compile } = await headFirst(channel)
      await assert.rejects(
        pair.exec.send({ ...job, input: input(job) }, builderId, { lease: channel }),
        BuilderFailedError,
      )
      await waitFor(() => compile.ended === 'stopped', { what: 'compile stopped' })
      await idle()
    })
  }

  /** A one-file project compiled remotely after its head went first, and locally. */
  const againstLocal = async (file: string, source: string, extra: string[]) => {
    await idle()
    await writeTree(cwd, { [`src/${file}`]: source })
    const args = ['-g', '-O2', ...extra, '-c', `src/${file}`, '-o', 'x.o']
    const here = localCompile('gcc', args, cwd)
    assert.equal(here.exitCode, 0)
    const localObject = await readFile(join(cwd, 'x.o'))
    await rm(join(cwd, 'x.o'))
    const channel = await reserve()
    const n = compiles.length
    const { job } = await headFirst(channel, args)
    const out = await pair.exec.send(job, builderId, { lease: channel })
    assert.equal(out.exitCode, 0, out.stderr.toString())
    await pair.exec.commit(job, out, { umask: 0o022 })
    assert.ok((await readFile(join(cwd, 'x.o'))).equals(localObject), 'objects differ')
    await rm(join(cwd, 'x.o'))
    return { here, out, ran: compiles.slice(n) }
  }

  it('a compile that prints is compiled again the usual way: the output of a local compile', async () => {
    const { here, out, ran } = await againstLocal(
      'w.c',
      'int w(void) {\n  int unused;\n  return 0;\n}\n',
      ['-Wall'],
    )
    assert.match(here.stderr.toString(), /unused variable/)
    assert.equal(out.stderr.toString(), here.stderr.toString())
    assert.deepEqual(
      ran.map((c) => c.args.includes('-include')),
      [true, false],
      'behind -include first, then the usual way',
    )
  })

  it('text that acts otherwise behind -include (__INCLUDE_LEVEL__) is compiled the usual way', async () => {
    const { out, ran } = await againstLocal(
      'l.c',
      'int level = __INCLUDE_LEVEL__;\nint get(void) { return level; }\n',
      [],
    )
    assert.equal(out.stderr.length, 0)
    assert.equal(ran.at(-1)?.args.includes('-include'), false)
    assert.ok(ran.every((c, i) => i === ran.length - 1 || c.ended === 'stopped'))
  })

  it('an option that records the include (-g3) keeps the input in the main file', async () => {
    const { ran } = await againstLocal('r.c', '#define TWO 2\nint r(int x) { return x + TWO; }\n', [
      '-g3',
    ])
    assert.deepEqual(
      ran.map((c) => c.args.includes('-include')),
      [false],
    )
  })

  it('a job without a head still goes whole on a stream that offered early start', async () => {
    await idle()
    const channel = await reserve()
    const job = await begin().job
    await matchesLocal(job, await pair.exec.send(job, builderId, { lease: channel }))
  })
})
