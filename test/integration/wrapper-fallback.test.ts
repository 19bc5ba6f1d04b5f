/**
 * Whatever goes wrong on meshcc's side, the real compiler runs locally with its exact output and
 * exit code, and the reason is appended to $MESHCC_HOME/run/fallbacks.log: Node missing (the
 * daemon cannot start), the daemon killed in the middle of a request, a daemon that answers
 * garbage, a daemon that stops answering (MESHCC_CLIENT_TIMEOUT) or never accepts. Keepalives
 * keep a slow but healthy daemon's answer. An EXEC_LOCAL answer also runs the compiler locally,
 * without a fallback entry.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises'
import { connect, createServer, type Socket } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { FRAME_EXIT, FRAME_STDERR, KEEPALIVE_FRAME } from '../../src/protocol/local-wire.ts'
import { SLOW_MS } from '../helpers/fake-daemon.ts'
import {
  daemonPid,
  isAlive,
  makeHome,
  meshccBin,
  runCommand,
  startFakeDaemon,
  type TestHome,
  waitFor,
} from '../helpers/meshcc-home.ts'

const BAD_SOURCE = 'int f(void) { return undeclared_thing; }\n'

async function fallbackReasons(home: string): Promise<string[]> {
  const text = await readFile(join(home, 'run', 'fallbacks.log'), 'utf8').catch(() => '')
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      assert.match(line, /^\d+ \S+$/)
      return line.split(' ')[1]!
    })
}

describe('native client: local fallback', () => {
  let h: TestHome
  let plain: Awaited<ReturnType<typeof runCommand>>
  const args = ['-c', 'bad.c', '-o', 'bad.o']
  before(async () => {
    h = await makeHome()
    await writeFile(join(h.dir, 'bad.c'), BAD_SOURCE)
    await writeFile(join(h.dir, 'ok.c'), 'int g(void) { return 1; }\n')
    plain = await runCommand('gcc', args, { cwd: h.dir, env: h.env })
    assert.equal(plain.code, 1)
    assert.match(plain.stderr.toString(), /undeclared_thing/)
  })
  after(() => h.cleanup())

  it("Node missing: the compile error is the compiler's, byte for byte", async () => {
    const env = { ...h.env, MESHCC_NODE: join(h.dir, 'no-such-node') }
    const r = await runCommand(meshccBin, ['gcc', ...args], { cwd: h.dir, env })
    assert.equal(r.code, plain.code)
    assert.deepEqual(r.stderr, plain.stderr)
    assert.deepEqual(r.stdout, plain.stdout)
    const ok = await runCommand(meshccBin, ['gcc', '-c', 'ok.c', '-o', 'ok.o'], { cwd: h.dir, env })
    assert.equal(ok.code, 0)
    assert.deepEqual(ok.stderr, Buffer.alloc(0))
    assert.deepEqual(await fallbackReasons(h.home), ['node-missing', 'node-missing'])
  })

  it('Node missing for a management command: one clear line, status 1', async () => {
    const r = await runCommand(meshccBin, ['stats'], {
      cwd: h.dir,
      env: { ...h.env, MESHCC_NODE: join(h.dir, 'no-such-node') },
    })
    assert.equal(r.code, 1)
    assert.match(r.stderr.toString(), /^meshcc: Node 24 not found at MESHCC_NODE=\S+\n$/)
    // A copy of the client outside any checkout names where it looked and what to run.
    const lone = join(h.dir, 'lone', 'bin')
    await mkdir(lone, { recursive: true })
    await copyFile(meshccBin, join(lone, 'meshcc'))
    const r2 = await runCommand(join(lone, 'meshcc'), ['daemon', 'status'], {
      cwd: h.dir,
      env: h.env,
    })
    assert.equal(r2.code, 1)
    const lines = r2.stderr.toString().split('\n').filter(Boolean)
    assert.equal(lines.length, 1)
    assert.match(
      lines[0]!,
      /Node 24 not found \(looked for .*\/lone\/node_modules\/node\/bin\/node\); run 'npm ci' in /,
    )
  })

  it('EXEC_LOCAL: the client runs the compiler itself, exact stderr and status', async () => {
    const e = await makeHome()
    try {
      await writeFile(join(e.dir, 'bad.c'), BAD_SOURCE)
      await startFakeDaemon(e.env, 'exec-local')
      const r = await runCommand(meshccBin, ['gcc', ...args], { cwd: e.dir, env: e.env })
      assert.equal(r.code, 1)
      assert.deepEqual(r.stderr, plain.stderr)
      assert.deepEqual(await fallbackReasons(e.home), [], 'an EXEC_LOCAL answer is not a fallback')
    } finally {
      await e.cleanup()
    }
  })

  it('daemon killed during the request: the compile still happens locally', async () => {
    const k = await makeHome()
    try {
      await writeFile(join(k.dir, 'bad.c'), BAD_SOURCE)
      const pid = await startFakeDaemon(k.env, 'hang')
      const pending = runCommand(meshccBin, ['gcc', ...args], {
        cwd: k.dir,
        env: { ...k.env, MESHCC_NODE: '/nonexistent' },
      })
      // Wait until the request is in the daemon, then kill it hard.
      await waitFor(async () => {
        const s = await runCommand(meshccBin, ['daemon', 'status', '--json'], {
          cwd: k.dir,
          env: k.env,
        })
        return s.code === 0 && JSON.parse(s.stdout.toString()).activeRequests === 1
      })
      process.kill(pid, 'SIGKILL')
      const r = await pending
      assert.equal(r.code, 1)
      assert.deepEqual(r.stderr, plain.stderr)
      assert.deepEqual(await fallbackReasons(k.home), ['daemon-connection-broken'])
      await waitFor(() => !isAlive(pid))
    } finally {
      await k.cleanup()
    }
  })

  it('a daemon that answers garbage: local compile, reason logged', async () => {
    const g = await makeHome()
    const server = createServer((s) => {
      s.once('data', () => s.end(Buffer.from([0x09, 1, 0, 0, 0, 0x41])))
    })
    try {
      await writeFile(join(g.dir, 'bad.c'), BAD_SOURCE)
      await mkdir(join(g.home, 'run'), { recursive: true })
      await new Promise<void>((r) => server.listen(join(g.home, 'run', 'daemon.sock'), r))
      const r = await runCommand(meshccBin, ['gcc', ...args], { cwd: g.dir, env: g.env })
      assert.equal(r.code, 1)
      assert.deepEqual(r.stderr, plain.stderr)
      assert.deepEqual(await fallbackReasons(g.home), ['daemon-protocol-error'])
      assert.equal(await daemonPid(g.home), undefined)
    } finally {
      server.close()
      await g.cleanup()
    }
  })
})

describe('native client: a daemon that cannot start', () => {
  it('the first compile waits for it once, later ones fall back at once', async () => {
    const b = await makeHome()
    try {
      await mkdir(b.home, { recursive: true })
      // A configuration the real daemon refuses: it logs why and exits 1.
      await writeFile(join(b.home, 'config.toml'), 'cache_size = "plenty"\n')
      await writeFile(join(b.dir, 'ok.c'), 'int g(void) { return 1; }\n')
      const first = await runCommand(meshccBin, ['gcc', '-c', 'ok.c', '-o', 'a.o'], {
        cwd: b.dir,
        env: b.env,
      })
      assert.equal(first.code, 0)
      assert.deepEqual(first.stderr, Buffer.alloc(0))
      const second = await runCommand(meshccBin, ['gcc', '-c', 'ok.c', '-o', 'b.o'], {
        cwd: b.dir,
        env: b.env,
      })
      assert.equal(second.code, 0)
      assert.ok(second.ms < 1000, `second compile took ${second.ms} ms`)
      assert.deepEqual(await readFile(join(b.dir, 'a.o')), await readFile(join(b.dir, 'b.o')))
      assert.deepEqual(await fallbackReasons(b.home), [
        'daemon-start-timeout',
        'daemon-start-failed-recently',
      ])
      assert.match(await readFile(join(b.home, 'logs', 'daemon.log'), 'utf8'), /ERR_MESHCC_CONFIG/)
    } finally {
      await b.cleanup()
    }
  })
})

describe('native client: a daemon that stops answering', () => {
  const TIMEOUT_S = 0.5
  let plain: Awaited<ReturnType<typeof runCommand>>
  let t: TestHome
  before(async () => {
    t = await makeHome()
    await writeFile(join(t.dir, 'bad.c'), BAD_SOURCE)
    plain = await runCommand('gcc', ['-c', 'bad.c', '-o', 'bad.o'], { cwd: t.dir, env: t.env })
  })
  after(() => t.cleanup())

  /** A scratch home with a listener of our own on its daemon socket. */
  async function homeWithListener(onConnection: (s: Socket) => void) {
    const h = await makeHome()
    await writeFile(join(h.dir, 'bad.c'), BAD_SOURCE)
    await mkdir(join(h.home, 'run'), { recursive: true })
    const sockets = new Set<Socket>()
    const server = createServer((s) => {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
      s.on('error', () => {})
      onConnection(s)
    })
    await new Promise<void>((r) => server.listen(join(h.home, 'run', 'daemon.sock'), r))
    const env = { ...h.env, MESHCC_CLIENT_TIMEOUT: String(TIMEOUT_S) }
    const compile = () =>
      runCommand(meshccBin, ['gcc', '-c', 'bad.c', '-o', 'bad.o'], { cwd: h.dir, env })
    const close = async () => {
      for (const s of sockets) s.destroy()
      server.close()
      await h.cleanup()
    }
    return { h, sockets, compile, close }
  }

  it('accepts and never answers: the compile runs locally once the timeout passes', async () => {
    let connections = 0
    const l = await homeWithListener((s) => {
      connections++
      s.resume() // read (and drop) the request, so that the client's hang-up is seen
    })
    try {
      const r = await l.compile()
      assert.equal(r.code, plain.code)
      assert.deepEqual(r.stderr, plain.stderr)
      assert.ok(r.ms >= TIMEOUT_S * 1000 - 50, `gave up after ${r.ms} ms`)
      assert.ok(r.ms < TIMEOUT_S * 1000 + 2500, `gave up after ${r.ms} ms`)
      assert.deepEqual(await fallbackReasons(l.h.home), ['daemon-timeout'])
      // The client hung up (the daemon's cue to abort the request).
      await waitFor(() => l.sockets.size === 0, 2000)
      // The next compiles leave the hung daemon alone instead of waiting on it again.
      const again = await l.compile()
      assert.equal(again.code, plain.code)
      assert.deepEqual(again.stderr, plain.stderr)
      assert.ok(again.ms < TIMEOUT_S * 1000, `second compile took ${again.ms} ms`)
      assert.equal(connections, 1)
      assert.deepEqual(await fallbackReasons(l.h.home), ['daemon-timeout', 'daemon-hung-recently'])
      // `meshcc doctor` tells what happened. `stats` and `cache clear` leave the files of the
      // daemon (which still owns them: it is hung, not gone) alone and say so.
      const run = (args: string[]) => runCommand(meshccBin, args, { cwd: l.h.dir, env: l.h.env })
      const [d, st, cc] = await Promise.all([
        run(['doctor', '--json']),
        run(['stats', '--json']),
        run(['cache', 'clear']),
      ])
      for (const r of [st, cc]) {
        assert.equal(r.code, 1)
        assert.match(r.stdout.toString() + r.stderr.toString(), /ERR_MESHCC_DAEMON_UNAVAILABLE/)
      }
      assert.match(cc.stderr.toString(), /hint: `meshcc daemon stop` ends it/)
      assert.equal((await fallbackReasons(l.h.home)).length, 2, 'the log was not taken over')
      const daemonChecks = JSON.parse(d.stdout.toString()).checks.filter(
        (c: { name: string }) => c.name === 'daemon',
      )
      assert.deepEqual(
        daemonChecks.map((c: { status: string }) => c.status),
        ['fail', 'warn'],
      )
      assert.match(daemonChecks[1].detail, /gave up waiting/)
      assert.equal(d.code, 1)
    } finally {
      await l.close()
    }
  })

  it('keepalives for longer than the timeout, then the result: the result is used', async () => {
    const BUSY_MS = 1500
    const l = await homeWithListener((s) => {
      s.once('data', () => {
        const beat = setInterval(() => s.write(KEEPALIVE_FRAME), 100)
        setTimeout(() => {
          clearInterval(beat)
          const text = Buffer.from('from the daemon\n')
          const head = Buffer.from([FRAME_STDERR, 0, 0, 0, 0])
          head.writeUInt32LE(text.length, 1)
          s.end(Buffer.concat([head, text, Buffer.from([FRAME_EXIT, 4, 0, 0, 0, 5, 0, 0, 0])]))
        }, BUSY_MS)
      })
    })
    try {
      const r = await l.compile()
      assert.equal(r.stderr.toString(), 'from the daemon\n')
      assert.equal(r.code, 5)
      assert.ok(r.ms >= BUSY_MS, `answered after ${r.ms} ms`)
      assert.deepEqual(await fallbackReasons(l.h.home), [])
    } finally {
      await l.close()
    }
  })

  it('the daemon paces its keepalives to a short client timeout', async () => {
    const s = await makeHome()
    try {
      await writeFile(join(s.dir, 'bad.c'), BAD_SOURCE)
      await startFakeDaemon(s.env, 'slow')
      const r = await runCommand(meshccBin, ['gcc', '-c', 'bad.c', '-o', 'bad.o'], {
        cwd: s.dir,
        env: { ...s.env, MESHCC_CLIENT_TIMEOUT: String(TIMEOUT_S) },
      })
      assert.equal(r.code, plain.code)
      assert.deepEqual(r.stderr, plain.stderr)
      assert.ok(r.ms >= SLOW_MS, `answered after ${r.ms} ms: not by the slow daemon`)
      assert.deepEqual(await fallbackReasons(s.home), [])
    } finally {
      await s.cleanup()
    }
  })

  it('a daemon that never accepts: the connect gives up too', async () => {
    const h = await makeHome()
    // A listener with a backlog of 0 that never calls accept(): one queued connection fills it.
    const src = join(h.dir, 'stuck.c')
    await writeFile(
      src,
      `#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
int main(int argc, char **argv) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  strncpy(a.sun_path, argv[1], sizeof a.sun_path - 1);
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 0)) return 1;
  if (write(1, "ready\\n", 6) != 6) return 1;
  sleep(60);
  return 0;
}
`,
    )
    const built = await runCommand('gcc', ['-o', 'stuck', 'stuck.c'], { cwd: h.dir, env: h.env })
    assert.equal(built.code, 0, built.stderr.toString())
    await mkdir(join(h.home, 'run'), { recursive: true })
    const sock = join(h.home, 'run', 'daemon.sock')
    const stuck = spawn(join(h.dir, 'stuck'), [sock], { stdio: ['ignore', 'pipe', 'ignore'] })
    const filler: Socket[] = []
    try {
      await once(stuck.stdout, 'data')
      const c = connect(sock)
      filler.push(c)
      await once(c, 'connect')
      await writeFile(join(h.dir, 'bad.c'), BAD_SOURCE)
      const r = await runCommand(meshccBin, ['gcc', '-c', 'bad.c', '-o', 'bad.o'], {
        cwd: h.dir,
        env: { ...h.env, MESHCC_CLIENT_TIMEOUT: String(TIMEOUT_S) },
      })
      assert.equal(r.code, plain.code)
      assert.deepEqual(r.stderr, plain.stderr)
      assert.ok(r.ms < TIMEOUT_S * 1000 + 2500, `gave up after ${r.ms} ms`)
      assert.deepEqual(await fallbackReasons(h.home), ['daemon-connect-timeout'])
    } finally {
      for (const c of filler) c.destroy()
      stuck.kill()
      await h.cleanup()
    }
  })
})
