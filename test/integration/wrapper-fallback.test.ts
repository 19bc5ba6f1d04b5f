/**
 * Whatever goes wrong on meshcc's side, the real compiler runs locally with its exact output and
 * exit code, and the reason is appended to $MESHCC_HOME/run/fallbacks.log: Node missing (the
 * daemon cannot start), the daemon killed in the middle of a request, a daemon that answers
 * garbage. An EXEC_LOCAL answer also runs the compiler locally, without a fallback entry.
 */
import assert from 'node:assert/strict'
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
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
