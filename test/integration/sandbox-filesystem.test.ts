/**
 * Sandbox, filesystem: a hostile program inside cannot read the builder's files (a canary in a
 * home directory outside the mounts, /etc/shadow), sees only the sandbox's own root, and cannot
 * write anywhere but its writable directory and /tmp — not to the read-only toolchain, not to
 * `/`, not to /proc/sys, no device nodes, no setuid bits. Every denial has a positive control
 * showing the probe succeeds where it is allowed, so the tests can fail.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { readJobOutput } from '../../src/sandbox/collect-output.ts'
import { runSandboxed } from '../../src/sandbox/run-sandboxed.ts'
import { isLinux, type ProbeFixture, probeFixture, runProbe } from './sandbox-fixture.ts'

describe('sandbox: filesystem isolation', { skip: !isLinux && 'sandbox is Linux-only' }, () => {
  let f: ProbeFixture
  let work: string
  let home: string
  let canary: string
  let job: string
  before(async () => {
    f = await probeFixture()
    work = await mkdtemp(join(tmpdir(), 'meshcc-sbx-fs-'))
    home = join(work, 'home', 'alice')
    canary = join(home, '.ssh', 'id_canary')
    await mkdir(join(home, '.ssh'), { recursive: true })
    await writeFile(canary, 'CANARY-SECRET\n')
    job = join(work, 'job')
    await mkdir(job)
  })
  after(async () => {
    await rm(work, { recursive: true, force: true })
    await f.cleanup()
  })

  it("cannot read a canary in the builder's home; can when it is mounted", async () => {
    const denied = await runProbe(f, ['read', canary])
    assert.equal(denied.exitCode, 1)
    assert.deepEqual(denied.lines, [`fail ${canary} ENOENT`])
    // Control: the same file mounted in is readable, so the probe does read.
    const allowed = await runProbe(f, ['read', canary], {
      mounts: [{ kind: 'ro', source: home, path: home }],
    })
    assert.equal(allowed.exitCode, 0)
    assert.ok(allowed.lines.includes('content CANARY-SECRET'), allowed.lines.join('\n'))
  })

  it('cannot read /etc/shadow or any host /etc, /root, /home', async () => {
    assert.ok(existsSync('/etc/shadow'), 'the host has /etc/shadow')
    for (const p of ['/etc/shadow', '/etc/passwd', '/root/.bashrc', '/home']) {
      const r = await runProbe(f, ['read', p])
      assert.equal(r.exitCode, 1, p)
      assert.match(r.lines.at(-1) ?? '', /^fail .* ENOENT$/, p)
    }
  })

  it('sees only its own root: the mounts, /proc, /dev and /tmp', async () => {
    const r = await runProbe(f, ['ls', '/'])
    assert.equal(r.exitCode, 0)
    const entries = r.lines.filter((l) => l.startsWith('entry ')).map((l) => l.slice(6))
    const expected = [...f.toolchain.map((m) => m.path.slice(1)), 'probe', 'proc', 'dev', 'tmp']
    assert.deepEqual(entries.sort(), expected.sort())
    const dev = await runProbe(f, ['ls', '/dev'])
    const devs = dev.lines.filter((l) => l.startsWith('entry ')).map((l) => l.slice(6))
    assert.deepEqual(devs.sort(), [
      'fd',
      'full',
      'null',
      'random',
      'stderr',
      'stdin',
      'stdout',
      'urandom',
      'zero',
    ])
  })

  it('cannot write to the toolchain, to /, to /proc/sys or make devices', async () => {
    const usr = f.toolchain.find((m) => m.kind === 'ro' && m.path === '/usr')
    assert.ok(usr, 'the host /usr is mounted as the toolchain')
    const before = (await stat('/usr')).mtimeMs
    const cases: [string[], RegExp][] = [
      [['write', '/usr/meshcc-pwned'], /EROFS|EACCES/],
      [['write', '/usr/bin/gcc'], /EROFS|EACCES/],
      [['write', '/probe/probe'], /EROFS|EACCES|ETXTBSY/],
      [['write', '/pwned'], /EROFS|EACCES/],
      [['mkdir', '/etc'], /EROFS|EACCES/],
      [['write', '/proc/sys/kernel/hostname'], /EROFS|EACCES/],
      [['write', '/dev/pwned'], /EROFS|EACCES/],
      [['mknod', '/tmp/null2'], /EPERM|EACCES/],
    ]
    for (const [args, err] of cases) {
      const r = await runProbe(f, args)
      assert.equal(r.exitCode, 1, args.join(' '))
      assert.match(r.lines.at(-1) ?? '', err, args.join(' '))
    }
    assert.equal(existsSync('/usr/meshcc-pwned'), false)
    assert.equal((await stat('/usr')).mtimeMs, before)
  })

  it('writes only in its writable directory, without setuid bits', async () => {
    const jobPath = '/home/bob/proj/build' // any absolute path, not the host's
    const ok = await runProbe(f, ['write', `${jobPath}/out.o`], {
      mounts: [{ kind: 'rw', source: job, path: jobPath }],
    })
    assert.equal(ok.exitCode, 0, ok.lines.join('\n'))
    assert.equal(await readFile(join(job, 'out.o'), 'utf8'), 'pwned\n')
    const tmp = await runProbe(f, ['write', '/tmp/scratch'])
    assert.equal(tmp.exitCode, 0, 'private /tmp is writable')
    const suid = await runProbe(f, ['chmod-suid', `${jobPath}/out.o`], {
      mounts: [{ kind: 'rw', source: job, path: jobPath }],
    })
    assert.equal(suid.exitCode, 1)
    assert.equal((await stat(join(job, 'out.o'))).mode & 0o6000, 0)
    // The writable mount grants nothing beside it: its parent is the read-only root.
    const beside = await runProbe(f, ['write', '/home/bob/proj/evil'], {
      mounts: [{ kind: 'rw', source: job, path: jobPath }],
    })
    assert.equal(beside.exitCode, 1)
    assert.equal(existsSync(join(work, 'evil')), false)
  })

  it('a planted output link to a host file is refused when outputs are collected', async () => {
    const out = join(work, 'job-links')
    await mkdir(out)
    const r = await runSandboxed({
      program: '/bin/sh',
      args: ['-c', 'ln -s /etc/shadow hello.o && mkdir d && ln -s /etc d/up && echo real > ok.o'],
      mounts: [...f.toolchain, { kind: 'rw', source: out, path: '/job' }],
      cwd: '/job',
      env: { PATH: '/usr/bin:/bin' },
    })
    assert.equal(r.exitCode, 0, r.stderr.toString())
    assert.equal((await readJobOutput(out, 'ok.o', { maxBytes: 1024 })).toString(), 'real\n')
    for (const rel of ['hello.o', 'd/up/shadow'])
      await assert.rejects(readJobOutput(out, rel, { maxBytes: 1 << 20 }), {
        code: 'ERR_MESHCC_UNSAFE_JOB_OUTPUT',
      })
  })

  it('a mount source that does not exist is a setup error, not a run', async () => {
    await assert.rejects(
      runProbe(f, ['ls', '/'], {
        mounts: [{ kind: 'ro', source: join(work, 'missing'), path: '/x' }],
      }),
      (err: Error & { code?: string }) => err.code === 'ERR_MESHCC_SANDBOX_SETUP',
    )
  })
})
