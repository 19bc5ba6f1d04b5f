/**
 * The executor → scheduler adapter: preprocessing happens once however many members are tried,
 * and each executor outcome becomes the RemoteResult the retry policy expects.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { BuilderBusyError, BuilderFailedError, RemoteIneligibleError } from '../../../src/errors.ts'
import { remoteRunner } from '../../../src/remote/placement-runner.ts'
import type {
  PreparedJob,
  RemoteExecutor,
  RemoteJobInput,
  RemoteOutcome,
} from '../../../src/remote/remote-executor.ts'
import type { RemoteSlot } from '../../../src/scheduler/run-with-placement.ts'

const job = { toolchain: 'x', platform: 'linux', arch: 'x64' }
const slot = (peer: string): RemoteSlot => ({
  kind: 'remote',
  peer,
  lease: undefined,
  release() {},
})
const prepared = { jobId: 'j' } as PreparedJob
const outcome = (o: Partial<RemoteOutcome> = {}) =>
  ({ peer: 'p', exitCode: 0, suspect: undefined, ...o }) as RemoteOutcome

function fakeExecutor(sends: Array<() => RemoteOutcome>, prepare?: () => PreparedJob) {
  const calls = { prepare: 0, send: [] as string[] }
  const exec = {
    begin: () => {
      calls.prepare++
      const job = (async () => (prepare ? prepare() : prepared))()
      return { head: Promise.resolve(undefined), job }
    },
    send: async (_job: PreparedJob, peer: string) => {
      calls.send.push(peer)
      const next = sends.shift()
      if (next === undefined) throw new Error('no more sends')
      return next()
    },
  } as unknown as RemoteExecutor
  return { exec, calls }
}

describe('remoteRunner', () => {
  const signal = new AbortController().signal
  const input = {} as RemoteJobInput

  it('preprocesses once across attempts and maps each outcome', async () => {
    const { exec, calls } = fakeExecutor([
      () => {
        throw new BuilderBusyError('full')
      },
      () => {
        throw new BuilderFailedError('cut-off', 'died')
      },
      () => outcome({ suspect: 'gcc-diagnostics' }),
      () => outcome(),
    ])
    const h = remoteRunner(exec, input)
    assert.equal(h.prepared(), undefined)
    assert.deepEqual(await h.runner(slot('a'), job, { signal }), { kind: 'busy', detail: 'busy' })
    const cut = await h.runner(slot('b'), job, { signal })
    assert.equal(cut.kind === 'infra' && cut.failure, 'cut-off')
    const suspect = await h.runner(slot('c'), job, { signal })
    assert.equal(suspect.kind === 'compiled' && suspect.suspect, true)
    const ok = await h.runner(slot('d'), job, { signal })
    assert.equal(ok.kind === 'compiled' && ok.suspect, undefined)
    assert.equal(calls.prepare, 1)
    assert.deepEqual(calls.send, ['a', 'b', 'c', 'd'])
    assert.equal(h.prepared(), prepared)
  })

  it('an ineligible job is an infrastructure result, not a crash; other errors propagate', async () => {
    const { exec } = fakeExecutor([], () => {
      throw new RemoteIneligibleError('preprocess-failed', 'no')
    })
    const r = await remoteRunner(exec, input).runner(slot('a'), job, { signal })
    assert.deepEqual(r, {
      kind: 'infra',
      failure: 'protocol',
      detail: 'ineligible: preprocess-failed',
    })
    const { exec: broken } = fakeExecutor([
      () => {
        throw new TypeError('bug')
      },
    ])
    await assert.rejects(remoteRunner(broken, input).runner(slot('a'), job, { signal }), TypeError)
  })
})
