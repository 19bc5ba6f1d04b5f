/**
 * A miss answers before its cache write (src/compile/pending-stores.ts): with a store whose
 * writes are held back by the test, the reply still arrives; an identical request arriving
 * meanwhile waits for the write and hits (never compiles again), in every cache mode; a
 * preprocessor hit in `both` mode writes its manifest after the reply too; the flush barrier
 * sees the entry; a failed write never touches the build.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setImmediate as nextTurn } from 'node:timers/promises'
import type { CacheStore } from '../../src/cache/types.ts'
import type { CompileReply } from '../../src/compile/types.ts'
import { COMPILERS, createFixture, type Fixture, plainCompile } from './pipeline-fixture.ts'

/** A store whose result writes wait until the test lets them go (or fail when it says so). */
function slowWrites() {
  let gate: Promise<void> = Promise.resolve()
  let failing = false
  const counts = { started: 0, written: 0, manifests: 0 }
  const wrap = (s: CacheStore): CacheStore => ({
    start: (o) => s.start(o),
    stop: (o) => s.stop(o),
    getResult: (k) => s.getResult(k),
    async putResult(key, result, options) {
      counts.started++
      await gate
      if (failing) throw new Error('disk full (test)')
      await s.putResult(key, result, options)
      counts.written++
    },
    getManifest: (k) => s.getManifest(k),
    putManifest: (k, d, o) => s.putManifest(k, d, o),
    async updateManifest(key, update, options) {
      counts.manifests++
      await gate
      await s.updateManifest(key, update, options)
    },
    stats: () => s.stats(),
    clear: (o) => s.clear(o),
  })
  return {
    wrap,
    counts,
    /** Holds every result and manifest write from now on until the returned function is called. */
    hold(): () => void {
      const { promise, resolve } = Promise.withResolvers<void>()
      gate = promise
      return () => {
        gate = Promise.resolve()
        resolve()
      }
    },
    fail(on: boolean) {
      failing = on
    },
  }
}

async function settledSoon(p: Promise<unknown>): Promise<boolean> {
  let done = false
  void p.then(() => (done = true))
  for (let i = 0; i < 5; i++) await nextTurn()
  return done
}

describe('pipeline: the reply before the cache write', () => {
  const slow = slowWrites()
  let fx: Fixture
  let cwd: string
  before(async () => {
    fx = await createFixture({ wrapStore: slow.wrap })
    cwd = join(fx.root, 'bg')
    fx.write({ 'bg/bg.h': '#define BG 3\n' })
  })
  after(() => fx.close())

  const ok = (reply: CompileReply) => {
    assert.equal(reply.kind === 'done' && reply.exitCode, 0, JSON.stringify(reply))
  }

  for (const mode of ['direct', 'preprocessor', 'both'] as const) {
    it(`${mode} mode: answered while the write is held; an identical request meanwhile hits`, async () => {
      const env = { MESHCC_CACHE_MODE: mode }
      fx.write({ [`bg/${mode}.c`]: `#include "bg.h"\nint ${mode}_v(void) { return BG; }\n` })
      const args = (o: string) => ['-c', `${mode}.c`, '-o', o]
      const c0 = fx.counters()
      const started = slow.counts.started
      const release = slow.hold()
      try {
        // (a) The reply does not wait for the write.
        ok(await fx.compile(cwd, COMPILERS.gcc, args('first.o'), { env }))
        assert.equal(fx.counters().cache_misses, c0.cache_misses + 1)
        assert.equal(fx.handler.pendingStores.size, 1, 'the write runs after the reply')
        for (let i = 0; i < 5 && slow.counts.started === started; i++) await nextTurn()
        assert.equal(slow.counts.started, started + 1, 'the write started after the reply')
        assert.equal(fx.counters().cache_entries, c0.cache_entries, 'not written yet')

        // (b) The same compile again, meanwhile: it waits for the write rather than compiling.
        const second = fx.compile(cwd, COMPILERS.gcc, args('second.o'), { env })
        const flushed = fx.handler.flushStores()
        assert.equal(await settledSoon(second), false, 'waits for the held write')
        assert.equal(await settledSoon(flushed), false, 'the barrier waits for it too')
        release()
        ok(await second)

        // (c) The barrier sees the entry.
        await flushed
        const c1 = fx.counters()
        assert.equal(c1.cache_entries, c0.cache_entries + 1)
        assert.equal(c1.local_compiles, c0.local_compiles + 1, 'compiled once')
        assert.equal(c1.cache_misses, c0.cache_misses + 1)
        assert.equal(c1.cache_hits, c0.cache_hits + 1, 'the second request hit')
        assert.equal(fx.handler.pendingStores.size, 0)
        assert.equal(fx.handler.inFlight.size, 0, 'the coalescing slot is released')
      } finally {
        release()
      }
      assert.equal(plainCompile(cwd, COMPILERS.gcc, args('plain.o')).exitCode, 0)
      const plain = readFileSync(join(cwd, 'plain.o'))
      assert.ok(readFileSync(join(cwd, 'first.o')).equals(plain))
      assert.ok(readFileSync(join(cwd, 'second.o')).equals(plain))
    })
  }

  it('both mode: a preprocessor hit is answered before its manifest write; the next request hits directly', async () => {
    const env = { MESHCC_CACHE_MODE: 'both' }
    fx.write({ 'bg/pp.c': '#include "bg.h"\nint pp_v(void) { return BG; }\n' })
    const args = (o: string) => ['-c', 'pp.c', '-o', o]
    ok(await fx.compile(cwd, COMPILERS.gcc, args('first.o'), { env }))
    await fx.handler.flushStores()
    // A comment changes the source (a new direct key) but not the preprocessed text.
    fx.write({ 'bg/pp.c': '#include "bg.h"\nint pp_v(void) { return BG; } /* touched */\n' })
    const c0 = fx.counters()
    const manifests = slow.counts.manifests
    const release = slow.hold()
    try {
      ok(await fx.compile(cwd, COMPILERS.gcc, args('second.o'), { env }))
      const c1 = fx.counters()
      assert.equal(c1.cache_hits_preprocessed, c0.cache_hits_preprocessed + 1, 'a preprocessor hit')
      assert.equal(fx.handler.pendingStores.size, 1, 'its manifest write runs after the reply')
      for (let i = 0; i < 5 && slow.counts.manifests === manifests; i++) await nextTurn()
      assert.equal(slow.counts.manifests, manifests + 1, 'the manifest write started')
      // The same request meanwhile waits for that write, then hits without preprocessing.
      const third = fx.compile(cwd, COMPILERS.gcc, args('third.o'), { env })
      assert.equal(await settledSoon(third), false, 'waits for the held manifest write')
      release()
      ok(await third)
    } finally {
      release()
    }
    const c2 = fx.counters()
    assert.equal(c2.cache_hits_direct, c0.cache_hits_direct + 1, 'the third hit directly')
    assert.equal(c2.local_compiles, c0.local_compiles, 'nothing compiled')
    assert.equal(fx.handler.pendingStores.size, 0)
    assert.ok(readFileSync(join(cwd, 'third.o')).equals(readFileSync(join(cwd, 'first.o'))))
  })

  it('a failed write is a logged warning: the build gets its reply, the next request compiles', async () => {
    fx.write({ 'bg/fail.c': 'int fail_v(void) { return 4; }\n' })
    const args = ['-c', 'fail.c', '-o', 'fail.o']
    const c0 = fx.counters()
    slow.fail(true)
    try {
      ok(await fx.compile(cwd, COMPILERS.gcc, args))
      await fx.handler.flushStores()
    } finally {
      slow.fail(false)
    }
    assert.ok(fx.logLines.some((l) => l.includes('cache write failed')))
    ok(await fx.compile(cwd, COMPILERS.gcc, args))
    const c1 = fx.counters()
    assert.equal(c1.local_compiles, c0.local_compiles + 2)
    assert.equal(c1.cache_misses, c0.cache_misses + 2)
    assert.equal(c1.local_fallbacks, c0.local_fallbacks)
  })
})
