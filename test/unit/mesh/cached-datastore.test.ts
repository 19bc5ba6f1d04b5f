import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { FsDatastore } from 'datastore-fs'
import { Key } from 'interface-datastore'
import { CachedFsDatastore } from '../../../src/mesh/cached-datastore.ts'

const bytes = (s: string) => new TextEncoder().encode(s)
const text = (b: Uint8Array) => new TextDecoder().decode(b)

describe('CachedFsDatastore', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshcc-ds-'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  /** What another process would read from the directory now. */
  const onDisk = async (key: Key): Promise<string | undefined> => {
    const plain = new FsDatastore(dir)
    return plain.get(key).then(text, () => undefined)
  }

  it('answers from memory and writes each key once per flush, the latest value', async () => {
    const ds = new CachedFsDatastore(dir, { flushMs: 60_000 })
    await ds.open()
    const key = new Key('/peers/a')
    for (let i = 0; i < 50; i++) await ds.put(key, bytes(`v${i}`))
    assert.equal(text(await ds.get(key)), 'v49')
    assert.equal(await ds.has(key), true)
    assert.equal(await onDisk(key), undefined, 'not written yet')
    assert.equal(ds.pending, 1)
    await ds.flush()
    assert.equal(await onDisk(key), 'v49')
    assert.equal(ds.pending, 0)
    // Only the record itself: the temp files of the atomic writes are gone.
    assert.deepEqual(await readdir(join(dir, 'peers')), ['a.data'])
    await ds.close()
  })

  it('flushes by itself after flushMs, and on close', async () => {
    const ds = new CachedFsDatastore(dir, { flushMs: 20 })
    await ds.open()
    await ds.put(new Key('/peers/a'), bytes('1'))
    await sleep(200)
    assert.equal(await onDisk(new Key('/peers/a')), '1')
    const slow = new CachedFsDatastore(dir, { flushMs: 60_000 })
    await slow.put(new Key('/peers/b'), bytes('2'))
    await slow.close()
    assert.equal(await onDisk(new Key('/peers/b')), '2')
    await ds.close()
  })

  it('reads what is on disk, and queries see unwritten records', async () => {
    const plain = new FsDatastore(dir)
    await plain.open()
    await plain.put(new Key('/peers/old'), bytes('o'))
    const ds = new CachedFsDatastore(dir, { flushMs: 60_000 })
    await ds.open()
    assert.equal(text(await ds.get(new Key('/peers/old'))), 'o')
    await assert.rejects(ds.get(new Key('/peers/none')), { name: 'NotFoundError' })
    await ds.put(new Key('/peers/new'), bytes('n'))
    const found = new Map<string, string>()
    for await (const { key, value } of ds.query({ prefix: '/peers' })) {
      found.set(key.toString(), text(value))
    }
    assert.deepEqual([...found].sort(), [
      ['/peers/new', 'n'],
      ['/peers/old', 'o'],
    ])
    const keys: string[] = []
    for await (const k of ds.queryKeys({ prefix: '/peers' })) keys.push(k.toString())
    assert.deepEqual(keys.sort(), ['/peers/new', '/peers/old'])
    await ds.close()
  })

  it('deletes unwritten and written records for good', async () => {
    const ds = new CachedFsDatastore(dir, { flushMs: 60_000 })
    await ds.open()
    const a = new Key('/peers/a')
    const b = new Key('/peers/b')
    await ds.put(a, bytes('1'))
    await ds.put(b, bytes('2'))
    await ds.flush()
    await ds.put(b, bytes('3'))
    await ds.delete(a)
    await ds.delete(b)
    assert.equal(await ds.has(a), false)
    assert.equal(await ds.has(b), false)
    await ds.close()
    assert.equal(await onDisk(a), undefined)
    assert.equal(await onDisk(b), undefined)
  })

  it('keeps a record rewritten during a flush pending, with its newer value', async () => {
    const ds = new CachedFsDatastore(dir, { flushMs: 60_000 })
    await ds.open()
    const key = new Key('/peers/a')
    await ds.put(key, bytes('1'))
    const flushing = ds.flush()
    await ds.put(key, bytes('2'))
    await flushing
    assert.equal(text(await ds.get(key)), '2')
    await ds.close()
    assert.equal(await onDisk(key), '2')
  })
})
