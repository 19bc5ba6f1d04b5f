/**
 * The real daemon (`dist/daemon/main.js`, started on demand by the native client) and the
 * management CLI: `meshcc daemon start|status|stop`, `meshcc stats [--json] [--zero]` with and
 * without a running daemon, `meshcc doctor`, help, typed errors for unknown flags and for
 * commands of later versions. Needs `npm run build` (the test suite builds first).
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import {
  daemonPid,
  isAlive,
  makeHome,
  meshccBin,
  nodeBin,
  repoRoot,
  runCommand,
  type TestHome,
  waitFor,
} from '../helpers/meshcc-home.ts'

describe('real daemon and CLI', () => {
  let h: TestHome
  const cli = (args: string[], env: NodeJS.ProcessEnv = h.env) =>
    runCommand(meshccBin, args, { cwd: h.dir, env })
  const json = async (args: string[]) => {
    const r = await cli(args)
    return { ...r, value: JSON.parse(r.stdout.toString()) }
  }
  before(async () => {
    assert.ok(existsSync(join(repoRoot, 'dist', 'daemon', 'main.js')), 'run `npm run build` first')
    h = await makeHome()
    await writeFile(join(h.dir, 'a.c'), 'int a(void) { return 7; }\n')
  })
  after(() => h.cleanup())

  it('status before any compile: not running, exit 3', async () => {
    const r = await cli(['daemon', 'status'])
    assert.equal(r.code, 3)
    assert.match(r.stdout.toString(), /not running/)
    const j = await json(['daemon', 'status', '--json'])
    assert.equal(j.value.running, false)
  })

  it('a compile starts the daemon; the second compile is a hit', async () => {
    const c1 = await cli(['gcc', '-c', 'a.c', '-o', 'a.o'])
    assert.equal(c1.code, 0, c1.stderr.toString())
    const c2 = await cli(['gcc', '-c', 'a.c', '-o', 'a.o'])
    assert.equal(c2.code, 0, c2.stderr.toString())
    const s = await json(['stats', '--json'])
    assert.equal(s.code, 0)
    assert.equal(s.value.cache_hits, 1)
    assert.equal(s.value.cache_misses, 1)
    assert.equal(s.value.local_fallbacks, 0)
    const st = await json(['daemon', 'status', '--json'])
    assert.equal(st.code, 0)
    assert.equal(st.value.running, true)
    assert.equal(st.value.pid, await daemonPid(h.home))
    assert.equal(st.value.socket, join(h.home, 'run', 'daemon.sock'))
    const human = await cli(['stats'])
    assert.match(human.stdout.toString(), /Hits\s+1/)
  })

  it('a second daemon and `daemon start` leave the running one in charge', async () => {
    const pid = await daemonPid(h.home)
    assert.ok(pid !== undefined)
    const second = await runCommand(nodeBin, [join(repoRoot, 'dist', 'daemon', 'main.js')], {
      cwd: h.dir,
      env: h.env,
      timeoutMs: 20_000,
    })
    assert.equal(second.code, 0)
    const start = await cli(['daemon', 'start'])
    assert.equal(start.code, 0)
    assert.match(start.stdout.toString(), new RegExp(`already running \\(pid ${pid}\\)`))
    assert.equal(await daemonPid(h.home), pid)
  })

  it('`daemon stop` waits until the process is gone and cleans up', async () => {
    const pid = (await daemonPid(h.home))!
    const r = await cli(['daemon', 'stop'])
    assert.equal(r.code, 0, r.stderr.toString())
    assert.equal(isAlive(pid), false)
    assert.equal(existsSync(join(h.home, 'run', 'daemon.sock')), false)
    assert.equal(existsSync(join(h.home, 'run', 'daemon.pid')), false)
    const again = await cli(['daemon', 'stop'])
    assert.equal(again.code, 0)
    assert.match(again.stdout.toString(), /not running/)
  })

  it('stats without a daemon read the persisted counters; --zero resets them', async () => {
    const s = await json(['stats', '--json'])
    assert.equal(s.code, 0, s.stderr.toString())
    assert.equal(s.value.cache_hits, 1)
    assert.ok(s.value.cache_entries >= 1)
    const z = await json(['stats', '--zero', '--json'])
    assert.equal(z.value.cache_hits, 0)
    assert.equal((await json(['stats', '--json'])).value.cache_misses, 0)
  })

  it('stats without a daemon count the compiles that fell back meanwhile', async () => {
    // No Node for the client: the daemon cannot start, the compile runs locally and is logged.
    const noNode = { ...h.env, MESHCC_NODE: join(h.dir, 'no-such-node') }
    const c = await cli(['gcc', '-c', 'a.c', '-o', 'a.o'], noNode)
    assert.equal(c.code, 0, c.stderr.toString())
    assert.equal(await daemonPid(h.home), undefined)
    assert.ok(existsSync(join(h.home, 'run', 'fallbacks.log')))
    const s = await json(['stats', '--json'])
    assert.equal(s.code, 0, s.stderr.toString())
    assert.equal(s.value.local_fallbacks, 1)
    assert.deepEqual(s.value.local_fallback_reasons, { 'node-missing': 1 })
    assert.equal(existsSync(join(h.home, 'run', 'fallbacks.log')), false)
    // Counted once: the next look (and a daemon started later) sees the same total.
    assert.equal((await json(['stats', '--json'])).value.local_fallbacks, 1)
    assert.match((await cli(['stats'])).stdout.toString(), /node-missing/)
  })

  it('`daemon start` starts one, detached', async () => {
    const r = await json(['daemon', 'start', '--json'])
    assert.equal(r.code, 0, r.stderr.toString())
    assert.equal(r.value.alreadyRunning, false)
    const pid = await waitFor(() => daemonPid(h.home))
    assert.equal(r.value.pid, pid)
    assert.ok(isAlive(pid))
  })

  it('unknown flags and later commands are typed errors with exit status 2', async () => {
    const r = await cli(['stats', '--bogus'])
    assert.equal(r.code, 2)
    assert.match(r.stderr.toString(), /^error\[ERR_MESHCC_UNKNOWN_FLAG\]: .*'--bogus'\nhint: /)
    const j = await cli(['daemon', 'status', '--frob', '--json'])
    assert.equal(j.code, 2)
    assert.deepEqual(Object.keys(JSON.parse(j.stdout.toString())), ['code', 'message', 'hint'])
    for (const cmd of ['config']) {
      const l = await cli([cmd])
      assert.equal(l.code, 2)
      assert.match(l.stderr.toString(), /^error\[ERR_MESHCC_NOT_AVAILABLE\]/)
    }
    const top = await cli(['--frobnicate'])
    assert.equal(top.code, 2)
    assert.match(top.stderr.toString(), /ERR_MESHCC_UNKNOWN_FLAG/)
  })

  it('every command has --help', async () => {
    for (const args of [
      ['--help'],
      [],
      ['daemon', '--help'],
      ['stats', '--help'],
      ['doctor', '-h'],
      ['help', 'stats'],
    ]) {
      const r = await cli(args)
      assert.equal(r.code, 0, args.join(' '))
      assert.match(r.stdout.toString(), /Usage:/)
    }
    // The overview lists every command on one line, and each one has its own help.
    const main = (await cli(['--help'])).stdout.toString()
    // Continuation lines of a long entry are indented deeper; only the command lines start at 2.
    const section = /\nCommands:\n((?: {2}.*\n)+)/.exec(main)?.[1] ?? ''
    const commands = section
      .split('\n')
      .filter((l) => /^ {2}\S/.test(l))
      .map((l) => l.trim().split(' ')[0]!)
    assert.deepEqual(commands.sort(), [
      'cache',
      'daemon',
      'doctor',
      'help',
      'join',
      'org',
      'peers',
      'stats',
      'toolchain',
      'version',
    ])
    for (const cmd of commands) {
      const r = await cli([cmd, '--help'])
      assert.equal(r.code, 0, `${cmd} --help`)
      assert.match(r.stdout.toString(), new RegExp(`^Usage: meshcc ${cmd}\\b`), `${cmd} --help`)
    }
  })

  it('doctor reports real checks', async () => {
    const r = await json(['doctor', '--json'])
    const names = r.value.checks.map((c: { name: string }) => c.name)
    for (const n of [
      'node',
      'native client',
      'MESHCC_HOME',
      'daemon',
      'cache',
      'gcc',
      'masquerade',
    ]) {
      assert.ok(names.includes(n), n)
    }
    const daemon = r.value.checks.find((c: { name: string }) => c.name === 'daemon')
    assert.equal(daemon.status, 'ok', 'the daemon started above is reachable')
    assert.equal(r.code, r.value.ok ? 0 : 1)
    // Without a writable home the check fails and says so.
    await writeFile(join(h.dir, 'a-file'), '')
    const bad = await runCommand(meshccBin, ['doctor', '--json'], {
      cwd: h.dir,
      env: { ...h.env, MESHCC_HOME: join(h.dir, 'a-file', 'home') },
    })
    const home = JSON.parse(bad.stdout.toString()).checks.find(
      (c: { name: string }) => c.name === 'MESHCC_HOME',
    )
    assert.equal(home.status, 'fail')
    assert.equal(bad.code, 1)
  })
})
