/**
 * The daemon around a miss answered before its cache write (src/compile/pending-stores.ts),
 * with a real pipeline and disk store whose writes the test holds back: the wrapper's reply
 * comes at once; `stats` answers only once the write is done (the flush barrier, wired as
 * `runDaemon` wires it); a graceful stop finishes the writes before it releases the home, so
 * the next daemon finds every entry.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createDiskCacheStore, type DiskCacheStore } from '../../src/cache/disk-store.ts'
import type { CacheStore } from '../../src/cache/types.ts'
import { createLocalCompileHandler } from '../../src/compile/pipeline.ts'
import type { CompileRequest } from '../../src/compile/types.ts'
import { DEFAULT_CACHE_BYTES } from '../../src/config/config.ts'
import { type NodePaths, nodePaths } from '../../src/config/paths.ts'
import { type RunningDaemon, startDaemon } from '../../src/daemon/daemon.ts'
import { silentLogger } from '../../src/daemon/logger.ts'
import {
  decodeCompileReply,
  encodeCompileRequest,
  encodeControl,
} from '../../src/protocol/local-wire.ts'
import { StatsRecorder } from '../../src/stats/recorder.ts'

/** Sends one request; resolves with everything the daemon sent back before closing. */
function exchange(socket: string, bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = connect(socket)
    const chunks: Buffer[] = []
    s.on('connect', () => s.write(bytes))
    s.on('data', (c) => chunks.push(c))
    s.on('error', reject)
    s.on('close', () => resolve(Buffer.concat(chunks)))
  })
}

/** Whether `p` settles within `ms`. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  return Promise.race([p.then(() => true), sleep(ms).then(() => false)])
}

describe('daemon: cache writes after the reply', () => {
  let home: string
  let paths: NodePaths
  let disk: DiskCacheStore
  let daemon: RunningDaemon | undefined
  let gate: Promise<void> = Promise.resolve()
  const hold = () => {
    const { promise, resolve } = Promise.withResolvers<void>()
    gate = promise
    return resolve
  }

  before(async () => {
    home = await mkdtemp('/tmp/meshcc-bgs-')
    paths = nodePaths({ MESHCC_HOME: home })
    disk = createDiskCacheStore({ dir: paths.cacheDir, maxBytes: 1 << 30 })
    await disk.start()
    const slow: CacheStore = {
      start: (o) => disk.start(o),
      stop: (o) => disk.stop(o),
      getResult: (k) => disk.getResult(k),
      putResult: async (k, r, o) => {
        await gate
        await disk.putResult(k, r, o)
      },
      getManifest: (k) => disk.getManifest(k),
      putManifest: (k, d, o) => disk.putManifest(k, d, o),
      updateManifest: (k, u, o) => disk.updateManifest(k, u, o),
      stats: () => disk.stats(),
      clear: (o) => disk.clear(o),
    }
    const stats = new StatsRecorder({ file: paths.statsFile })
    const handler = createLocalCompileHandler({
      store: slow,
      stats,
      log: silentLogger,
      config: {
        cacheMaxBytes: DEFAULT_CACHE_BYTES,
        logLevel: 'warn',
        idleTimeoutMs: 0,
        warnings: [],
      },
      tempDir: join(home, 'tmp'),
    })
    daemon = await startDaemon({
      paths,
      handler,
      log: silentLogger,
      control: {
        stats: () => stats.snapshot(disk.stats()),
        zeroStats: () => stats.snapshot(disk.stats()),
        clearCache: () => ({ entries: 0, bytes: 0 }),
        settle: () => handler.flushStores({ signal: AbortSignal.timeout(5000) }).catch(() => {}),
      },
    })
    for (const name of ['a', 'b']) {
      await writeFile(join(home, `${name}.c`), `int ${name}(void) { return 1; }\n`)
    }
  })
  after(async () => {
    await daemon?.stop()
    await disk.stop()
    await rm(home, { recursive: true, force: true })
  })

  const compile = async (name: string) => {
    const request: CompileRequest = {
      cwd: home,
      compiler: '/usr/bin/gcc',
      args: ['-c', `${name}.c`, '-o', `${name}.o`],
      env: { PATH: '/usr/bin:/bin', LANG: 'C' },
      stdoutIsTty: false,
      stderrIsTty: false,
      umask: 0o022,
      pid: process.pid,
    }
    const reply = decodeCompileReply(await exchange(paths.socket, encodeCompileRequest(request)))
    assert.equal(reply.kind === 'done' && reply.exitCode, 0, JSON.stringify(reply))
  }
  const ask = async (cmd: string) => {
    const raw = await exchange(paths.socket, encodeControl({ cmd }, { request: true }))
    return JSON.parse(raw.subarray(4).toString())
  }

  it('answers the wrapper at once; stats wait for the write and count the entry', async () => {
    const release = hold()
    try {
      await compile('a') // would hang here if the reply waited for the held write
      assert.equal(disk.stats().entries, 0, 'the write is still held')
      const stats = ask('stats')
      assert.equal(await settlesWithin(stats, 100), false, 'stats wait for the write')
      release()
      assert.equal((await stats).stats.cache_entries, 1)
    } finally {
      release()
    }
  })

  it('a graceful stop finishes the writes before it releases the home', async () => {
    const release = hold()
    try {
      await compile('b')
      const stopped = daemon!.stop()
      assert.equal(await settlesWithin(stopped, 100), false, 'the stop waits for the write')
      release()
      await stopped
    } finally {
      release()
    }
    // What the next daemon's store finds on disk.
    const next = createDiskCacheStore({ dir: paths.cacheDir, maxBytes: 1 << 30 })
    await next.start()
    await next.indexed()
    assert.equal(next.stats().entries, 2)
    await next.stop()
  })
})
