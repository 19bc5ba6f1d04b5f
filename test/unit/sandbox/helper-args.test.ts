/**
 * The helper's command line from a spec: paths pass as separate arguments (':' and spaces
 * intact), limits get their defaults, and what the helper would refuse is refused first.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { helperArgs } from '../../../src/sandbox/helper-args.ts'
import { parseSandboxStatus } from '../../../src/sandbox/status.ts'
import type { SandboxSpec } from '../../../src/sandbox/types.ts'

const base: SandboxSpec = {
  program: 'gcc',
  args: ['-c', 'a b.c'],
  mounts: [],
  cwd: '/home/a:b/proj',
  env: { PATH: '/usr/bin' },
}

describe('sandbox helper arguments', () => {
  it('passes mounts in order, paths as separate arguments', () => {
    const a = helperArgs({
      ...base,
      mounts: [
        { kind: 'ro', source: '/store/tc/usr', path: '/usr' },
        { kind: 'symlink', path: '/lib', to: 'usr/lib' },
        { kind: 'rw', source: '/var/jobs/1', path: '/home/a:b/proj' },
        { kind: 'tmpfs', path: '/scratch', sizeBytes: 1024 },
        { kind: 'dir', path: '/opt' },
      ],
    })
    const end = a.indexOf('--')
    assert.deepEqual(a.slice(end), ['--', 'gcc', '-c', 'a b.c'])
    assert.deepEqual(a.slice(0, 14), [
      '--ro',
      '/store/tc/usr',
      '/usr',
      '--symlink',
      'usr/lib',
      '/lib',
      '--rw',
      '/var/jobs/1',
      '/home/a:b/proj',
      '--tmpfs',
      '/scratch',
      '1024',
      '--dir',
      '/opt',
    ])
    assert.equal(a[a.indexOf('--cwd') + 1], '/home/a:b/proj')
    assert.equal(a[a.indexOf('--env') + 1], 'PATH=/usr/bin')
    assert.equal(a[a.indexOf('--status-fd') + 1], '3')
  })

  it('defaults the limits; CPU follows the deadline unless given', () => {
    const a = helperArgs({ ...base, limits: { timeoutMs: 5000 } })
    assert.equal(a[a.indexOf('--timeout-ms') + 1], '5000')
    assert.equal(a[a.indexOf('--cpu-ms') + 1], '5000')
    assert.equal(a[a.indexOf('--nproc') + 1], '256')
    const b = helperArgs({ ...base, limits: { timeoutMs: 5000, cpuMs: 100 } })
    assert.equal(b[b.indexOf('--cpu-ms') + 1], '100')
  })

  it('refuses relative, dotted, root and reserved sandbox paths, bad env and limits', () => {
    const bad: SandboxSpec[] = [
      { ...base, mounts: [{ kind: 'ro', source: 'rel', path: '/x' }] },
      { ...base, mounts: [{ kind: 'ro', source: '/x', path: 'x' }] },
      { ...base, mounts: [{ kind: 'ro', source: '/x', path: '/a/../etc' }] },
      { ...base, mounts: [{ kind: 'rw', source: '/x', path: '/' }] },
      { ...base, mounts: [{ kind: 'rw', source: '/x', path: '/proc/x' }] },
      { ...base, mounts: [{ kind: 'rw', source: '/x', path: '/dev' }] },
      { ...base, mounts: [{ kind: 'tmpfs', path: '/t', sizeBytes: 0 }] },
      { ...base, env: { 'A=B': 'c' } },
      { ...base, env: { A: 'nul\0' } },
      { ...base, cwd: 'relative' },
      { ...base, limits: { nproc: -1 } },
      { ...base, limits: { memBytes: 1.5 } },
    ]
    for (const spec of bad)
      assert.throws(
        () => helperArgs(spec),
        { code: 'ERR_MESHCC_SANDBOX_SPEC' },
        JSON.stringify(spec),
      )
  })
})

describe('sandbox status line', () => {
  const ok =
    '{"exit":0,"signal":null,"timedOut":false,"aborted":false,"oom":false,"cpuMs":3,"maxRssKb":584,"wallMs":15,"sandboxLevel":3,"landlockAbi":7,"error":null}\n'
  it('parses the helper line', () => {
    const s = parseSandboxStatus(ok)
    assert.equal(s.exit, 0)
    assert.equal(s.sandboxLevel, 3)
    assert.equal(s.error, null)
  })
  it('refuses anything malformed', () => {
    for (const t of [
      '',
      'nope',
      `${ok}${ok}`,
      ok.replace('"sandboxLevel":3', '"sandboxLevel":9'),
      ok.replace('"cpuMs":3', '"cpuMs":"3"'),
    ])
      assert.throws(() => parseSandboxStatus(t), { code: 'ERR_MESHCC_SANDBOX_SETUP' })
  })
})
