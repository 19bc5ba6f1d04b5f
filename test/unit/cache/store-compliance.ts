/**
 * The behaviour every `CacheStore` must have, as a test factory: each implementation runs it
 * with its own fixture (`test/unit/cache/{disk,memory}-store.test.ts`).
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import type { CachedResult, CacheStore } from '../../../src/cache/types.ts'

export interface StoreFixture {
  store: CacheStore
  /** Waits for background work (eviction) started by the last write. */
  settle(): Promise<void>
  cleanup(): Promise<void>
}

export interface ComplianceOptions {
  /** Builds a started store with the given limit (already indexed). */
  make(maxBytes: number): Promise<StoreFixture>
}

export function keyOf(s: string): string {
  return createHash('sha256').update(s).digest('hex')
}

export function sampleResult(seed: string, objectBytes = 2000): CachedResult {
  return {
    files: [
      { role: 'object', data: randomBytes(objectBytes) },
      { role: 'depfile', data: Buffer.from(`${seed}.o: ${seed}.c a.h b.h\n`.repeat(20)) },
    ],
    stdout: Buffer.alloc(0),
    stderr: Buffer.from(`${seed}.c:1:2: warning: unused variable 'x'\n`),
    exitCode: 0,
    compileMs: 123.5,
    meta: { cwd: `/src/${seed}`, nested: { list: [1, 'two', null], flag: true } },
  }
}

export function assertSameResult(actual: CachedResult | undefined, expected: CachedResult): void {
  assert.ok(actual, 'expected a hit')
  assert.equal(actual.files.length, expected.files.length)
  for (const [i, f] of expected.files.entries()) {
    assert.equal(actual.files[i]!.role, f.role)
    assert.ok(Buffer.from(actual.files[i]!.data).equals(Buffer.from(f.data)), `file ${i} differs`)
  }
  assert.ok(Buffer.from(actual.stdout).equals(Buffer.from(expected.stdout)))
  assert.ok(Buffer.from(actual.stderr).equals(Buffer.from(expected.stderr)))
  assert.equal(actual.exitCode, expected.exitCode)
  assert.equal(actual.compileMs, expected.compileMs)
  assert.deepEqual(actual.meta, expected.meta)
}

const BAD_KEYS = [
  '',
  'abc',
  keyOf('x').toUpperCase(),
  `${keyOf('x')}0`,
  `../${keyOf('x').slice(3)}`,
  `ab/${keyOf('x').slice(3)}`,
  `${keyOf('x').slice(0, 63)}g`,
  `${keyOf('x').slice(0, 63)}\0`,
]

export function cacheStoreCompliance(name: string, opts: ComplianceOptions): void {
  const withStore = async (maxBytes: number, fn: (f: StoreFixture) => Promise<void>) => {
    const f = await opts.make(maxBytes)
    try {
      await fn(f)
    } finally {
      await f.store.stop()
      await f.cleanup()
    }
  }

  describe(`CacheStore compliance: ${name}`, () => {
    it('misses on an unknown key', () =>
      withStore(1 << 20, async ({ store }) => {
        assert.equal(store.getResult(keyOf('nothing')), undefined)
        assert.equal(store.getManifest(keyOf('nothing')), undefined)
      }))

    it('round-trips results and manifests, which live apart', () =>
      withStore(1 << 24, async ({ store }) => {
        const k = keyOf('a')
        const r = sampleResult('a', 50_000)
        await store.putResult(k, r)
        assertSameResult(store.getResult(k), r)
        assert.equal(store.getManifest(k), undefined, 'a result is not a manifest')
        const m = Buffer.from('manifest bytes '.repeat(100))
        await store.putManifest(k, m)
        assert.deepEqual(Buffer.from(store.getManifest(k)!), m)
        assertSameResult(store.getResult(k), r)
        const s = store.stats()
        assert.equal(s.entries, 1)
        assert.ok(s.bytes > 0)
        assert.equal(s.maxBytes, 1 << 24)
      }))

    it('keeps a failed compile, empty outputs and no files', () =>
      withStore(1 << 20, async ({ store }) => {
        const r: CachedResult = {
          files: [],
          stdout: Buffer.alloc(0),
          stderr: Buffer.from('error: x\n'),
          exitCode: 1,
          compileMs: 0,
          meta: {},
        }
        await store.putResult(keyOf('fail'), r)
        assertSameResult(store.getResult(keyOf('fail')), r)
      }))

    it('overwrites an entry (recache)', () =>
      withStore(1 << 22, async ({ store }) => {
        const k = keyOf('re')
        await store.putResult(k, sampleResult('one'))
        const two = sampleResult('two')
        await store.putResult(k, two)
        assertSameResult(store.getResult(k), two)
        assert.equal(store.stats().entries, 1)
      }))

    it('refuses invalid keys on every method', () =>
      withStore(1 << 20, async ({ store }) => {
        for (const bad of BAD_KEYS) {
          const code = { code: 'ERR_MESHCC_INVALID_CACHE_KEY' }
          assert.throws(() => store.getResult(bad), code, JSON.stringify(bad))
          assert.throws(() => store.getManifest(bad), code)
          await assert.rejects(store.putResult(bad, sampleResult('x')), code)
          await assert.rejects(store.putManifest(bad, Buffer.from('m')), code)
          await assert.rejects(
            store.updateManifest(bad, () => undefined),
            code,
          )
        }
        assert.equal(store.stats().entries, 0)
      }))

    it('evicts the least recently used entries down to 90 %, not the oldest written', () =>
      withStore(45_000, async ({ store, settle }) => {
        const keys = [0, 1, 2, 3, 4].map((i) => keyOf(`lru${i}`))
        const results = keys.map((_, i) => sampleResult(`lru${i}`, 9000))
        for (const [i, k] of keys.slice(0, 4).entries()) {
          await store.putResult(k, results[i]!)
          await new Promise((r) => setTimeout(r, 5))
        }
        assert.equal(store.stats().entries, 4)
        assert.ok(store.getResult(keys[0]!), 'hit on the oldest entry')
        await store.putResult(keys[4]!, results[4]!)
        await settle()
        const s = store.stats()
        assert.ok(s.bytes <= 45_000 * 0.9, `bytes ${s.bytes} after eviction`)
        assertSameResult(store.getResult(keys[0]!), results[0]!)
        assert.equal(store.getResult(keys[1]!), undefined, 'least recently used is gone')
        assertSameResult(store.getResult(keys[4]!), results[4]!)
        assert.ok((s.evictions ?? 1) >= 1)
      }))

    it('never stores an entry larger than the cache', () =>
      withStore(20_000, async ({ store }) => {
        await store.putResult(keyOf('huge'), sampleResult('huge', 40_000))
        assert.equal(store.getResult(keyOf('huge')), undefined)
        assert.equal(store.stats().bytes, 0)
      }))

    it('serves many concurrent writers and readers of the same keys', () =>
      withStore(1 << 26, async ({ store }) => {
        const keys = Array.from({ length: 40 }, (_, i) => keyOf(`c${i}`))
        const variants = new Map(
          keys.map((k) => [k, [0, 1, 2].map((v) => sampleResult(`${k}${v}`))]),
        )
        const seen = (k: string, got: CachedResult) => {
          const objs = variants.get(k)!.map((v) => Buffer.from(v.files[0]!.data))
          assert.ok(
            objs.some((o) => o.equals(Buffer.from(got.files[0]!.data))),
            'mixed entry',
          )
        }
        const ops: Promise<void>[] = []
        for (const k of keys) {
          for (const v of variants.get(k)!) ops.push(store.putResult(k, v))
          ops.push(
            (async () => {
              for (let i = 0; i < 5; i++) {
                await new Promise((r) => setImmediate(r))
                const got = store.getResult(k)
                if (got) seen(k, got)
              }
            })(),
          )
        }
        await Promise.all(ops)
        for (const k of keys) seen(k, store.getResult(k)!)
        assert.equal(store.stats().entries, keys.length)
        assert.equal(store.stats().corruptEntries, 0)
      }))

    it('serializes read-modify-write of a manifest', () =>
      withStore(1 << 20, async ({ store }) => {
        const k = keyOf('manifest')
        await Promise.all(
          Array.from({ length: 25 }, (_, i) =>
            store.updateManifest(k, (cur) =>
              Buffer.concat([cur ?? Buffer.alloc(0), Buffer.from([i])]),
            ),
          ),
        )
        const m = store.getManifest(k)!
        assert.equal(m.length, 25)
        assert.deepEqual(
          [...m].sort((a, b) => a - b),
          Array.from({ length: 25 }, (_, i) => i),
        )
        await store.updateManifest(k, () => undefined)
        assert.equal(store.getManifest(k)!.length, 25, 'undefined leaves it as it is')
      }))

    it('clear() removes everything', () =>
      withStore(1 << 22, async ({ store }) => {
        await store.putResult(keyOf('1'), sampleResult('1'))
        await store.putManifest(keyOf('2'), Buffer.from('m'))
        await store.clear()
        assert.equal(store.getResult(keyOf('1')), undefined)
        assert.equal(store.getManifest(keyOf('2')), undefined)
        assert.equal(store.stats().bytes, 0)
        assert.equal(store.stats().entries, 0)
        await store.putResult(keyOf('3'), sampleResult('3'))
        assert.ok(store.getResult(keyOf('3')))
      }))
  })
}
