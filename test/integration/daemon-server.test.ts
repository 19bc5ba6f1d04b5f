/**
 * The daemon's socket server in-process, with stand-in compile handlers: one daemon per home,
 * malformed requests close only their own connection, client disconnects abort the request,
 * graceful stop drains then aborts, control commands, permissions, the loop-guard variable and
 * the idle timeout.
 */
import assert from 'node:assert/strict'
import { existsSync, statSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { connect } from 'node:net'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { CompileHandler, CompileReply, CompileRequest } from '../../src/compile/types.ts'
import { nodePaths } from '../../src/config/paths.ts'
import { type DaemonInit, type RunningDaemon, startDaemon } from '../../src/daemon/daemon.ts'
import { silentLogger } from '../../src/daemon/logger.ts'
import { DaemonAlreadyRunningError } from '../../src/errors.ts'
import {
  decodeCompileReply,
  encodeCompileRequest,
  encodeControl,
  FRAME_KEEPALIVE,
  KEEPALIVE_FRAME,
} from '../../src/protocol/local-wire.ts'
import type { StatsSnapshot } from '../../src/stats/types.ts'

const homes: string[] = []
const daemons: RunningDaemon[] = []
after(async () => {
  await Promise.all(daemons.map((d) => d.stop()))
  await Promise.all(homes.map((h) => rm(h, { recursive: true, force: true })))
})

const fakeStats = { cache_hits: 7 } as unknown as StatsSnapshot
const noneCleared = () => ({ entries: 0, bytes: 0 })

async function start(handler: CompileHandler, extra: Partial<DaemonInit> = {}) {
  const home = await mkdtemp('/tmp/meshcc-d-')
  homes.push(home)
  const paths = nodePaths({ MESHCC_HOME: home })
  const daemon = await startDaemon({
    paths,
    handler,
    log: silentLogger,
    control: {
      stats: () => fakeStats,
      zeroStats: () => ({ ...fakeStats, cache_hits: 0 }),
      clearCache: () => ({ entries: 3, bytes: 4096 }),
    },
    ...extra,
  })
  daemons.push(daemon)
  return { paths, daemon }
}

function request(overrides: Partial<CompileRequest> = {}): CompileRequest {
  return {
    cwd: '/tmp',
    compiler: '/usr/bin/gcc',
    args: ['-c', 'a.c'],
    env: { PATH: '/usr/bin' },
    stdoutIsTty: false,
    stderrIsTty: false,
    umask: 0o22,
    pid: process.pid,
    ...overrides,
  }
}

/** Sends raw bytes; resolves with everything the daemon sent back before closing. */
function exchange(socket: string, bytes: Buffer, { closeAfterMs }: { closeAfterMs?: number } = {}) {
  return new Promise<Buffer>((resolve, reject) => {
    const s = connect(socket)
    const chunks: Buffer[] = []
    s.on('connect', () => {
      s.write(bytes)
      if (closeAfterMs !== undefined) setTimeout(() => s.destroy(), closeAfterMs)
    })
    s.on('data', (c) => chunks.push(c))
    s.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? undefined : reject(e)))
    s.on('close', () => resolve(Buffer.concat(chunks)))
  })
}

const done = (text: string): CompileHandler => ({
  handle: async () => ({
    kind: 'done',
    exitCode: 3,
    stdout: Buffer.from(text),
    stderr: Buffer.from('e'),
  }),
})

describe('daemon socket server', () => {
  it('serves a compile request and sets the loop guard for the compiler', async () => {
    let seen: CompileRequest | undefined
    const { paths } = await start({
      handle: async (req) => {
        seen = req
        return { kind: 'done', exitCode: 3, stdout: Buffer.from('out'), stderr: Buffer.from('err') }
      },
    })
    const reply = decodeCompileReply(await exchange(paths.socket, encodeCompileRequest(request())))
    assert.deepEqual(reply, {
      kind: 'done',
      exitCode: 3,
      stdout: Buffer.from('out'),
      stderr: Buffer.from('err'),
    })
    assert.equal(seen?.env['_MESHCC_SAFEGUARD'], '1')
    assert.deepEqual(seen?.args, ['-c', 'a.c'])
    assert.equal(statSync(paths.socket).mode & 0o777, 0o600)
    assert.equal(statSync(join(paths.home, 'run')).mode & 0o777, 0o700)
    assert.equal(Number((await readFile(paths.pidFile, 'utf8')).trim()), process.pid)
  })

  it('refuses a second daemon for the same home, allows one after a stop', async () => {
    const { paths, daemon } = await start(done('a'))
    const again = startDaemon({
      paths,
      handler: done('b'),
      log: silentLogger,
      control: { stats: () => fakeStats, zeroStats: () => fakeStats, clearCache: noneCleared },
    })
    await assert.rejects(again, DaemonAlreadyRunningError)
    // The first still serves.
    const r = decodeCompileReply(await exchange(paths.socket, encodeCompileRequest(request())))
    assert.equal(r.kind === 'done' && Buffer.from(r.stdout).toString(), 'a')
    await daemon.stop()
    assert.equal(existsSync(paths.socket), false)
    assert.equal(existsSync(paths.pidFile), false)
    const second = await startDaemon({
      paths,
      handler: done('b'),
      log: silentLogger,
      control: { stats: () => fakeStats, zeroStats: () => fakeStats, clearCache: noneCleared },
    })
    daemons.push(second)
    const r2 = decodeCompileReply(await exchange(paths.socket, encodeCompileRequest(request())))
    assert.equal(r2.kind === 'done' && Buffer.from(r2.stdout).toString(), 'b')
  })

  it('closes a malformed connection and keeps serving the others', async () => {
    const { paths } = await start(done('fine'))
    const huge = Buffer.alloc(8)
    huge.write('MCC1', 0, 'latin1')
    huge.writeUInt32LE(0xfffffff0, 4)
    const good = encodeCompileRequest(request())
    const badBody = Buffer.from(good)
    badBody.writeUInt32LE(0xffffff, 8 + 12) // cwd length far past the end
    const extra = Buffer.concat([good, Buffer.from('trailing')])
    for (const bytes of [Buffer.from('GET / HTTP/1.0\r\n\r\n'), huge, badBody, extra]) {
      assert.equal((await exchange(paths.socket, bytes)).length, 0, 'closed without a reply')
    }
    // Truncated: the client gives up half way.
    assert.equal(
      (await exchange(paths.socket, good.subarray(0, 20), { closeAfterMs: 50 })).length,
      0,
    )
    const r = decodeCompileReply(await exchange(paths.socket, good))
    assert.equal(r.kind, 'done')
  })

  it('a handler error becomes EXEC_LOCAL with the error code as reason', async () => {
    const { paths } = await start({
      handle: async () => {
        throw Object.assign(new Error('disk on fire'), { code: 'ERR_MESHCC_CACHE_UNAVAILABLE' })
      },
    })
    const r = decodeCompileReply(await exchange(paths.socket, encodeCompileRequest(request())))
    assert.deepEqual(r, { kind: 'exec-local', reason: 'ERR_MESHCC_CACHE_UNAVAILABLE' })
  })

  it('aborts the request when its client disconnects', async () => {
    const aborted = Promise.withResolvers<unknown>()
    const { paths } = await start({
      handle: (_req, { signal }) =>
        new Promise<CompileReply>((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            aborted.resolve(signal.reason)
            reject(signal.reason)
          })
        }),
    })
    await exchange(paths.socket, encodeCompileRequest(request()), { closeAfterMs: 100 })
    const reason = await Promise.race([aborted.promise, sleep(5000, 'timeout')])
    assert.notEqual(reason, 'timeout')
  })

  it('a stop lets running compiles finish, then aborts the rest', async () => {
    const { paths, daemon } = await start(
      {
        handle: (req, { signal }) =>
          new Promise<CompileReply>((resolve, reject) => {
            const ms = Number(req.args[0])
            const t = setTimeout(
              () =>
                resolve({
                  kind: 'done',
                  exitCode: 0,
                  stdout: Buffer.from(`${ms}`),
                  stderr: Buffer.alloc(0),
                }),
              ms,
            )
            signal.addEventListener('abort', () => {
              clearTimeout(t)
              reject(signal.reason)
            })
          }),
      },
      { drainMs: 500 },
    )
    const quick = exchange(paths.socket, encodeCompileRequest(request({ args: ['200'] })))
    const slow = exchange(paths.socket, encodeCompileRequest(request({ args: ['60000'] })))
    await sleep(50)
    const t0 = Date.now()
    await daemon.stop()
    assert.ok(Date.now() - t0 < 3000)
    const q = decodeCompileReply(await quick)
    assert.equal(q.kind === 'done' && Buffer.from(q.stdout).toString(), '200')
    // The aborted one is told to compile locally (or its connection closes): never a fake result.
    let s = await slow
    while (s.subarray(0, 5).equals(KEEPALIVE_FRAME)) s = s.subarray(5)
    if (s.length > 0) assert.equal(decodeCompileReply(s).kind, 'exec-local')
    assert.equal(existsSync(paths.socket), false)
  })

  it('sends keepalives while a compile runs, paced by the client timeout', async () => {
    const slow = (ms: number): CompileHandler => ({
      handle: async () => {
        await sleep(ms)
        return { kind: 'done', exitCode: 0, stdout: Buffer.from('late'), stderr: Buffer.alloc(0) }
      },
    })
    /** How many keepalive frames lead the raw reply. */
    const leadingBeats = (raw: Buffer) => {
      let n = 0
      while (raw.subarray(n * 5, n * 5 + 5).equals(KEEPALIVE_FRAME)) n++
      return n
    }
    const { paths } = await start(slow(450), { keepaliveMs: 50 })
    const raw = await exchange(paths.socket, encodeCompileRequest(request()))
    const beats = leadingBeats(raw)
    assert.ok(beats >= 4 && beats <= 9, `${beats} keepalives in 450 ms at 50 ms`)
    const reply = decodeCompileReply(raw)
    assert.equal(reply.kind === 'done' && Buffer.from(reply.stdout).toString(), 'late')
    // Default pace (2 s), but the client said it gives up after 0.4 s: a beat every 100 ms.
    const b = await start(slow(450))
    const paced = await exchange(
      b.paths.socket,
      encodeCompileRequest(request({ env: { PATH: '/usr/bin', MESHCC_CLIENT_TIMEOUT: '0.4' } })),
    )
    const n = leadingBeats(paced)
    assert.ok(n >= 2 && n <= 5, `${n} keepalives in 450 ms at 100 ms`)
    // At the default pace a compile shorter than 2 s (every cache hit) gets no keepalive.
    const quiet = await exchange(b.paths.socket, encodeCompileRequest(request()))
    assert.notEqual(quiet[0], FRAME_KEEPALIVE)
    assert.equal(decodeCompileReply(quiet).kind, 'done')
  })

  it('answers control commands', async () => {
    const { paths, daemon } = await start(done('x'))
    const ask = async (cmd: unknown) => {
      const raw = await exchange(paths.socket, encodeControl(cmd, { request: true }))
      assert.equal(raw.readUInt32LE(0), raw.length - 4)
      return JSON.parse(raw.subarray(4).toString())
    }
    const st = await ask({ cmd: 'status' })
    assert.equal(st.ok, true)
    assert.equal(st.status.pid, process.pid)
    assert.equal(st.status.socket, paths.socket)
    assert.equal((await ask({ cmd: 'stats' })).stats.cache_hits, 7)
    assert.equal((await ask({ cmd: 'stats-zero' })).stats.cache_hits, 0)
    assert.deepEqual((await ask({ cmd: 'cache-clear' })).removed, { entries: 3, bytes: 4096 })
    const bad = await ask({ cmd: 'format-disk' })
    assert.equal(bad.ok, false)
    assert.equal(bad.error.code, 'ERR_MESHCC_PROTOCOL')
    assert.equal((await ask({ cmd: 'stop' })).ok, true)
    await daemon.closed
    assert.equal(existsSync(paths.pidFile), false)
  })

  it('stops by itself after the idle timeout', async () => {
    const { paths, daemon } = await start(done('x'), { idleTimeoutMs: 300 })
    await exchange(paths.socket, encodeCompileRequest(request()))
    const r = await Promise.race([daemon.closed.then(() => 'closed'), sleep(5000, 'timeout')])
    assert.equal(r, 'closed')
  })
})
