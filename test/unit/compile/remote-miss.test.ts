/**
 * The pipeline's remote miss path with a fake executor and members: where a miss compiles in
 * each mode, and what `meshcc stats` learns about retries and fallbacks. The real network,
 * builders and byte equality are in test/e2e/remote-build.test.ts.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { RequestContext } from '../../../src/compile/context.ts'
import type { MissCompile, MissRun } from '../../../src/compile/miss-compiler.ts'
import { type RemoteClient, remoteMissCompiler } from '../../../src/compile/remote-miss.ts'
import { parseCompilerArgs } from '../../../src/compilers/parse.ts'
import type { CacheableInvocation } from '../../../src/compilers/types.ts'
import { silentLogger } from '../../../src/daemon/logger.ts'
import { BuilderFailedError } from '../../../src/errors.ts'
import type {
  PreparedJob,
  RemoteExecutor,
  RemoteOutcome,
} from '../../../src/remote/remote-executor.ts'
import { systemClock } from '../../../src/scheduler/clock.ts'
import { LocalPool } from '../../../src/scheduler/local-pool.ts'
import { Placement } from '../../../src/scheduler/placement.ts'
import type { BuilderView } from '../../../src/scheduler/types.ts'
import { StatsRecorder } from '../../../src/stats/recorder.ts'

const PEERS = ['peer-b', 'peer-c']

function view(peerId: string): BuilderView {
  return {
    peerId,
    platform: process.platform,
    arch: process.arch,
    cores: 2,
    freeSlots: 2,
    load: 0,
    queuedJobs: 0,
    speed: 1,
    toolchains: ['tc'],
    version: '0.1.0',
    advertAt: systemClock.now(),
    rttMs: 1,
    admitted: true,
    builder: true,
  }
}

function outcome(peer: string, exitCode = 0): RemoteOutcome {
  return {
    peer,
    exitCode,
    signal: null,
    stdout: Buffer.alloc(0),
    stderr: Buffer.from(exitCode === 0 ? '' : 'error: remote\n'),
    outputs: new Map(),
    suspect: undefined,
    builderCpuMs: 1,
    builderWallMs: 1,
    wallMs: 2,
  }
}

/** Peers that fail: `cut-off` for each send to them. */
function fakeExecutor(failing: Set<string>) {
  const sent: string[] = []
  const committed: RemoteOutcome[] = []
  let prepared = 0
  const exec = {
    begin: () => {
      prepared++
      const job = { jobId: 'j', preprocessMs: 1, wireBytes: 1 } as unknown as PreparedJob
      return { head: Promise.resolve(undefined), job: Promise.resolve(job) }
    },
    send: async (_job: PreparedJob, peer: string) => {
      sent.push(peer)
      if (failing.has(peer)) throw new BuilderFailedError('cut-off', `${peer} died`)
      return outcome(peer)
    },
    commit: async (_job: PreparedJob, out: RemoteOutcome) => {
      committed.push(out)
    },
  }
  return { exec: exec as unknown as RemoteExecutor, sent, committed, prepared: () => prepared }
}

describe('remote misses', () => {
  let dir: string
  let inv: CacheableInvocation
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshcc-remote-miss-'))
    const parsed = parseCompilerArgs(['-O2', '-c', 'a.c', '-o', 'a.o'], {
      compiler: 'gcc',
      cwd: dir,
    })
    assert.ok(parsed.cacheable)
    inv = parsed
  })
  after(() => rm(dir, { recursive: true, force: true }))

  function setup(
    mode: 'local' | 'auto' | 'remote',
    o: { failing?: string[]; localFree?: boolean } = {},
  ) {
    const stats = new StatsRecorder({ file: join(dir, 'stats.json') })
    const fake = fakeExecutor(new Set(o.failing ?? []))
    const pool = new LocalPool(1)
    if (o.localFree !== true) assert.ok(pool.tryAcquire()) // this machine is busy
    let packaged = 0
    const placements = new Map<string, Placement>()
    const client: RemoteClient = {
      executor: fake.exec,
      toolchainFor: async () => {
        packaged++
        return 'tc'
      },
      toolchainIfReady: () => 'tc',
      tryLocalSlot: () => (pool.tryAcquire() ? () => pool.release() : undefined),
      placement: (m) => {
        let p = placements.get(m)
        if (p === undefined) {
          p = new Placement({
            clock: systemClock,
            reserve: async () => ({ granted: true }),
            members: () => PEERS.map(view),
            localSlots: new LocalPool(1),
            mode: m,
          })
          placements.set(m, p)
        }
        return p
      },
    }
    const compile = remoteMissCompiler({ client: () => client, stats, log: silentLogger })
    let localRuns = 0
    const job: MissCompile = {
      args: [],
      injectedDepfile: undefined,
      local: async () => {
        localRuns++
        return {
          exitCode: 0,
          signal: null,
          stdout: Buffer.alloc(0),
          stderr: Buffer.alloc(0),
          ms: 1,
        }
      },
    }
    const ctx = {
      settings: { mode },
      inv,
      request: { compiler: 'gcc', cwd: dir, env: {}, umask: 0o022, args: [] },
      wantColor: false,
      signal: new AbortController().signal,
    } as unknown as RequestContext
    return {
      run: (): Promise<MissRun> => compile(ctx, job),
      stats,
      fake,
      localRuns: () => localRuns,
      packaged: () => packaged,
    }
  }

  it('local mode compiles here and touches nothing remote', async () => {
    const t = setup('local')
    const r = await t.run()
    assert.notEqual(r.where, 'remote')
    assert.equal(t.localRuns(), 1)
    assert.equal(t.packaged(), 0)
    assert.deepEqual(t.fake.sent, [])
  })

  it('auto with a free local slot compiles here without packaging or preprocessing', async () => {
    const t = setup('auto', { localFree: true })
    await t.run()
    assert.equal(t.localRuns(), 1)
    assert.equal(t.packaged(), 0)
    assert.equal(t.fake.prepared(), 0)
  })

  it('remote mode sends the job and commits what came back', async () => {
    const t = setup('remote')
    const r = await t.run()
    assert.equal(r.where, 'remote')
    assert.equal(t.localRuns(), 0)
    assert.equal(t.fake.sent.length, 1)
    assert.equal(t.fake.committed.length, 1)
    assert.equal(t.stats.snapshot().remote_retries, 0)
  })

  it('a builder that dies costs one retry elsewhere (counted)', async () => {
    const t = setup('remote', { failing: ['peer-b'] })
    // Whichever member is drawn first, at most one failure happens before peer-c compiles.
    const r = await t.run()
    assert.equal(r.where, 'remote')
    assert.equal(t.fake.sent.at(-1), 'peer-c')
    assert.equal(t.stats.snapshot().remote_retries, t.fake.sent.length - 1)
    assert.equal(t.fake.prepared(), 1, 'the retry preprocessed again')
  })

  it('when every member fails the job compiles here, counted as a fallback with the reason', async () => {
    const t = setup('remote', { failing: PEERS })
    const r = await t.run()
    assert.notEqual(r.where, 'remote')
    assert.equal(t.localRuns(), 1)
    assert.deepEqual([...t.fake.sent].sort(), [...PEERS].sort())
    const s = t.stats.snapshot()
    assert.equal(s.remote_retries, 1)
    assert.equal(s.remote_fallbacks, 1)
    assert.deepEqual(s.remote_fallback_reasons, { 'cut-off': 1 })
    assert.equal(t.fake.committed.length, 0)
  })

  it('an ineligible compile (-march=native) stays here in remote mode', async () => {
    const t = setup('remote')
    const parsed = parseCompilerArgs(['-march=native', '-c', 'a.c', '-o', 'a.o'], {
      compiler: 'gcc',
      cwd: dir,
    })
    assert.ok(parsed.cacheable)
    const saved = inv
    inv = parsed
    try {
      const t2 = setup('remote')
      await t2.run()
      assert.equal(t2.localRuns(), 1)
      assert.deepEqual(t2.fake.sent, [])
    } finally {
      inv = saved
    }
    assert.equal(t.localRuns(), 0)
  })
})
