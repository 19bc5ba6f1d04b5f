import assert from 'node:assert/strict'
import { hash } from 'node:crypto'
import { describe, it } from 'node:test'
import {
  decodeEntry,
  encodeManifest,
  encodeResult,
  ENTRY_MAGIC,
} from '../../../src/cache/entry-format.ts'
import type { CachedResult } from '../../../src/cache/types.ts'

const result: CachedResult = {
  files: [
    { role: 'object', data: Buffer.from('\x7fELF'.repeat(500)) },
    { role: 'depfile', data: Buffer.from('a.o: a.c\n') },
  ],
  stdout: Buffer.from('out'),
  stderr: Buffer.from('warn\n'),
  exitCode: 0,
  compileMs: 42,
  meta: { cwd: '/w' },
}

/** Rewrites the header JSON of an entry and recomputes the checksum: a well-formed lie. */
function withHeader(entry: Buffer, edit: (h: Record<string, unknown>) => void): Buffer {
  const len = entry.readUInt32LE(8)
  const header = JSON.parse(entry.toString('utf8', 12, 12 + len)) as Record<string, unknown>
  edit(header)
  const json = Buffer.from(JSON.stringify(header))
  const prefix = Buffer.from(entry.subarray(0, 12))
  prefix.writeUInt32LE(json.length, 8)
  const body = Buffer.concat([prefix, json, entry.subarray(12 + len, entry.length - 32)])
  return Buffer.concat([body, hash('sha256', body, 'buffer')])
}

describe('entry format', () => {
  it('round-trips a result and compresses a compressible payload', async () => {
    const bytes = await encodeResult(result)
    assert.equal(bytes.readUInt32LE(0), ENTRY_MAGIC)
    assert.equal(bytes.toString('latin1', 0, 4), 'MCCE')
    assert.ok(bytes.length < 1000, `encoded ${bytes.length} bytes`)
    const d = decodeEntry(bytes)
    assert.ok(d.ok && d.kind === 'result')
    assert.deepEqual(
      d.result.files.map((f) => [f.role, Buffer.from(f.data).toString()]),
      result.files.map((f) => [f.role, Buffer.from(f.data).toString()]),
    )
    assert.equal(Buffer.from(d.result.stdout).toString(), 'out')
    assert.equal(Buffer.from(d.result.stderr).toString(), 'warn\n')
    assert.equal(d.result.compileMs, 42)
    assert.deepEqual(d.result.meta, { cwd: '/w' })
  })

  it('round-trips a lone large object (compressed off the main thread) byte for byte', async () => {
    const object = Buffer.alloc(600_000)
    for (let i = 0; i < object.length; i++) object[i] = (i * 31) % 97
    const big: CachedResult = {
      ...result,
      files: [{ role: 'object', data: object }],
      stdout: Buffer.alloc(0),
      stderr: Buffer.alloc(0),
    }
    const bytes = await encodeResult(big)
    assert.ok(bytes.length < object.length / 2, `encoded ${bytes.length} bytes`)
    const d = decodeEntry(bytes)
    assert.ok(d.ok && d.kind === 'result')
    assert.ok(Buffer.from(d.result.files[0]!.data).equals(object))
    assert.equal(d.result.stdout.byteLength + d.result.stderr.byteLength, 0)
    const raw = decodeEntry(await encodeResult(big, { compress: false }))
    assert.ok(
      raw.ok && raw.kind === 'result' && Buffer.from(raw.result.files[0]!.data).equals(object),
    )
  })

  it('stores raw when asked or when compression does not pay', async () => {
    const raw = await encodeResult(result, { compress: false })
    assert.ok(raw.length > 2000)
    assert.ok(decodeEntry(raw).ok)
    const tiny = await encodeManifest(Buffer.from('m'))
    const d = decodeEntry(tiny)
    assert.ok(d.ok && d.kind === 'manifest')
    assert.equal(Buffer.from(d.data).toString(), 'm')
  })

  it('rejects well-checksummed entries whose header lies', async () => {
    const good = await encodeResult(result)
    const lies: Array<[string, (h: Record<string, unknown>) => void, RegExp]> = [
      ['sizes', (h) => ((h['sections'] as Array<{ size: number }>)[0]!.size += 1), /size/],
      ['stored', (h) => ((h['stored'] as number) += 1), /payload size/],
      ['codec', (h) => (h['codec'] = 'lz4'), /codec/],
      ['raw codec on zstd data', (h) => (h['codec'] = 'raw'), /size/],
      ['section name', (h) => ((h['sections'] as Array<{ name: string }>)[0]!.name = 'x'), /name/],
      ['layout', (h) => (h['sections'] as unknown[]).reverse(), /layout/],
      ['negative size', (h) => ((h['sections'] as Array<{ size: number }>)[0]!.size = -1), /size/],
      ['exit code', (h) => (h['exitCode'] = 'zero'), /header fields/],
      ['meta', (h) => (h['meta'] = [1]), /meta/],
      ['no sections', (h) => delete h['sections'], /sections/],
    ]
    for (const [what, edit, why] of lies) {
      const d = decodeEntry(withHeader(good, edit))
      assert.equal(d.ok, false, what)
      assert.match((d as { why: string }).why, why, what)
    }
    assert.ok(decodeEntry(withHeader(good, () => {})).ok, 'the rewriting itself is sound')
  })

  it('rejects a bad magic, version or kind', async () => {
    const good = await encodeResult(result)
    for (const [at, why] of [
      [0, /magic/],
      [4, /version/],
      [5, /kind/],
    ] as const) {
      const bad = Buffer.from(good)
      bad[at] = 0xff
      const d = decodeEntry(bad)
      assert.ok(!d.ok)
      assert.match(d.why, why)
    }
  })
})
