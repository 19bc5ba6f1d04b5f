/**
 * `meshcc join` on a fresh machine (real CLI and daemon processes, loopback TCP, mDNS off):
 * a personal organisation is created, the detached daemon hosts the mesh, `meshcc peers
 * --json` shows this node alone, compiles keep working (cache hit), a joined daemon does not
 * idle out, and the mesh comes back when a compile restarts a stopped daemon. Needs the build.
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { cpus } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import { type JoinedNode, joinedNode, LOOPBACK as LOOPBACK_ARGS } from '../helpers/joined-node.ts'
import { daemonPid, isAlive, repoRoot } from '../helpers/meshcc-home.ts'

describe('meshcc join on a fresh MESHCC_HOME', () => {
  let a: JoinedNode
  before(async () => {
    assert.ok(existsSync(join(repoRoot, 'dist', 'daemon', 'main.js')), 'run `npm run build` first')
    // A short idle timeout: a joined daemon must outlive it.
    a = await joinedNode({ env: { MESHCC_IDLE_TIMEOUT: '1s' } })
    await writeFile(join(a.h.dir, 'a.c'), 'int a(void) { return 42; }\n')
  })
  after(() => a?.h.cleanup())

  it('creates a personal organisation and a running daemon that hosts the mesh', async () => {
    assert.equal(a.join.created, 'org')
    assert.match(a.org, /^personal-/)
    assert.match(a.peerId, /^12D3KooW/)
    assert.ok(existsSync(join(a.h.home, 'org', 'org.key')))
    assert.ok(existsSync(join(a.h.home, 'identity', 'node.cert')))
    const settings = readFileSync(join(a.h.home, 'mesh.toml'), 'utf8')
    assert.match(settings, /joined = true/)
    assert.match(settings, /mdns = false/)
    // Port 0 was replaced by the port obtained, so a restart listens where members saw it.
    assert.match(settings, /\/ip4\/127\.0\.0\.1\/tcp\/[1-9]\d*"/)
    const pid = await daemonPid(a.h.home)
    assert.ok(pid !== undefined && isAlive(pid))
    assert.ok(a.join.addrs.some((x) => x.startsWith('/ip4/127.0.0.1/tcp/') && x.endsWith(a.peerId)))
  })

  it('peers --json shows { self, peers: [] } with real machine figures', async () => {
    const s = await a.peers()
    assert.deepEqual(Object.keys(s).sort(), ['peers', 'self'])
    assert.deepEqual(s.peers, [])
    assert.equal(s.self.peerId, a.peerId)
    assert.equal(s.self.org, a.org)
    assert.equal(s.self.platform, process.platform)
    assert.equal(s.self.cores, cpus().length)
    assert.equal(s.self.freeSlots, cpus().length)
    assert.deepEqual([...s.self.roles].sort(), ['admin', 'builder', 'client'])
  })

  it('the human form of peers prints a table', async () => {
    const r = await a.cli(['peers', '--once'])
    assert.equal(r.code, 0, r.stderr.toString())
    const text = r.stdout.toString()
    assert.match(text, new RegExp(`^\\* .*${process.platform}/${process.arch}`, 'm'))
    assert.match(text, /no other members yet/)
  })

  it('compiles still work on a joined node (second one a cache hit)', async () => {
    for (let i = 0; i < 2; i++) {
      const c = await a.cli(['gcc', '-c', 'a.c', '-o', 'a.o'])
      assert.equal(c.code, 0, c.stderr.toString())
    }
    const s = JSON.parse((await a.cli(['stats', '--json'])).stdout.toString())
    assert.equal(s.cache_hits, 1)
    assert.equal(s.cache_misses, 1)
    assert.equal(s.local_fallbacks, 0)
  })

  it('a joined daemon does not idle out', async () => {
    const pid = await daemonPid(a.h.home)
    await sleep(3_000) // idle timeout 1 s, checked every second
    assert.ok(pid !== undefined && isAlive(pid), 'the joined daemon exited on idle')
  })

  it('`join` again is idempotent: same peer id, certificate kept, mesh restarted', async () => {
    const r = await a.cli(['join', '--json'])
    assert.equal(r.code, 0, r.stderr.toString())
    const j = JSON.parse(r.stdout.toString())
    assert.equal(j.peerId, a.peerId)
    assert.equal(j.created, false)
    // The pinned port is kept across the restart.
    assert.deepEqual(j.addrs, a.join.addrs)
  })

  it('after `daemon stop`, a compile starts the daemon and with it the mesh', async () => {
    const old = await daemonPid(a.h.home)
    const stop = await a.cli(['daemon', 'stop'])
    assert.equal(stop.code, 0, stop.stderr.toString())
    assert.ok(old !== undefined && !isAlive(old))
    const c = await a.cli(['gcc', '-c', 'a.c', '-o', 'a.o'])
    assert.equal(c.code, 0, c.stderr.toString())
    const s = await a.waitPeers((x) => x.self.peerId === a.peerId, 15_000)
    assert.deepEqual(s.self.addrs, a.join.addrs)
  })
})

describe('meshcc peers on a node that has not joined', () => {
  it('is a typed error with the `meshcc join` hint', async () => {
    const { makeHome, meshccBin, runCommand } = await import('../helpers/meshcc-home.ts')
    const h = await makeHome('meshcc-nj-')
    try {
      const start = await runCommand(meshccBin, ['daemon', 'start'], { cwd: h.dir, env: h.env })
      assert.equal(start.code, 0, start.stderr.toString())
      const r = await runCommand(meshccBin, ['peers', '--json'], { cwd: h.dir, env: h.env })
      assert.equal(r.code, 1)
      const e = JSON.parse(r.stdout.toString())
      assert.equal(e.code, 'ERR_MESHCC_DAEMON_COMMAND')
      assert.match(e.message, /not joined/)
      assert.match(e.hint, /meshcc join/)
    } finally {
      await h.cleanup()
    }
  })
})

describe('meshcc join --foreground', () => {
  it('runs the daemon attached, logging on stderr, until SIGTERM', async () => {
    const { spawn } = await import('node:child_process')
    const { makeHome, meshccBin, runCommand, waitFor } = await import('../helpers/meshcc-home.ts')
    const h = await makeHome('meshcc-fg-')
    const child = spawn(meshccBin, ['join', '--foreground', ...LOOPBACK_ARGS], {
      cwd: h.dir,
      env: h.env,
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
    try {
      await waitFor(() => stderr.includes('"mesh started"'), 20_000)
      assert.match(stderr, /joined organisation personal-/)
      const r = await runCommand(meshccBin, ['peers', '--json'], { cwd: h.dir, env: h.env })
      assert.equal(r.code, 0, r.stderr.toString())
      assert.deepEqual(JSON.parse(r.stdout.toString()).peers, [])
      child.kill('SIGTERM')
      assert.equal(await exited, 0)
      assert.match(stderr, /"mesh stopped"/)
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
      await h.cleanup()
    }
  })
})
