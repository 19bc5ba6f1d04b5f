import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { pathToFileURL } from 'node:url'
import { createDiskCacheStore, type DiskCacheStoreInit } from '../../../src/cache/disk-store.ts'
import { encodeManifest, encodeResult } from '../../../src/cache/entry-format.ts'
import { assertSameResult, cacheStoreCompliance, keyOf, sampleResult } from './store-compliance.ts'

const tempDir = () => mkdtemp(join(tmpdir(), 'meshcc-disk-store-'))
const resultPath = (dir: string, key: string) => join(dir, 'results', key.slice(0, 2), key)

async function openStore(dir: string, init: Partial<DiskCacheStoreInit> = {}) {
  const corrupt: Array<{ key: string; why: string }> = []
  const store = createDiskCacheStore({
    dir,
    maxBytes: 1 << 24,
    onCorrupt: (key, why) => corrupt.push({ key, why }),
    ...init,
  })
  await store.start()
  await store.indexed()
  return { store, corrupt }
}

cacheStoreCompliance('disk', {
  async make(maxBytes) {
    const dir = await tempDir()
    const { store } = await openStore(dir, { maxBytes })
    return {
      store,
      settle: () => store.evict(),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    }
  },
})

describe('disk store', () => {
  it('lays entries out under results/<2 hex>/<key> and manifests/…', async () => {
    const dir = await tempDir()
    const { store } = await openStore(dir)
    const k = keyOf('layout')
    await store.putResult(k, sampleResult('layout'))
    await store.putManifest(k, Buffer.from('m'))
    assert.ok(statSync(resultPath(dir, k)).isFile())
    assert.ok(statSync(join(dir, 'manifests', k.slice(0, 2), k)).isFile())
    assert.ok(existsSync(join(dir, 'CACHEDIR.TAG')))
    const leftovers = readdirSync(join(dir, 'results', k.slice(0, 2))).filter((n) => n !== k)
    assert.deepEqual(leftovers, [], 'no temp file left behind')
    await store.stop()
    await rm(dir, { recursive: true })
  })

  it('replaces an entry with a new file, with no temp file left', async () => {
    const dir = await tempDir()
    const { store } = await openStore(dir)
    const k = keyOf('replace')
    await store.putResult(k, sampleResult('first'))
    const before = statSync(resultPath(dir, k)).ino
    const second = sampleResult('second')
    await store.putResult(k, second)
    assertSameResult(await store.getResult(k), second)
    // A new file, written aside and renamed in (the old one is removed just before).
    assert.notEqual(statSync(resultPath(dir, k)).ino, before)
    assert.deepEqual(
      readdirSync(join(dir, 'results', k.slice(0, 2))).filter((n) => n !== k),
      [],
      'no temp file left behind',
    )
    await store.stop()
    await rm(dir, { recursive: true })
  })

  it('compresses object files and still serves them byte for byte', async () => {
    const dir = await tempDir()
    const { store } = await openStore(dir)
    const k = keyOf('compress')
    // Object-file-like: repetitive structure with some entropy.
    const obj = Buffer.concat(
      Array.from({ length: 2000 }, (_, i) => Buffer.from(`\x7fELF sym_${i % 97} ${i}\0\0\0\0`)),
    )
    const r = { ...sampleResult('compress'), files: [{ role: 'object', data: obj }] }
    await store.putResult(k, r)
    const onDisk = statSync(resultPath(dir, k)).size
    assert.ok(onDisk < obj.length / 2, `stored ${onDisk} bytes for ${obj.length}`)
    assertSameResult(store.getResult(k), r)
    await store.stop()
    await rm(dir, { recursive: true })
  })

  describe('corruption', () => {
    // A small entry with a compressed section, a raw section and header: flip every byte.
    const r = {
      ...sampleResult('corrupt', 64),
      stdout: Buffer.from('x'.repeat(400)),
    }

    it('detects a flipped bit at every byte and drops the entry', async () => {
      const dir = await tempDir()
      const { store, corrupt } = await openStore(dir)
      const k = keyOf('flip')
      await store.putResult(k, r)
      const good = readFileSync(resultPath(dir, k))
      assert.ok(good.length < 2000, `entry is ${good.length} bytes`)
      for (let i = 0; i < good.length; i++) {
        const bad = Buffer.from(good)
        bad[i] = bad[i]! ^ (1 << (i % 8))
        writeFileSync(resultPath(dir, k), bad)
        assert.equal(store.getResult(k), undefined, `flip at byte ${i} served`)
        assert.equal(existsSync(resultPath(dir, k)), false, `flip at byte ${i} not deleted`)
      }
      assert.equal(corrupt.length, good.length)
      assert.ok(corrupt.every((c) => c.key === k))
      assert.equal(store.stats().corruptEntries, good.length)
      // And the untouched bytes still read back.
      writeFileSync(resultPath(dir, k), good)
      assertSameResult(store.getResult(k), r)
      await store.stop()
      await rm(dir, { recursive: true })
    })

    it('detects truncation, extension, garbage, an empty file and a manifest in place of a result', async () => {
      const dir = await tempDir()
      const { store, corrupt } = await openStore(dir)
      const k = keyOf('trunc')
      await store.putResult(k, r)
      const good = readFileSync(resultPath(dir, k))
      const cases: Array<[string, Buffer]> = [
        ['empty', Buffer.alloc(0)],
        ['one byte', good.subarray(0, 1)],
        ['prefix only', good.subarray(0, 12)],
        ['half', good.subarray(0, good.length >> 1)],
        ['no trailer', good.subarray(0, good.length - 32)],
        ['last byte missing', good.subarray(0, good.length - 1)],
        ['extra byte', Buffer.concat([good, Buffer.from([0])])],
        ['garbage', randomBytes(good.length)],
        ['manifest', await encodeManifest(Buffer.from('not a result'))],
      ]
      for (const [what, bytes] of cases) {
        writeFileSync(resultPath(dir, k), bytes)
        assert.equal(store.getResult(k), undefined, what)
        assert.equal(existsSync(resultPath(dir, k)), false, `${what} not deleted`)
      }
      assert.equal(corrupt.length, cases.length)
      assert.match(corrupt.at(-1)!.why, /manifest/)
      // A corrupt manifest is dropped the same way.
      const mk = keyOf('bad manifest')
      await store.putManifest(mk, Buffer.from('m'.repeat(300)))
      const mp = join(dir, 'manifests', mk.slice(0, 2), mk)
      writeFileSync(mp, readFileSync(mp).subarray(0, 40))
      assert.equal(store.getManifest(mk), undefined)
      assert.equal(existsSync(mp), false)
      assert.equal(store.stats().entries, 0)
      await store.stop()
      await rm(dir, { recursive: true })
    })
  })

  it('rebuilds sizes and LRU order after a restart', async () => {
    const dir = await tempDir()
    const first = await openStore(dir)
    const tick = () => new Promise((r) => setTimeout(r, 5))
    const keys = [0, 1, 2, 3].map((i) => keyOf(`restart${i}`))
    const results = keys.map((k) => sampleResult(k, 9000))
    for (const [i, k] of keys.entries()) {
      await tick()
      await first.store.putResult(k, results[i]!)
    }
    await first.store.putManifest(keyOf('m'), Buffer.from('manifest'))
    await tick()
    assert.ok(first.store.getResult(keys[0]!), 'hit the oldest')
    const before = first.store.stats()
    await first.store.stop()

    // Same limit: the scan finds every entry again.
    const again = await openStore(dir)
    const after = again.store.stats()
    assert.equal(after.entries, 4)
    assert.equal(after.manifests, 1)
    assert.equal(after.bytes, before.bytes)
    assert.equal(after.indexed, true)
    await again.store.stop()

    // A smaller limit: eviction after the scan follows the persisted last uses.
    const small = await openStore(dir, { maxBytes: Math.floor(before.bytes * 0.8) })
    await small.store.evict()
    assert.ok(small.store.getResult(keys[0]!), 'recently hit entry survived the restart')
    assert.equal(small.store.getResult(keys[1]!), undefined, 'least recently used went first')
    assert.ok(small.store.stats().bytes <= before.bytes * 0.8 * 0.9)
    await small.store.stop()
    await rm(dir, { recursive: true })
  })

  it('does not delay hits while scanning and merges entries found on disk', async () => {
    const dir = await tempDir()
    const seed = await openStore(dir)
    const keys = Array.from({ length: 300 }, (_, i) => keyOf(`scan${i}`))
    const r = sampleResult('scan', 500)
    await Promise.all(keys.map((k) => seed.store.putResult(k, r)))
    const total = seed.store.stats().bytes
    await seed.store.stop()

    const store = createDiskCacheStore({ dir, maxBytes: 1 << 24 })
    await store.start()
    assert.equal(store.stats().indexed, false, 'start() does not wait for the scan')
    assertSameResult(store.getResult(keys[7]!), r)
    await store.putResult(keyOf('new'), r)
    const early = store.stats()
    assert.ok(early.entries < 301, 'sizes are partial while scanning')
    await store.indexed()
    const s = store.stats()
    assert.equal(s.indexed, true)
    assert.equal(s.entries, 301, 'scanned entries and the live ones, each once')
    assert.equal(s.bytes, total + (await encodeResult(r)).length)
    await store.stop()
    await rm(dir, { recursive: true })
  })

  it('removes stale temp files and trash on start, keeps fresh temp files', async () => {
    const dir = await tempDir()
    const k = keyOf('temps')
    const shard = join(dir, 'results', k.slice(0, 2))
    await mkdir(shard, { recursive: true })
    const stale = join(shard, `.tmp-1-0-deadbeef-${k}`)
    const fresh = join(shard, `.tmp-2-0-deadbeef-${k}`)
    await writeFile(stale, 'half an entry')
    await writeFile(fresh, 'being written')
    const old = (Date.now() - 120_000) / 1000
    await utimes(stale, old, old)
    await mkdir(join(dir, '.trash-abc', 'results', 'ab'), { recursive: true })
    await writeFile(join(shard, 'not-a-key'), 'ignored')
    const { store } = await openStore(dir)
    assert.equal(existsSync(stale), false)
    assert.equal(existsSync(fresh), true)
    assert.equal(existsSync(join(dir, '.trash-abc')), false)
    assert.equal(store.stats().entries, 0)
    assert.equal(store.stats().bytes, 0)
    await store.stop()
    await rm(dir, { recursive: true })
  })

  it('stays consistent with another process writing the same directory', async () => {
    const dir = await tempDir()
    const { store, corrupt } = await openStore(dir)
    const keys = Array.from({ length: 60 }, (_, i) => keyOf(`xproc${i}`))
    // Both writers store, for each key, a result whose object is derived from the key only,
    // but with a writer-specific stderr: any mix of the two would fail to decode or compare.
    const child = spawnWriter(dir, keys)
    const mine = (k: string) => ({
      ...sampleResult(k),
      files: [{ role: 'object', data: objFor(k) }],
    })
    let hits = 0
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
    for (let round = 0; round < 4; round++) {
      await Promise.all(
        keys.map((k) => store.putResult(k, { ...mine(k), stderr: Buffer.from('parent') })),
      )
      for (const k of keys) {
        const got = store.getResult(k)
        if (got === undefined) continue
        hits++
        assert.ok(Buffer.from(got.files[0]!.data).equals(objFor(k)))
        assert.ok(['parent', 'child'].includes(Buffer.from(got.stderr).toString()))
      }
    }
    assert.equal(await exited, 0, 'child writer failed')
    for (const k of keys) assert.ok(store.getResult(k), 'every key readable at the end')
    assert.ok(hits > 0)
    assert.deepEqual(corrupt, [])
    const stray = readdirSync(join(dir, 'results'), { recursive: true }).filter((n) =>
      String(n).includes('.tmp-'),
    )
    assert.deepEqual(stray, [])
    await store.stop()
    await rm(dir, { recursive: true })
  })

  it('leaves no visible half entry when a writer is killed mid-write', async () => {
    const dir = await tempDir()
    const storeUrl = pathToFileURL(
      join(import.meta.dirname, '../../../src/cache/disk-store.ts'),
    ).href
    const code = `
      import { createDiskCacheStore } from ${JSON.stringify(storeUrl)}
      import { createHash, randomBytes } from 'node:crypto'
      const store = createDiskCacheStore({ dir: ${JSON.stringify(dir)}, maxBytes: 2 ** 40 })
      await store.start()
      console.log('ready')
      for (let i = 0; ; i++) {
        const key = createHash('sha256').update('kill' + i).digest('hex')
        await Promise.all([0, 1, 2].map((j) => store.putResult(key, {
          files: [{ role: 'object', data: randomBytes(1 << 20) }],
          stdout: Buffer.alloc(0), stderr: Buffer.from(String(j)), exitCode: 0, compileMs: 1, meta: {} })))
      }
    `
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    await new Promise((resolve) => child.stdout.once('data', resolve))
    await new Promise((resolve) => setTimeout(resolve, 400))
    child.kill('SIGKILL')
    await new Promise((resolve) => child.on('exit', resolve))
    const files = () => readdirSync(join(dir, 'results'), { recursive: true }).map(String)
    const keys = files().filter((n) => /^[0-9a-f]{2}\/[0-9a-f]{64}$/.test(n))
    assert.ok(keys.length > 0, 'the writer stored something before it died')
    const { store, corrupt } = await openStore(dir, { staleTempMs: 0, maxBytes: 2 ** 40 })
    for (const rel of keys) assert.ok(store.getResult(rel.slice(3)), `${rel} readable`)
    assert.deepEqual(corrupt, [])
    assert.deepEqual(
      files().filter((n) => n.includes('.tmp-')),
      [],
      'stale temps cleaned',
    )
    assert.equal(store.stats().entries, keys.length)
    await store.stop()
    await rm(dir, { recursive: true })
  })

  it('counts bytes as the sizes of the files on disk', async () => {
    const dir = await tempDir()
    const { store } = await openStore(dir)
    const k1 = keyOf('b1')
    const k2 = keyOf('b2')
    await store.putResult(k1, sampleResult('b1'))
    await store.putManifest(k2, Buffer.from('manifest'))
    const expected =
      statSync(resultPath(dir, k1)).size + statSync(join(dir, 'manifests', k2.slice(0, 2), k2)).size
    assert.equal(store.stats().bytes, expected)
    assert.equal((await encodeResult(sampleResult('b1'))).length > 0, true)
    await store.stop()
    await rm(dir, { recursive: true })
  })
})

function objFor(k: string): Buffer {
  return Buffer.from(`${k}\n`.repeat(300))
}

function spawnWriter(dir: string, keys: string[]) {
  const storeUrl = pathToFileURL(join(import.meta.dirname, '../../../src/cache/disk-store.ts')).href
  const code = `
    import { createDiskCacheStore } from ${JSON.stringify(storeUrl)}
    const keys = ${JSON.stringify(keys)}
    const store = createDiskCacheStore({ dir: ${JSON.stringify(dir)}, maxBytes: 1 << 24, onCorrupt: (k, why) => { console.error('corrupt', k, why); process.exitCode = 3 } })
    await store.start()
    for (let round = 0; round < 4; round++) {
      await Promise.all(keys.map((k) => store.putResult(k, {
        files: [{ role: 'object', data: Buffer.from((k + '\\n').repeat(300)) }],
        stdout: Buffer.alloc(0), stderr: Buffer.from('child'), exitCode: 0, compileMs: 1, meta: {} })))
      for (const k of keys) {
        const got = store.getResult(k)
        if (got && !Buffer.from(got.files[0].data).equals(Buffer.from((k + '\\n').repeat(300)))) process.exit(4)
      }
    }
    await store.stop()
  `
  return spawn(process.execPath, ['--input-type=module', '-e', code], {
    stdio: ['ignore', 'inherit', 'inherit'],
  })
}
