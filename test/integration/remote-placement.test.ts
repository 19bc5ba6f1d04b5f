/**
 * The executor under the scheduler's `runWithPlacement`, as the daemon will run a miss in
 * `MESHCC_MODE=remote`: a builder whose sandbox refuses costs one retry on another member, and
 * the object is still byte-identical to a local compile; when every member fails, the job is
 * compiled locally (a fallback, never a failed build).
 */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { BuilderService } from '../../src/remote/builder-service.ts'
import { remoteRunner } from '../../src/remote/placement-runner.ts'
import type { RemoteOutcome } from '../../src/remote/remote-executor.ts'
import { systemClock } from '../../src/scheduler/clock.ts'
import { Placement } from '../../src/scheduler/placement.ts'
import { runWithPlacement } from '../../src/scheduler/run-with-placement.ts'
import type { BuilderView } from '../../src/scheduler/types.ts'
import {
  memberCredentials,
  startMemoryNode,
  stopNode,
  type TestNode,
  testOrg,
  waitFor,
} from '../helpers/mesh.ts'
import {
  buildSandboxHelper,
  ENV,
  localCompile,
  packageToolchains,
  type Pair,
  parse,
  startPair,
  type Toolchains,
  writeTree,
} from './remote-fixture.ts'

const ARGS = ['-g', '-O2', '-c', 'src/a.c', '-o', 'a.o']

describe('remote jobs under placement', {
  skip: process.platform !== 'linux' && 'Linux only',
}, () => {
  const org = testOrg('acme')
  let tc: Toolchains
  let pair: Pair
  let broken: TestNode
  let cwd: string

  before(async () => {
    buildSandboxHelper()
    tc = await packageToolchains(['gcc'])
    pair = await startPair(org, tc)
    broken = await startMemoryNode(org, {
      bootstrap: pair.builderNode.mesh.addrs(),
      credentials: (k) => memberCredentials(org, k, { name: 'broken', roles: ['builder'] }),
    })
    const brokenBuilder = new BuilderService({
      store: tc.store,
      slots: 4,
      workDir: join(pair.work, 'broken'),
      sandboxHelper: '/nonexistent/meshcc-sandbox',
    })
    await brokenBuilder.register(broken.mesh)
    await waitFor(() => pair.client.mesh.admission.isMember(broken.mesh.peerId), {
      what: 'admitted',
    })
    cwd = await mkdtemp(join(tmpdir(), 'meshcc-remote-place-'))
    await writeTree(cwd, {
      'src/a.c':
        '#define N 3\nint tri(void) { int s = 0; for (int i = 0; i < N; i++) s += i; return s; }\n',
    })
  })
  after(async () => {
    if (broken) await stopNode(broken)
    await pair?.stop()
    await rm(tc.dir, { recursive: true, force: true })
    await rm(cwd, { recursive: true, force: true })
  })

  function view(peerId: string): BuilderView {
    return {
      peerId,
      platform: 'linux',
      arch: 'x64',
      cores: 4,
      freeSlots: 4,
      load: 0,
      queuedJobs: 0,
      speed: 1,
      toolchains: [tc.ids['gcc']!],
      version: '0.1.0',
      advertAt: systemClock.now(),
      rttMs: 1,
      admitted: true,
      builder: true,
    }
  }

  /** `first`: the members the first placement sees (later ones see `members`). */
  async function run(members: string[], first = members) {
    let asked = 0
    const placement = new Placement({
      clock: systemClock,
      reserve: async () => ({ granted: true }),
      members: () => (asked++ === 0 ? first : members).map(view),
      localSlots: 1,
      mode: 'remote',
    })
    const inv = parse('gcc', ARGS, cwd)
    const handle = remoteRunner(pair.exec, {
      compiler: 'gcc',
      inv,
      cwd,
      env: ENV,
      toolchain: tc.ids['gcc']!,
    })
    let localRuns = 0
    const report = await runWithPlacement<RemoteOutcome>(
      { toolchain: tc.ids['gcc']!, platform: 'linux', arch: 'x64' },
      {
        placement,
        remote: handle.runner,
        local: async () => {
          localRuns++
          const r = localCompile('gcc', ARGS, cwd)
          return { peer: 'local', exitCode: r.exitCode ?? 1 } as unknown as RemoteOutcome
        },
      },
    )
    const job = handle.prepared()
    if (report.where === 'remote' && job !== undefined)
      await pair.exec.commit(job, report.result, { umask: 0o022 })
    return { report, localRuns }
  }

  it('a refusing builder costs one retry elsewhere; the object equals a local compile', async () => {
    assert.equal(localCompile('gcc', ARGS, cwd).exitCode, 0)
    const local = await readFile(join(cwd, 'a.o'))
    await rm(join(cwd, 'a.o'))
    const good = pair.builderNode.mesh.peerId.toString()
    const bad = broken.mesh.peerId.toString()
    // The first placement sees only the refusing builder; the retry excludes it.
    const { report, localRuns } = await run([bad, good], [bad])
    assert.deepEqual(
      report.attempts.map((a) => [a.peer, a.outcome]),
      [
        [bad, 'sandbox-refused'],
        [good, 'compiled'],
      ],
    )
    assert.equal(report.where, 'remote')
    assert.equal(report.peer, good)
    assert.equal(localRuns, 0)
    assert.ok((await readFile(join(cwd, 'a.o'))).equals(local), 'objects differ')
  })

  it('when every member fails, the job is compiled locally', async () => {
    const { report, localRuns } = await run([broken.mesh.peerId.toString()])
    assert.equal(report.where, 'local')
    assert.equal(localRuns, 1)
    assert.ok(report.attempts.some((a) => a.outcome === 'sandbox-refused'))
  })
})
