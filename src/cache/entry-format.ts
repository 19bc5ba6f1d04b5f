/**
 * The on-disk format of one cache entry (a compile result or a direct-mode manifest).
 *
 * ```
 * 0   4  magic "MCCE"
 * 4   1  format version (1)
 * 5   1  kind: 1 = result, 2 = manifest
 * 6   2  reserved, 0
 * 8   4  header length H (u32 LE)
 * 12  H  header, UTF-8 JSON:
 *        { exitCode, compileMs, meta, codec: 'raw'|'zstd', stored, sections: [{ name, role?, size }] }
 * …      payload (`stored` bytes): the sections back to back (files…, stdout, stderr | manifest),
 *        as one zstd frame or raw
 * end-32 SHA-256 over every byte before it
 * ```
 *
 * The sections share one zstd frame: each decompression call costs ~20 µs of fixed overhead
 * here, so one call per hit instead of one per section. The payload stays raw when it is small
 * or compresses by less than an eighth (raw sections are served as zero-copy views of the file
 * buffer). The trailer is checked before anything is parsed, so a flipped bit anywhere, a
 * truncation or garbage is reported as corrupt rather than decoded.
 *
 * @example
 * ```ts
 * const bytes = await encodeResult(result)
 * const back = decodeEntry(bytes) // { ok: true, kind: 'result', result } | { ok: false, why }
 * ```
 */
import { hash } from 'node:crypto'
import { promisify } from 'node:util'
import { constants, zstdCompress, zstdCompressSync, zstdDecompressSync } from 'node:zlib'
import type { CachedResult } from './types.ts'

export const ENTRY_MAGIC = 0x4543434d // "MCCE" read as u32 LE
export const ENTRY_VERSION = 1
export const KIND_RESULT = 1
export const KIND_MANIFEST = 2
const PREFIX = 12
const TRAILER = 32
/** Below this the payload is stored raw: zstd framing would eat the gain and cost a call. */
const MIN_COMPRESS = 256
/** Up to this payload size, compression runs synchronously. */
const SYNC_COMPRESS = 128 * 1024
/** Defence against a header claiming absurd sizes (a compile output is far below this). */
const MAX_SIZE = 2 ** 31

const compressAsync = promisify(zstdCompress)

type SectionName = 'file' | 'stdout' | 'stderr' | 'manifest'
interface SectionHeader {
  name: SectionName
  role?: string
  size: number
}
interface EntryHeader {
  exitCode?: number
  compileMs?: number
  meta?: Record<string, unknown>
  codec: 'raw' | 'zstd'
  stored: number
  sections: SectionHeader[]
}
type Part = { name: SectionName; role?: string; data: Uint8Array }

export type DecodedEntry =
  | { ok: true; kind: 'result'; result: CachedResult }
  | { ok: true; kind: 'manifest'; data: Uint8Array }
  | { ok: false; why: string }

export interface EncodeOptions {
  /** zstd level; 3 (the zstd default) costs about as much as 1 on object files here. */
  level?: number
  /** Store the payload raw whatever it is (trades disk for the hit's decompression). */
  compress?: boolean
}

export async function encodeResult(r: CachedResult, opts: EncodeOptions = {}): Promise<Buffer> {
  const parts: Part[] = [
    ...r.files.map((f) => ({ name: 'file' as const, role: f.role, data: f.data })),
    { name: 'stdout', data: r.stdout },
    { name: 'stderr', data: r.stderr },
  ]
  return encode(
    KIND_RESULT,
    { exitCode: r.exitCode, compileMs: r.compileMs, meta: r.meta },
    parts,
    opts,
  )
}

export async function encodeManifest(data: Uint8Array, opts: EncodeOptions = {}): Promise<Buffer> {
  return encode(KIND_MANIFEST, {}, [{ name: 'manifest', data }], opts)
}

async function encode(
  kind: number,
  head: Pick<EntryHeader, 'exitCode' | 'compileMs' | 'meta'>,
  parts: Part[],
  opts: EncodeOptions,
): Promise<Buffer> {
  // Usually one section holds everything (the object; stdout and stderr empty): no copy then.
  const filled = parts.filter((p) => p.data.byteLength > 0)
  const raw =
    filled.length === 1
      ? Buffer.from(filled[0]!.data.buffer, filled[0]!.data.byteOffset, filled[0]!.data.byteLength)
      : Buffer.concat(parts.map((p) => p.data))
  let payload: Uint8Array = raw
  let codec: EntryHeader['codec'] = 'raw'
  if (opts.compress !== false && raw.byteLength >= MIN_COMPRESS) {
    const params = { [constants.ZSTD_c_compressionLevel]: opts.level ?? 3 }
    // A typical object or manifest is small: compressed on the spot, that costs a third of what
    // the threadpool's stream (and a compressor set up for an unknown size) does. Large ones go
    // to the threadpool in one output buffer (16 KiB ones cost a trip each).
    const z =
      raw.byteLength <= SYNC_COMPRESS
        ? zstdCompressSync(raw, { params })
        : await compressAsync(raw, {
            chunkSize: Math.min(8 * 2 ** 20, Math.max(16 * 1024, raw.byteLength >> 1)),
            pledgedSrcSize: raw.byteLength,
            params,
          })
    // Keep it raw unless it saves an eighth: raw sections are served without a copy.
    if (z.byteLength <= raw.byteLength - (raw.byteLength >> 3)) {
      payload = z
      codec = 'zstd'
    }
  }
  const sections = parts.map((p): SectionHeader => {
    const h: SectionHeader = { name: p.name, size: p.data.byteLength }
    if (p.role !== undefined) h.role = p.role
    return h
  })
  const entryHeader: EntryHeader = { ...head, codec, stored: payload.byteLength, sections }
  const header = Buffer.from(JSON.stringify(entryHeader))
  // The entry is assembled in its final buffer: one copy of the payload, none for the trailer.
  const bodyLength = PREFIX + header.byteLength + payload.byteLength
  const out = Buffer.allocUnsafe(bodyLength + TRAILER)
  out.fill(0, 0, PREFIX)
  out.writeUInt32LE(ENTRY_MAGIC, 0)
  out.writeUInt8(ENTRY_VERSION, 4)
  out.writeUInt8(kind, 5)
  out.writeUInt32LE(header.byteLength, 8)
  header.copy(out, PREFIX)
  out.set(payload, PREFIX + header.byteLength)
  hash('sha256', out.subarray(0, bodyLength), 'buffer').copy(out, bodyLength)
  return out
}

/** Verifies and decodes one entry. Never throws: any defect is `{ ok: false, why }`. */
export function decodeEntry(buf: Buffer): DecodedEntry {
  try {
    return decodeUnsafe(buf)
  } catch (err) {
    return { ok: false, why: `undecodable: ${(err as Error).message}` }
  }
}

function decodeUnsafe(buf: Buffer): DecodedEntry {
  if (buf.byteLength < PREFIX + TRAILER) return { ok: false, why: 'truncated' }
  if (buf.readUInt32LE(0) !== ENTRY_MAGIC) return { ok: false, why: 'bad magic' }
  if (buf.readUInt8(4) !== ENTRY_VERSION) return { ok: false, why: 'unknown format version' }
  const kind = buf.readUInt8(5)
  if (kind !== KIND_RESULT && kind !== KIND_MANIFEST) return { ok: false, why: 'unknown kind' }
  const headerLen = buf.readUInt32LE(8)
  const bodyEnd = buf.byteLength - TRAILER
  if (PREFIX + headerLen > bodyEnd) return { ok: false, why: 'header overruns entry' }
  const body = buf.subarray(0, bodyEnd)
  if (!hash('sha256', body, 'buffer').equals(buf.subarray(bodyEnd))) {
    return { ok: false, why: 'checksum mismatch' }
  }
  const header = parseHeader(buf.toString('utf8', PREFIX, PREFIX + headerLen))
  if (typeof header === 'string') return { ok: false, why: header }
  const start = PREFIX + headerLen
  if (start + header.stored !== bodyEnd) return { ok: false, why: 'payload size mismatch' }
  const total = header.sections.reduce((n, s) => n + s.size, 0)
  const stored = buf.subarray(start, bodyEnd)
  const payload =
    header.codec === 'raw'
      ? stored
      : zstdDecompressSync(stored, { maxOutputLength: Math.max(1, total) })
  if (payload.byteLength !== total) return { ok: false, why: 'section sizes mismatch' }
  const views: Uint8Array[] = []
  let at = 0
  for (const s of header.sections) {
    views.push(payload.subarray(at, at + s.size))
    at += s.size
  }
  return kind === KIND_MANIFEST ? asManifest(header, views) : asResult(header, views)
}
function asManifest(h: EntryHeader, payloads: Uint8Array[]): DecodedEntry {
  if (h.sections.length !== 1 || h.sections[0]!.name !== 'manifest') {
    return { ok: false, why: 'manifest layout' }
  }
  return { ok: true, kind: 'manifest', data: payloads[0]! }
}

function asResult(h: EntryHeader, payloads: Uint8Array[]): DecodedEntry {
  const n = h.sections.length
  const names = h.sections.map((s) => s.name)
  const filesOk = names.slice(0, n - 2).every((x) => x === 'file')
  if (n < 2 || !filesOk || names[n - 2] !== 'stdout' || names[n - 1] !== 'stderr') {
    return { ok: false, why: 'result layout' }
  }
  if (!Number.isInteger(h.exitCode) || typeof h.compileMs !== 'number') {
    return { ok: false, why: 'result header fields' }
  }
  const meta = h.meta
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
    return { ok: false, why: 'result meta' }
  }
  const result: CachedResult = {
    files: h.sections.slice(0, n - 2).map((s, i) => ({ role: s.role ?? '', data: payloads[i]! })),
    stdout: payloads[n - 2]!,
    stderr: payloads[n - 1]!,
    exitCode: h.exitCode as number,
    compileMs: h.compileMs,
    meta,
  }
  return { ok: true, kind: 'result', result }
}

function parseHeader(text: string): EntryHeader | string {
  const h = JSON.parse(text) as unknown
  if (typeof h !== 'object' || h === null) return 'header is not an object'
  const { sections, codec, stored } = h as Record<string, unknown>
  if (!Array.isArray(sections)) return 'header has no sections'
  if (codec !== 'raw' && codec !== 'zstd') return 'bad codec'
  if (!isSize(stored)) return 'bad stored size'
  for (const s of sections as unknown[]) {
    if (typeof s !== 'object' || s === null) return 'bad section header'
    const { name, size, role } = s as Record<string, unknown>
    if (name !== 'file' && name !== 'stdout' && name !== 'stderr' && name !== 'manifest') {
      return 'bad section name'
    }
    if (!isSize(size)) return 'bad section size'
    if (role !== undefined && typeof role !== 'string') return 'bad section role'
  }
  return h as EntryHeader
}

function isSize(n: unknown): n is number {
  return Number.isSafeInteger(n) && (n as number) >= 0 && (n as number) <= MAX_SIZE
}
