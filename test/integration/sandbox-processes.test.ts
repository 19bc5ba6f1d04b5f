/**
 * Sandbox, processes and privileges: the program sees only its own processes, holds no
 * capability, runs with no_new_privs and a seccomp filter as an unprivileged uid, cannot
 * ptrace, create namespaces or push characters into a terminal, gets only the environment and
 * descriptors it was given — and nothing it starts outlives the deadline, an abort, or the
 * helper's own death (a double-forked, setsid'd sleeper included). The unprivileged path
 * (helper started by a non-root user) is checked too.
 */
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { helperArgs } from '../../src/sandbox/helper-args.ts'
import {
  helper,
  hostProcessesWith,
  isLinux,
  isRoot,
  type ProbeFixture,
  probeFixture,
  runProbe,
  uniqueToken,
} from './sandbox-fixture.ts'

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms))

async function waitFor(cond: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await cond()) return true
    await sleep(20)
  }
  return false
}

function statusMap(lines: string[]): Map<string, string> {
  return new Map(lines.map((l) => l.split(/:\s+/) as [string, string]))
}

describe('sandbox: processes and privileges', { skip: !isLinux && 'sandbox is Linux-only' }, () => {
  let f: ProbeFixture
  before(async () => {
    f = await probeFixture()
  })
  after(() => f.cleanup())

  it('sees only its own processes', async () => {
    const r = await runProbe(f, ['pids'])
    assert.equal(r.exitCode, 0)
    const pids = r.lines.filter((l) => l.startsWith('pid ')).map((l) => Number(l.slice(4)))
    assert.ok(pids.length >= 1 && pids.length <= 3, `pids: ${pids.join(' ')}`)
    assert.ok(pids.includes(1))
    assert.ok(
      pids.every((p) => p <= 3),
      `pids: ${pids.join(' ')}`,
    )
  })

  it('no capabilities, NoNewPrivs 1, Seccomp 2, not root', async () => {
    const r = await runProbe(f, ['status'])
    const s = statusMap(r.lines)
    for (const k of ['CapEff', 'CapPrm', 'CapBnd', 'CapAmb'])
      assert.equal(s.get(k), '0000000000000000', k)
    assert.equal(s.get('NoNewPrivs'), '1')
    assert.equal(s.get('Seccomp'), '2')
    const uids = (s.get('Uid') ?? '').split(/\s+/)
    assert.equal(uids.length, 4)
    assert.ok(
      uids.every((u) => u !== '0'),
      `Uid: ${uids.join(' ')}`,
    )
  })

  it('cannot ptrace, unshare, kill its init or use TIOCSTI', async () => {
    for (const c of ['ptrace', 'unshare', 'kill1', 'tiocsti']) {
      const r = await runProbe(f, [c])
      assert.equal(r.exitCode, 1, c)
      assert.match(r.lines.at(-1) ?? '', /^fail \S+ (EPERM|EACCES|ENOTTY)$/, c)
    }
  })

  it('gets only the environment and descriptors it was given', async () => {
    process.env['MESHCC_SANDBOX_TEST_LEAK'] = 'leaked'
    try {
      const env = { PATH: '/usr/bin:/bin', LANG: 'C', ODD: 'a b=c' }
      const r = await runProbe(f, ['env'], { env })
      const seen = r.lines.map((l) => l.slice(4)).sort()
      assert.deepEqual(seen, ['LANG=C', 'ODD=a b=c', 'PATH=/usr/bin:/bin'])
    } finally {
      delete process.env['MESHCC_SANDBOX_TEST_LEAK']
    }
    // 0-2, plus 3 for the directory the probe opened to list them: nothing else was inherited.
    const fds = await runProbe(f, ['fds'])
    const entries = fds.lines.filter((l) => l.startsWith('entry ')).map((l) => l.slice(6))
    assert.deepEqual(entries.sort(), ['0', '1', '2', '3'])
  })

  it('a double-forked sleeper is killed at the deadline, nothing survives', async () => {
    const token = uniqueToken('timeout')
    const started = Date.now()
    const run = runProbe(f, ['doublefork', token], { limits: { timeoutMs: 1000 } })
    // Control: both sleepers exist on the host while the job runs.
    assert.ok(
      await waitFor(async () => (await hostProcessesWith('sleep', token)).length === 2, 900),
    )
    const r = await run
    const elapsed = Date.now() - started
    assert.equal(r.timedOut, true)
    assert.equal(r.exitCode, null)
    assert.equal(r.signal, 'SIGKILL')
    assert.ok(elapsed < 1000 + 1000, `returned after ${elapsed} ms`)
    assert.deepEqual(await hostProcessesWith(token), [])
  })

  it('an abort kills everything and rejects with the reason', async () => {
    const token = uniqueToken('abort')
    const ac = new AbortController()
    const run = runProbe(f, ['doublefork', token], { signal: ac.signal })
    assert.ok(
      await waitFor(async () => (await hostProcessesWith('sleep', token)).length === 2, 5000),
    )
    ac.abort(new Error('stop'))
    await assert.rejects(run, /stop/)
    assert.deepEqual(await hostProcessesWith(token), [])
  })

  it("the helper's own death (SIGKILL) takes the sandbox with it", async () => {
    const token = uniqueToken('orphan')
    const args = helperArgs({
      program: '/probe/probe',
      args: ['doublefork', token],
      mounts: [...f.toolchain, { kind: 'ro', source: f.dir, path: '/probe' }],
      cwd: '/',
      env: {},
      limits: { timeoutMs: 30_000 },
    })
    const child = spawn(helper, args, { stdio: ['ignore', 'ignore', 'inherit', 'pipe'] })
    assert.ok(
      await waitFor(async () => (await hostProcessesWith('sleep', token)).length === 2, 5000),
    )
    child.kill('SIGKILL')
    await once(child, 'exit')
    assert.ok(
      await waitFor(async () => (await hostProcessesWith(token)).length === 0, 2000),
      'sandboxed processes survived the helper',
    )
  })

  it('works unprivileged (helper run as nobody)', {
    skip: !isRoot && 'needs root to switch user',
  }, async () => {
    const { stdout } = await promisify(execFile)('setpriv', [
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      helper,
      '--probe',
    ])
    const inside = JSON.parse(stdout.trim()) as { ok: boolean; checks: Record<string, boolean> }
    assert.equal(inside.ok, true, stdout)
    assert.ok(Object.keys(inside.checks).length >= 10)
  })
})
