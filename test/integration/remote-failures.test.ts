/**
 * What goes wrong between a client and a builder, each mapped to a typed outcome the scheduler
 * acts on: a full builder answers BUSY at once; a builder without a working sandbox refuses;
 * a missing toolchain is fetched through the injected `ensureToolchain` (or refused); a silent
 * builder is a stall, while keepalive frames carry a long compile; a connection that leads to
 * another peer, or an answer for another job, is rejected; outsiders and members without the
 * `client` role cannot submit jobs.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import { BuilderBusyError, BuilderFailedError, RemoteIneligibleError } from '../../src/errors.ts'
import { BuilderService } from '../../src/remote/builder-service.ts'
import type { SandboxRunner } from '../../src/remote/builder-job.ts'
import { emptyResponse } from '../../src/remote/job-codec.ts'
import { packBlob } from '../../src/remote/job-compress.ts'
import { JOB_PROTOCOL, jobServerStream } from '../../src/remote/job-protocol.ts'
import { RemoteExecutor } from '../../src/remote/remote-executor.ts'
import { runSandboxed } from '../../src/sandbox/run-sandboxed.ts'
import { ToolchainStore } from '../../src/toolchain/store.ts'
import {
  memberCredentials,
  outsiderCredentials,
  startMemoryNode,
  stopNode,
  testOrg,
  waitFor,
} from '../helpers/mesh.ts'
import {
  buildSandboxHelper,
  ENV,
  packageToolchains,
  type Pair,
  parse,
  remoteCompile,
  startPair,
  type Toolchains,
  writeTree,
} from './remote-fixture.ts'

const SRC = { 'a.c': 'int add(int a, int b) { return a + b; }\n' }
const ARGS = ['-O2', '-c', 'a.c', '-o', 'a.o']

/** The real sandbox, after `ms` of (abortable) waiting: a slow compile. */
function slowRunner(ms: number, started?: () => void): SandboxRunner {
  return async (spec, opts) => {
    started?.()
    await sleep(ms, undefined, opts.signal === undefined ? {} : { signal: opts.signal })
    return runSandboxed(spec, opts)
  }
}

async function expectFailure(p: Promise<unknown>, failure: string): Promise<BuilderFailedError> {
  try {
    await p
  } catch (err) {
    assert.ok(err instanceof BuilderFailedError, `expected BuilderFailedError, got ${String(err)}`)
    assert.equal(err.failure, failure, err.message)
    return err
  }
  assert.fail('the job succeeded')
}

describe('remote job failures', { skip: process.platform !== 'linux' && 'Linux only' }, () => {
  const org = testOrg('acme')
  let tc: Toolchains
  let gcc: string
  const pairs: Pair[] = []
  let cwd: string

  before(async () => {
    buildSandboxHelper()
    tc = await packageToolchains(['gcc'])
    gcc = tc.ids['gcc']!
    cwd = await mkdtemp(join(tmpdir(), 'meshcc-remote-fail-'))
    await writeTree(cwd, SRC)
  })
  after(async () => {
    await Promise.all(pairs.map((p) => p.stop()))
    await rm(tc.dir, { recursive: true, force: true })
    await rm(cwd, { recursive: true, force: true })
  })
  async function pair(o: Parameters<typeof startPair>[2] = {}): Promise<Pair> {
    const p = await startPair(org, tc, o)
    pairs.push(p)
    return p
  }

  it('a full builder answers BUSY at once; the running job still completes', async () => {
    let running = false
    // What `meshcc stats` is told (`onCount`), one call per count.
    const told: string[] = []
    const p = await pair({
      builder: {
        slots: 1,
        run: slowRunner(2_000, () => (running = true)),
        onCount: (c) => told.push(c),
      },
    })
    const first = remoteCompile(p, 'gcc', ARGS, cwd, gcc)
    await waitFor(() => running, { what: 'first job running' })
    const t0 = performance.now()
    await assert.rejects(remoteCompile(p, 'gcc', ARGS, cwd, gcc), BuilderBusyError)
    const busyMs = performance.now() - t0
    assert.ok(busyMs < 1_000, `BUSY took ${busyMs} ms`)
    assert.equal((await first).exitCode, 0)
    assert.deepEqual(
      { busy: p.builder.counters.busy, compiled: p.builder.counters.compiled },
      { busy: 1, compiled: 1 },
    )
    assert.deepEqual(told.toSorted(), ['accepted', 'busy', 'compiled', 'reserveBusy', 'reserved'])
    assert.equal(p.builder.freeSlots(), 1)
  })

  it('a builder whose sandbox does not work refuses every job, running nothing', async () => {
    let ran = false
    const p = await pair({
      builder: {
        sandboxHelper: '/nonexistent/meshcc-sandbox',
        run: async (s, o) => {
          ran = true
          return runSandboxed(s, o)
        },
      },
    })
    const err = await expectFailure(remoteCompile(p, 'gcc', ARGS, cwd, gcc), 'sandbox-refused')
    assert.match(err.message, /sandbox/)
    assert.equal(ran, false)
    assert.equal(p.builder.counters.refused, 1)
    assert.equal(p.builder.counters.accepted, 0)
  })

  it('a missing toolchain is refused, or fetched from the client through ensureToolchain', async () => {
    const emptyDir = await mkdtemp(join(tmpdir(), 'meshcc-remote-empty-'))
    try {
      const bare = await pair({ builder: { store: new ToolchainStore(join(emptyDir, 'a')) } })
      await expectFailure(remoteCompile(bare, 'gcc', ARGS, cwd, gcc), 'toolchain-missing')

      const store = new ToolchainStore(join(emptyDir, 'b'))
      const asked: Array<{ id: string; from: string }> = []
      const fetching = await pair({
        builder: {
          store,
          ensureToolchain: async (id, { from }) => {
            asked.push({ id, from })
            // What the toolchain transfer does: manifest, then every blob, verified by the store.
            const { bytes, manifest } = await tc.store.getManifest(id)
            await store.putManifest(bytes, { expectedId: id })
            for (const f of await store.missingBlobs(manifest))
              await store.putBlobFromFile(tc.store.blobPath(f.sha256), f)
          },
        },
      })
      const out = await remoteCompile(fetching, 'gcc', ARGS, cwd, gcc)
      assert.equal(out.exitCode, 0)
      assert.deepEqual(asked, [{ id: gcc, from: fetching.client.mesh.peerId.toString() }])
    } finally {
      await rm(emptyDir, { recursive: true, force: true })
    }
  })

  it('keepalive frames carry a compile longer than the stall limit; silence is a stall', async () => {
    const alive = await pair({
      builder: { keepaliveMs: 100, run: slowRunner(1_500) },
      exec: { stallMs: 500 },
    })
    assert.equal((await remoteCompile(alive, 'gcc', ARGS, cwd, gcc)).exitCode, 0)

    const silent = await pair({
      builder: { keepaliveMs: 60_000, run: slowRunner(5_000) },
      exec: { stallMs: 500 },
    })
    const t0 = performance.now()
    await expectFailure(remoteCompile(silent, 'gcc', ARGS, cwd, gcc), 'deadline')
    const ms = performance.now() - t0
    assert.ok(ms < 2_000, `stall detected after ${ms} ms`)
    // The builder notices the client gave up and frees the slot (its sandbox run is aborted).
    await waitFor(() => silent.builder.running === 0, { what: 'slot freed', timeoutMs: 1_500 })
  })

  it('the per-job deadline is enforced on the builder (the sandbox kills the compile)', async () => {
    const p = await pair({ exec: { deadlineMs: 1_000 } })
    await writeTree(cwd, {
      'slow.cpp': [
        'constexpr long spin() { long s = 0; for (long i = 0; i < 4000000000L; ++i) s += i % 7; return s; }',
        'constexpr long value = spin();',
        'long get() { return value; }',
        '',
      ].join('\n'),
    })
    const t0 = performance.now()
    const args = [
      '-std=c++17',
      '-fconstexpr-ops-limit=100000000000',
      '-fconstexpr-loop-limit=2147483647',
      '-c',
      'slow.cpp',
      '-o',
      'slow.o',
    ]
    await expectFailure(remoteCompile(p, 'g++', args, cwd, gcc), 'deadline')
    const ms = performance.now() - t0
    assert.ok(ms < 5_000, `deadline answered after ${ms} ms`)
    assert.equal(p.builder.running, 0)
  })

  it('jobs a builder cannot reproduce never leave the client, with a stated reason', async () => {
    const p = await pair()
    await writeTree(cwd, { 'missing.c': '#include "no-such-header.h"\nint x;\n' })
    const cases: Array<[string[], string]> = [
      [['-c', 'missing.c', '-o', 'm.o'], 'preprocess-failed'],
      [['-c', 'a.c', '-o', 'no/such/dir/a.o'], 'output-dir-missing'],
      [['-march=native', '-c', 'a.c', '-o', 'a.o'], 'cpu-native'],
    ]
    for (const [args, reason] of cases) {
      const err = await remoteCompile(p, 'gcc', args, cwd, gcc).catch((e: unknown) => e)
      assert.ok(err instanceof RemoteIneligibleError, `${args.join(' ')}: ${String(err)}`)
      assert.equal(err.reason, reason)
    }
    assert.equal(p.builder.counters.accepted, 0)
  })

  it('a connection that leads to another peer is refused before the job is sent', async () => {
    const p = await pair()
    const other = await startMemoryNode(org, {
      bootstrap: p.builderNode.mesh.addrs(),
      credentials: (k) => memberCredentials(org, k, { name: 'other', roles: ['builder'] }),
    })
    try {
      const otherBuilder = new BuilderService({
        store: tc.store,
        slots: 2,
        workDir: join(p.work, 'o'),
      })
      await otherBuilder.register(other.mesh)
      await waitFor(() => other.mesh.admission.isMember(p.client.mesh.peerId), { what: 'admitted' })
      const misrouted = new RemoteExecutor({
        tempDir: p.work,
        node: { dial: (_peer, o) => p.client.mesh.node.dial(other.mesh.peerId, o) },
      })
      const inv = parse('gcc', ARGS, cwd)
      const job = await misrouted.prepare({ compiler: 'gcc', inv, cwd, env: ENV, toolchain: gcc })
      await expectFailure(misrouted.send(job, p.builderNode.mesh.peerId), 'protocol')
      assert.equal(otherBuilder.counters.accepted, 0)
      // The honest route to the same peer works.
      const ok = await p.exec.send(job, other.mesh.peerId)
      assert.equal(ok.exitCode, 0)
      assert.equal(ok.peer, other.mesh.peerId.toString())
    } finally {
      await stopNode(other)
    }
  })

  it('an answer for another job is rejected, whoever sends it', async () => {
    const p = await pair()
    const liar = await startMemoryNode(org, {
      bootstrap: p.builderNode.mesh.addrs(),
      credentials: (k) => memberCredentials(org, k, { name: 'liar', roles: ['builder'] }),
    })
    try {
      await liar.mesh.node.handle(JOB_PROTOCOL, async (stream) => {
        const srv = jobServerStream(stream)
        await srv.readReserve({})
        await srv.answerReserve({ v: 1, status: 'granted', ttlMs: 1000 })
        await srv.readRequest({})
        await srv.respond({
          ...emptyResponse('someone-elses-job', 'compiled', ''),
          exitCode: 0,
          outputs: [{ path: join(cwd, 'a.o'), file: await packBlob(Buffer.from('evil')) }],
        })
      })
      await waitFor(() => p.client.mesh.admission.isMember(liar.mesh.peerId), { what: 'admitted' })
      const inv = parse('gcc', ARGS, cwd)
      const job = await p.exec.prepare({ compiler: 'gcc', inv, cwd, env: ENV, toolchain: gcc })
      const err = await expectFailure(p.exec.send(job, liar.mesh.peerId), 'protocol')
      assert.match(err.message, /someone-elses-job/)
    } finally {
      await stopNode(liar)
    }
  })

  it('a member without the client role cannot submit jobs', async (t) => {
    const p = await pair({ clientRoles: ['builder'] })
    const err = await remoteCompile(p, 'gcc', ARGS, cwd, gcc).catch((e: unknown) => e)
    assert.ok(err instanceof BuilderFailedError, String(err))
    t.diagnostic(`no client role: ${err.failure}: ${err.message}`)
    assert.equal(p.builder.counters.accepted, 0)
  })

  it('a non-member (no valid certificate) cannot submit jobs', async (t) => {
    const p = await pair()
    const outsider = await startMemoryNode(org, {
      bootstrap: p.builderNode.mesh.addrs(),
      credentials: () => outsiderCredentials(new Uint8Array(64)),
    })
    // It knows the builder's address and has dialled it (admission then throws it out).
    await outsider.mesh.node.peerStore.merge(p.builderNode.mesh.peerId, {
      multiaddrs: p.builderNode.mesh.node.getMultiaddrs(),
    })
    try {
      const exec = new RemoteExecutor({
        node: outsider.mesh.node,
        tempDir: p.work,
        stallMs: 3_000,
        connectTimeoutMs: 3_000,
      })
      const inv = parse('gcc', ARGS, cwd)
      const job = await exec.prepare({ compiler: 'gcc', inv, cwd, env: ENV, toolchain: gcc })
      const err = await exec.send(job, p.builderNode.mesh.peerId).catch((e: unknown) => e)
      assert.ok(err instanceof BuilderFailedError, String(err))
      t.diagnostic(`outsider: ${err.failure}: ${err.message}`)
      assert.equal(p.builder.counters.accepted, 0)
    } finally {
      await stopNode(outsider)
    }
  })
})
