/**
 * A builder job whose input comes after the rest of it (early start, `runBuilderJob`'s `input`):
 * its deadline runs from the input's arrival, not from the job's start; the sandbox's own limit
 * allows for the wait; an input that never comes fails the job with its reason. The sandbox is a
 * stand-in that runs until it is stopped. (The compile started before its input, on a FIFO, and
 * the wall time it reports are in test/integration/remote-early-start.test.ts.)
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type BuilderJobContext, runBuilderJob } from '../../../src/remote/builder-job.ts'
import { type Blob, JOB_MESSAGE_VERSION, type JobRequest } from '../../../src/remote/job-codec.ts'
import { packBlob } from '../../../src/remote/job-compress.ts'
import type { SandboxResult, SandboxSpec } from '../../../src/sandbox/types.ts'

const later = <T>(ms: number, value: T): Promise<T> =>
  new Promise((resolve) => setTimeout(() => resolve(value), ms))

describe('builder job: an input that comes later', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshcc-bji-'))
  })
  after(() => rm(dir, { recursive: true, force: true }))

  const request = async (deadlineMs: number): Promise<JobRequest> => ({
    v: JOB_MESSAGE_VERSION,
    features: [],
    jobId: 'j1',
    toolchain: 'ab'.repeat(32),
    // clang: no locale probe and no shipped sources, so the stand-in sandbox sees one run.
    family: 'clang',
    language: 'c',
    driver: 'c',
    args: ['-c', 'a.c', '-o', 'a.o'],
    cwd: '/work/p',
    inputPath: '/work/p/a.c',
    input: { size: 0, data: new Uint8Array(0) },
    outputs: [{ path: '/work/p/a.o', role: 'object', optional: false }],
    deadlineMs,
    env: {},
  })

  /** A sandbox whose program runs until stopped (or, with `exitAfterMs`, exits 0 then). */
  const standIn = (exitAfterMs?: number) => {
    const seen: { spec?: SandboxSpec; startedAt?: number; stoppedAt?: number } = {}
    const run = (spec: SandboxSpec, { signal }: { signal?: AbortSignal }) =>
      new Promise<SandboxResult>((resolve, reject) => {
        seen.spec = spec
        seen.startedAt = performance.now()
        const result = (): SandboxResult => ({
          exitCode: 1,
          signal: null,
          timedOut: false,
          oom: false,
          cpuMs: 1,
          maxRssKb: 1,
          wallMs: Math.round(performance.now() - (seen.startedAt ?? 0)),
          sandboxLevel: 3,
          stdout: Buffer.alloc(0),
          stderr: Buffer.from('stand-in\n'),
          outputTruncated: false,
        })
        if (exitAfterMs !== undefined) setTimeout(() => resolve(result()), exitAfterMs)
        signal?.addEventListener('abort', () => {
          seen.stoppedAt = performance.now()
          reject(signal.reason)
        })
      })
    return { seen, run }
  }

  const context = async (
    run: BuilderJobContext['run'],
    input?: Promise<Blob>,
  ): Promise<BuilderJobContext> => ({
    jobDir: await mkdtemp(join(dir, 'job-')),
    driver: '/usr/bin/clang',
    toolchainMounts: [],
    maxDeadlineMs: 600_000,
    run,
    signal: new AbortController().signal,
    ...(input === undefined ? {} : { input }),
  })

  it('the deadline runs from the input, and the sandbox allows for the wait', async () => {
    const { seen, run } = standIn()
    const blob = await packBlob(Buffer.from('int a;\n'))
    const started = performance.now()
    let inputAt = 0
    const input = later(400, blob).then((b) => {
      inputAt = performance.now()
      return b
    })
    const r = await runBuilderJob(await request(1000), await context(run, input))
    assert.equal(r.status, 'deadline')
    assert.ok(seen.stoppedAt !== undefined)
    // Stopped a deadline after the input came, not after the job started.
    assert.ok(seen.stoppedAt - inputAt >= 950, `${seen.stoppedAt - inputAt} ms after the input`)
    assert.ok(seen.stoppedAt - started >= 1350)
    assert.equal(seen.spec?.limits?.timeoutMs, 1000 + 30_000)
  })

  it('a job with its input at once keeps the plain limit', async () => {
    const { seen, run } = standIn(10)
    const req = await request(1000)
    req.input = await packBlob(Buffer.from('int a;\n'))
    const r = await runBuilderJob(req, await context(run))
    assert.equal(r.status, 'compiled')
    assert.equal(seen.spec?.limits?.timeoutMs, 1000)
  })

  it('an input that never comes fails the job with its reason', async () => {
    const { seen, run } = standIn()
    const input = Promise.reject(new Error('stream closed'))
    input.catch(() => {}) // as the job stream does: the job awaits it
    await assert.rejects(runBuilderJob(await request(5000), await context(run, input)), {
      message: 'stream closed',
    })
    assert.equal(seen.spec, undefined, 'nothing ran')
  })
})
