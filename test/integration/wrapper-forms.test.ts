/**
 * The native client's wrapper forms and process model, against a stand-in daemon that runs the
 * compiler (test/helpers/fake-daemon.ts, started by the client itself through a MESHCC_NODE
 * shim): on-demand start, full detachment, prefix and masquerade forms, CCACHE_PREFIX through
 * real ccache, the loop guard, MESHCC_DISABLE and a missing compiler.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import {
  daemonPid,
  isAlive,
  makeHome,
  meshccBin,
  runCommand,
  type TestHome,
  waitFor,
  withFakeDaemonNode,
} from '../helpers/meshcc-home.ts'

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0

async function served(env: NodeJS.ProcessEnv, cwd: string): Promise<number> {
  const r = await runCommand(meshccBin, ['daemon', 'status', '--json'], { cwd, env })
  assert.equal(r.code, 0, r.stderr.toString())
  return JSON.parse(r.stdout.toString()).servedRequests
}

describe('native client: wrapper forms', () => {
  let h: TestHome
  let env: NodeJS.ProcessEnv
  before(async () => {
    h = await makeHome()
    env = await withFakeDaemonNode(h, 'passthrough')
    await writeFile(join(h.dir, 'x.c'), 'int f(void) { return 42; }\n')
    await writeFile(join(h.dir, 'w.c'), 'int g(int a) { int unused; return a; }\n')
  })
  after(() => h.cleanup())

  it('starts the daemon on demand, detached, holding no inherited descriptor', async () => {
    assert.equal(await daemonPid(h.home), undefined)
    // The pipe into `cat` and an extra fd 3 would keep this command open forever if the
    // daemon kept any of them: the command must return promptly.
    const r = await runCommand(
      'sh',
      ['-c', `'${meshccBin}' gcc -c x.c -o x.o 3>&2 | cat; echo done`],
      { cwd: h.dir, env, timeoutMs: 20_000 },
    )
    assert.equal(r.code, 0, r.stderr.toString())
    assert.equal(r.stdout.toString(), 'done\n')
    assert.ok(r.ms < 10_000, `took ${r.ms} ms`)
    assert.ok(existsSync(join(h.dir, 'x.o')))
    const pid = await waitFor(() => daemonPid(h.home))
    assert.ok(isAlive(pid))
    const fds = readdirSync(`/proc/${pid}/fd`).map((fd) => [
      fd,
      readlinkSync(`/proc/${pid}/fd/${fd}`),
    ])
    for (const [fd, target] of fds) {
      if (fd === '0' || fd === '1' || fd === '2') assert.equal(target, '/dev/null', `fd ${fd}`)
    }
    // Its session is its own: not the test's, so a terminal hang-up or ^C does not reach it.
    const statFields = (p: number | 'self') => {
      const stat = readFileSync(`/proc/${p}/stat`, 'latin1')
      return stat
        .slice(stat.lastIndexOf(')') + 2)
        .split(' ')
        .map(Number)
    }
    const [, ppid, , session] = statFields(pid)
    assert.notEqual(session, statFields('self')[3], 'daemon runs in a session of its own (setsid)')
    assert.notEqual(session, pid, 'double fork: not a session leader, so it never gets a terminal')
    assert.notEqual(ppid, process.pid)
    assert.equal(readlinkSync(`/proc/${pid}/cwd`), '/')
  })

  it('a second daemon for the same home exits at once and leaves the first in charge', async () => {
    const first = await waitFor(() => daemonPid(h.home))
    const r = await runCommand(env['MESHCC_NODE']!, [join('/x', 'dist', 'daemon', 'main.js')], {
      cwd: h.dir,
      env,
      timeoutMs: 20_000,
    })
    assert.equal(r.code, 0)
    assert.equal(await daemonPid(h.home), first)
    assert.ok(isAlive(first))
  })

  it('prefix form relays the compiler output byte for byte', async () => {
    const before = await served(env, h.dir)
    const args = ['-Wall', '-c', 'w.c', '-o', 'w.o']
    const plain = await runCommand('gcc', args, { cwd: h.dir, env: h.env })
    const viaMeshcc = await runCommand(meshccBin, ['gcc', ...args], { cwd: h.dir, env })
    assert.equal(viaMeshcc.code, plain.code)
    assert.ok(plain.stderr.length > 0, 'the test source must warn')
    assert.deepEqual(viaMeshcc.stderr, plain.stderr)
    assert.deepEqual(viaMeshcc.stdout, plain.stdout)
    const pre = await runCommand(meshccBin, ['gcc', '-E', 'x.c'], { cwd: h.dir, env })
    const prePlain = await runCommand('gcc', ['-E', 'x.c'], { cwd: h.dir, env: h.env })
    assert.deepEqual(pre.stdout, prePlain.stdout)
    // Output over several 1 MiB frames comes through whole and in order.
    const lines = Array.from({ length: 150_000 }, (_, i) => `int v${i} = ${i};`).join('\n')
    await writeFile(join(h.dir, 'big.c'), `${lines}\n`)
    const big = await runCommand(meshccBin, ['gcc', '-E', '-P', 'big.c'], { cwd: h.dir, env })
    const bigPlain = await runCommand('gcc', ['-E', '-P', 'big.c'], { cwd: h.dir, env: h.env })
    assert.ok(bigPlain.stdout.length > 2 * 1024 * 1024, `${bigPlain.stdout.length} bytes`)
    assert.ok(big.stdout.equals(bigPlain.stdout), 'large stdout identical')
    assert.equal(await served(env, h.dir), before + 3, 'all went through the daemon')
  })

  it('masquerade directory: symlinks named like compilers, first on PATH', async () => {
    const masq = join(h.dir, 'masq')
    await mkdir(masq, { recursive: true })
    for (const name of ['gcc', 'cc', 'g++']) await symlink(meshccBin, join(masq, name))
    const menv = { ...env, PATH: `${masq}:${env['PATH']}` }
    const before = await served(env, h.dir)
    const r = await runCommand('gcc', ['-c', 'x.c', '-o', 'm.o'], { cwd: h.dir, env: menv })
    assert.equal(r.code, 0, r.stderr.toString())
    const r2 = await runCommand(join(masq, 'cc'), ['-c', 'x.c', '-o', 'm2.o'], {
      cwd: h.dir,
      env: menv,
    })
    assert.equal(r2.code, 0, r2.stderr.toString())
    assert.deepEqual(await readFile(join(h.dir, 'm.o')), await readFile(join(h.dir, 'm2.o')))
    assert.equal(await served(env, h.dir), before + 2)
  })

  it('CCACHE_PREFIX=meshcc through real ccache', {
    skip: !has('ccache') && 'ccache not installed',
  }, async () => {
    const before = await served(env, h.dir)
    const cenv = { ...env, CCACHE_PREFIX: meshccBin, CCACHE_DIR: join(h.dir, 'ccache') }
    const r = await runCommand('ccache', ['gcc', '-c', 'x.c', '-o', 'c.o'], {
      cwd: h.dir,
      env: cenv,
    })
    assert.equal(r.code, 0, r.stderr.toString())
    assert.ok(existsSync(join(h.dir, 'c.o')))
    assert.ok((await served(env, h.dir)) > before, 'ccache ran the compile through meshcc')
  })

  it('loop guard: a "gcc" that calls meshcc again ends instead of looping', async () => {
    const fake = join(h.dir, 'fakebin')
    await mkdir(fake, { recursive: true })
    // Calls meshcc with the real compiler: runs exactly once more, directly.
    await writeFile(join(fake, 'gcc'), `#!/bin/sh\nexec '${meshccBin}' /usr/bin/gcc "$@"\n`, {
      mode: 0o755,
    })
    const fenv = { ...env, PATH: `${fake}:${env['PATH']}` }
    const before = await served(env, h.dir)
    const ok = await runCommand(meshccBin, ['gcc', '-c', 'x.c', '-o', 'l.o'], {
      cwd: h.dir,
      env: fenv,
    })
    assert.equal(ok.code, 0, ok.stderr.toString())
    assert.ok(existsSync(join(h.dir, 'l.o')))
    assert.equal(await served(env, h.dir), before + 1, 'the inner meshcc did not go to the daemon')
    // Calls meshcc with the same name again: would recurse forever without the guard.
    await writeFile(join(fake, 'gcc'), `#!/bin/sh\nexec '${meshccBin}' gcc "$@"\n`, { mode: 0o755 })
    const loop = await runCommand(meshccBin, ['gcc', '-c', 'x.c', '-o', 'l2.o'], {
      cwd: h.dir,
      env: fenv,
      timeoutMs: 20_000,
    })
    assert.equal(loop.signal, null, 'finished by itself')
    assert.notEqual(loop.code, 0)
    assert.match(loop.stderr.toString(), /recursion/)
  })

  it('a missing compiler is one clear line and status 127', async () => {
    const r = await runCommand(meshccBin, ['no-such-cc-xyz', '-c', 'x.c'], { cwd: h.dir, env })
    assert.equal(r.code, 127)
    assert.match(r.stderr.toString(), /^meshcc: no-such-cc-xyz: compiler not found on PATH.*\n$/)
    const self = await runCommand(meshccBin, [meshccBin, '-c', 'x.c'], { cwd: h.dir, env })
    assert.equal(self.code, 1)
    assert.match(self.stderr.toString(), /is meshcc itself/)
  })

  it('MESHCC_DISABLE=1 runs the compiler without the daemon', async () => {
    const before = await served(env, h.dir)
    const r = await runCommand(meshccBin, ['gcc', '-c', 'x.c', '-o', 'd.o'], {
      cwd: h.dir,
      env: { ...env, MESHCC_DISABLE: '1' },
    })
    assert.equal(r.code, 0)
    assert.ok(existsSync(join(h.dir, 'd.o')))
    assert.equal(await served(env, h.dir), before)
  })
})
