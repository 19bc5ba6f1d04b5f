/**
 * Slot reservations between two real nodes (the reservation that opens a `/meshcc/job/2.0.0`
 * stream): a reserved slot is held for that stream (other jobs find the builder full, the job
 * sent on the stream runs and its object equals a local compile), a full builder refuses a
 * reservation at once, an unused reservation expires, a stream closed before its job gives the
 * slot back at once, and the daemon's `ReserveFn` hands the stream from the placement to the job.
 */
import assert from 'node:assert/strict'
import { readdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { BuilderBusyError } from '../../src/errors.ts'
import { remoteRunner } from '../../src/remote/placement-runner.ts'
import type { RemoteOutcome } from '../../src/remote/remote-executor.ts'
import { remoteReserve } from '../../src/remote/remote-reserve.ts'
import { JobChannel } from '../../src/remote/job-protocol.ts'
import { runSandboxed } from '../../src/sandbox/run-sandboxed.ts'
import { systemClock } from '../../src/scheduler/clock.ts'
import { Placement } from '../../src/scheduler/placement.ts'
import { runWithPlacement } from '../../src/scheduler/run-with-placement.ts'
import type { BuilderView } from '../../src/scheduler/types.ts'
import { testOrg, waitFor } from '../helpers/mesh.ts'
import {
  ENV,
  openJobChannel,
  type Pair,
  parse,
  SOURCE_ARGS as ARGS,
  type SourcePair,
  startSourcePair,
  type Toolchains,
} from './remote-fixture.ts'

describe('slot reservations on a builder', {
  skip: process.platform !== 'linux' && 'Linux only',
}, () => {
  const org = testOrg('acme')
  let tc: Toolchains
  let pair: Pair
  let cwd: string
  let builderId: string
  let local: Buffer
  /** Jobs wait for this before their compile starts (the "full" test holds it). */
  let gate: Promise<void> = Promise.resolve()

  let sp: SourcePair
  before(async () => {
    sp = await startSourcePair(org, 'meshcc-remote-reserve-', {
      builder: {
        slots: 1,
        reservationTtlMs: 1500,
        run: async (spec, o) => {
          await gate
          return runSandboxed(spec, o)
        },
      },
    })
    ;({ tc, pair, cwd, builderId, local } = sp)
  })
  after(() => sp?.stop())

  const reserve = async () => {
    const t0 = performance.now()
    const channel = await openJobChannel(pair)
    const r = await channel.reserve({ v: 1, toolchain: tc.ids['gcc']! })
    return { r, channel, ms: performance.now() - t0 }
  }
  const prepare = () =>
    pair.exec.prepare({
      compiler: 'gcc',
      inv: parse('gcc', ARGS, cwd),
      cwd,
      env: ENV,
      toolchain: tc.ids['gcc']!,
    })

  it('holds a reserved slot for its job, refuses others at once, and the job runs in it', async () => {
    const first = await reserve()
    assert.equal(first.r.status, 'granted')
    assert.equal(pair.builder.freeSlots(), 0, 'the reservation holds the only slot')
    // Full: a second reservation is refused at once, without waiting for the slot.
    const second = await reserve()
    assert.equal(second.r.status, 'busy')
    assert.ok(second.ms < 1000, `busy answer took ${second.ms} ms`)
    const job = await prepare()
    // A job on another stream finds no free slot.
    await assert.rejects(pair.exec.send(job, builderId), BuilderBusyError)
    assert.equal(pair.builder.reservations.size, 1, 'the reservation is still held')
    // A lease for another member is not used for this one (a fresh stream: busy again).
    const foreign = new JobChannel(first.channel.stream, pair.client.mesh.peerId.toString())
    await assert.rejects(pair.exec.send(job, builderId, { lease: foreign }), BuilderBusyError)
    const out = await pair.exec.send(job, builderId, { lease: first.channel })
    assert.equal(out.exitCode, 0)
    await pair.exec.commit(job, out, { umask: 0o022 })
    assert.ok((await readFile(join(cwd, 'a.o'))).equals(local), 'objects differ')
    await rm(join(cwd, 'a.o'))
    assert.equal(pair.builder.reservations.counters.taken, 1)
    assert.equal(pair.builder.reservations.size, 0)
    await waitFor(() => pair.builder.running === 0, { what: 'job ended' })
    assert.equal(pair.builder.freeSlots(), 1)
    // A stream is used once: given again, a fresh stream reserves the free slot.
    const again = await pair.exec.send(job, builderId, { lease: first.channel })
    assert.equal(again.exitCode, 0)
    assert.equal(pair.builder.reservations.counters.taken, 2)
  })

  it('an unused reservation expires and frees its slot; its late job runs if a slot is free', async () => {
    await waitFor(() => pair.builder.running === 0, { what: 'idle builder' })
    const r = await reserve()
    assert.equal(r.r.status, 'granted')
    assert.equal(pair.builder.freeSlots(), 0)
    await waitFor(() => pair.builder.freeSlots() === 1, { what: 'reservation expired' })
    assert.ok(pair.builder.reservations.counters.expired >= 1)
    const out = await pair.exec.send(await prepare(), builderId, { lease: r.channel })
    assert.equal(out.exitCode, 0)
  })

  it('a reservation whose stream closes gives its slot back at once', async () => {
    await waitFor(() => pair.builder.running === 0, { what: 'idle builder' })
    const cancelled = pair.builder.reservations.counters.cancelled
    const r = await reserve()
    assert.equal(r.r.status, 'granted')
    assert.equal(pair.builder.freeSlots(), 0)
    const t0 = performance.now()
    r.channel.dispose()
    await waitFor(() => pair.builder.freeSlots() === 1, { what: 'slot given back' })
    assert.ok(performance.now() - t0 < 1000, 'given back before the reservation expired')
    assert.equal(pair.builder.reservations.counters.cancelled, cancelled + 1)
  })

  it('a reservation prepares its job directory; it is gone after the job or without one', async () => {
    await waitFor(() => pair.builder.freeSlots() === 1, { what: 'free slot' })
    const jobs = join(pair.work, 'jobs')
    const entries = async () => (await readdir(jobs).catch(() => [])).length
    await waitFor(async () => (await entries()) === 0, { what: 'no job directory left' })
    // Made at the reservation, before any job came.
    const unused = await reserve()
    assert.equal(unused.r.status, 'granted')
    await waitFor(async () => (await entries()) === 1, { what: 'job directory prepared' })
    unused.channel.dispose()
    await waitFor(async () => (await entries()) === 0, { what: 'unused directory removed' })
    // Used by the job on the stream, removed once the response is out.
    const used = await reserve()
    await waitFor(async () => (await entries()) === 1, { what: 'job directory prepared' })
    const job = await prepare()
    const out = await pair.exec.send(job, builderId, { lease: used.channel })
    assert.equal(out.exitCode, 0)
    await pair.exec.commit(job, out, { umask: 0o022 })
    assert.ok((await readFile(join(cwd, 'a.o'))).equals(local), 'objects differ')
    await rm(join(cwd, 'a.o'))
    await waitFor(async () => (await entries()) === 0, { what: 'job directory removed' })
  })

  it("the daemon's ReserveFn reserves and the placement's job goes on the reserving stream", async () => {
    await waitFor(() => pair.builder.freeSlots() === 1, { what: 'free slot' })
    const view = (): BuilderView => ({
      peerId: builderId,
      platform: 'linux',
      arch: 'x64',
      cores: 1,
      freeSlots: 1,
      load: 0,
      queuedJobs: 0,
      speed: 1,
      toolchains: [tc.ids['gcc']!],
      version: '0.1.0',
      advertAt: systemClock.now(),
      rttMs: 1,
      admitted: true,
      builder: true,
    })
    let p: Placement | undefined
    p = new Placement({
      clock: systemClock,
      reserve: remoteReserve(pair.client.mesh.node, () => p),
      members: () => [view()],
      localSlots: 1,
      mode: 'remote',
    })
    const placement = p
    const before = { ...pair.builder.reservations.counters }
    const handle = remoteRunner(pair.exec, {
      compiler: 'gcc',
      inv: parse('gcc', ARGS, cwd),
      cwd,
      env: ENV,
      toolchain: tc.ids['gcc']!,
    })
    const signal = new AbortController().signal
    void handle.prepareEarly(signal)
    const report = await runWithPlacement<RemoteOutcome>(
      { toolchain: tc.ids['gcc']!, platform: 'linux', arch: 'x64' },
      {
        placement,
        remote: handle.runner,
        local: async () => assert.fail('compiled locally'),
        signal,
      },
    )
    assert.equal(report.where, 'remote')
    assert.equal(pair.builder.reservations.counters.granted, before.granted + 1)
    assert.equal(pair.builder.reservations.counters.taken, before.taken + 1)
    const job = handle.prepared()
    assert.ok(job)
    await pair.exec.commit(job, report.result, { umask: 0o022 })
    assert.ok((await readFile(join(cwd, 'a.o'))).equals(local), 'objects differ')
  })

  it('a member that does not serve the job protocol is not granted', async () => {
    // The client node serves no job protocol (as a member without the builder role).
    const reserve = remoteReserve(
      pair.builderNode.mesh.node,
      () => ({ hasRoom: () => true }) as unknown as Placement,
    )
    await assert.rejects(
      reserve(pair.client.mesh.peerId.toString(), { toolchain: tc.ids['gcc']! }, {}),
    )
  })

  it('a builder full of running jobs refuses a reservation at once', async () => {
    await waitFor(() => pair.builder.freeSlots() === 1, { what: 'free slot' })
    const job = await prepare()
    // The builder's only slot runs a real job (held before its compile) while we ask for another.
    let open = () => {}
    gate = new Promise((r) => {
      open = r
    })
    const running = pair.exec.send(job, builderId)
    await waitFor(() => pair.builder.running === 1, { what: 'job running' })
    const r = await reserve()
    assert.equal(r.r.status, 'busy')
    assert.ok(r.ms < 1000, `busy answer took ${r.ms} ms`)
    open()
    assert.equal((await running).exitCode, 0)
  })
})
