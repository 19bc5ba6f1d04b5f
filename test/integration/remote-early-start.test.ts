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
import { JOB_PROTOCOL, JobChannel } from '../../src/remote/job-protocol.ts'
import type { PreparedJob } from '../../src/remote/remote-executor.ts'
import { runSandboxed } from '../../src/sandbox/run-sandboxed.ts'
import { testOrg, waitFor } from '../helpers/mesh.ts'
import {
  ENV,
  type Pair,
  parse,
  SOURCE_ARGS as ARGS,
  type SourcePair,
  startSourcePair,
  type Toolchains,
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
  /** When each compile (not the locale probe) started, and how it ended. */
  const compiles: { at: number; ended?: string }[] = []

  before(async () => {
    sp = await startSourcePair(org, 'meshcc-early-start-', {
      builder: {
        slots: 1,
        run: async (spec, o) => {
          if (!spec.args.includes('-c')) return runSandboxed(spec, o)
          const entry: { at: number; ended?: string } = { at: performance.now() }
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
    const conn = await pair.client.mesh.node.dial(pair.builderNode.mesh.peerId)
    const channel = new JobChannel(await conn.newStream(JOB_PROTOCOL), builderId)
    const r = await channel.reserve({ v: 1, toolchain: tc.ids['gcc']! })
    assert.equal(r.status, 'granted')
    assert.deepEqual(r.status === 'granted' && r.features, ['early-start'])
    return channel
  }
  const begin = () =>
    pair.exec.begin({
      compiler: 'gcc',
      inv: parse('gcc', ARGS, cwd),
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
  const headFirst = async (channel: JobChannel) => {
    const b = begin()
    const head = await b.head
    assert.ok(head !== undefined, 'a plain gcc job has a head')
    const n = compiles.length
    assert.ok(channel.sendHead(head.jobId, head.bytes))
    await waitFor(() => compiles.length === n + 1, { what: 'compile started on the head alone' })
    return { job: await b.job, compile: compiles[n]! }
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
    assert.equal(out.exitCode, 0, out.stderr.toString())
    assert.ok(compile.at < sentAt)
    // The builder's wall time counts from the input, not from the head (the wait is ours).
    assert.ok(out.builderWallMs <= out.wallMs, `${out.builderWallMs} > ${out.wallMs} ms`)
    await pair.exec.commit(job, out, { umask: 0o022 })
    assert.ok((await readFile(join(cwd, 'a.o'))).equals(local), 'objects differ')
    await rm(join(cwd, 'a.o'))
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

  it('a job without a head still goes whole on a stream that offered early start', async () => {
    await idle()
    const channel = await reserve()
    const job = await begin().job
    const out = await pair.exec.send(job, builderId, { lease: channel })
    assert.equal(out.exitCode, 0)
    await pair.exec.commit(job, out, { umask: 0o022 })
    assert.ok((await readFile(join(cwd, 'a.o'))).equals(local), 'objects differ')
    await rm(join(cwd, 'a.o'))
  })
})
