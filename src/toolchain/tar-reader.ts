/**
 * A minimal, strict tar parser (ustar, GNU long names, pax `path`/`linkpath`/`size`), written
 * here rather than taken from node-tar (a run of 2026 extraction CVEs) because meshcc only needs
 * to *read* entries and decide itself what to write. It yields entries with their body as a
 * stream; it never touches the file system. Header checksums are verified, sizes and name
 * lengths bounded, and unknown entry types reported as such (the importer refuses them).
 */
import { UnsafeArchiveEntryError } from '../errors.ts'
import { ByteReader } from './byte-reader.ts'
import { MAX_PATH_BYTES } from './limits.ts'

export type TarEntryType =
  | 'file'
  | 'dir'
  | 'symlink'
  | 'hardlink'
  | 'char'
  | 'block'
  | 'fifo'
  | 'other'

export interface TarEntry {
  name: string
  type: TarEntryType
  /** Raw type flag, for messages about 'other'. */
  flag: string
  mode: number
  size: number
  linkname: string
  /** The entry's content; must be consumed before the next entry (or it is skipped). */
  body(): AsyncGenerator<Buffer>
}

export interface TarLimits {
  maxEntrySize: number
  maxTotalBytes: number
}

const BLOCK = 512
const MAX_META = 1024 * 1024
const TYPES: Record<string, TarEntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo',
}

function text(b: Buffer, start: number, len: number): string {
  const f = b.subarray(start, start + len)
  const nul = f.indexOf(0)
  return (nul < 0 ? f : f.subarray(0, nul)).toString('utf8')
}

function number(b: Buffer, start: number, len: number, what: string): number {
  const f = b.subarray(start, start + len)
  if ((f[0]! & 0x80) !== 0) {
    // GNU base-256: big-endian, high bit of the first byte set (negative values refused).
    if ((f[0]! & 0x40) !== 0) throw new UnsafeArchiveEntryError(`negative ${what} in tar header`)
    let v = f[0]! & 0x3f
    for (let i = 1; i < f.length; i++) {
      v = v * 256 + f[i]!
      if (v > Number.MAX_SAFE_INTEGER) throw new UnsafeArchiveEntryError(`${what} too large`)
    }
    return v
  }
  const s = text(b, start, len).trim()
  if (s === '') return 0
  if (!/^[0-7]+$/.test(s)) throw new UnsafeArchiveEntryError(`bad ${what} '${s}' in tar header`)
  return Number.parseInt(s, 8)
}

function checksumOk(h: Buffer): boolean {
  let sum = 0
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!
  return sum === number(h, 148, 8, 'checksum')
}

function parsePax(data: Buffer): Map<string, string> {
  const out = new Map<string, string>()
  let off = 0
  while (off < data.length) {
    const sp = data.indexOf(0x20, off)
    if (sp < 0) throw new UnsafeArchiveEntryError('malformed pax header')
    const len = Number.parseInt(data.subarray(off, sp).toString('ascii'), 10)
    if (!Number.isSafeInteger(len) || len <= sp - off || off + len > data.length)
      throw new UnsafeArchiveEntryError('malformed pax record length')
    const rec = data.subarray(sp + 1, off + len - 1).toString('utf8')
    const eq = rec.indexOf('=')
    if (eq < 0) throw new UnsafeArchiveEntryError('malformed pax record')
    out.set(rec.slice(0, eq), rec.slice(eq + 1))
    off += len
  }
  return out
}

export async function* readTar(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  limits: TarLimits,
): AsyncGenerator<TarEntry> {
  const r = new ByteReader(source)
  let longName: string | undefined
  let longLink: string | undefined
  let pax = new Map<string, string>()
  try {
    for (;;) {
      const h = await r.read(BLOCK)
      if (h.length === 0) return // tolerated: archive without end blocks
      if (h.length < BLOCK) throw new UnsafeArchiveEntryError('archive truncated in a header')
      if (h.every((x) => x === 0)) return
      if (!checksumOk(h)) throw new UnsafeArchiveEntryError('tar header checksum mismatch')
      const flag = String.fromCharCode(h[156]!)
      const ustar = h.subarray(257, 263).toString('latin1') === 'ustar\0'
      let size = number(h, 124, 12, 'size')
      const metaEntry = flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K'
      if (metaEntry && size > MAX_META)
        throw new UnsafeArchiveEntryError(`tar metadata entry of ${size} bytes is too large`)
      const padded = Math.ceil(size / BLOCK) * BLOCK
      if (metaEntry) {
        const parts: Buffer[] = []
        for await (const p of r.pieces(padded)) parts.push(p)
        const data = Buffer.concat(parts).subarray(0, size)
        if (flag === 'x') pax = parsePax(data)
        else if (flag === 'g')
          parsePax(data) // validated, then ignored: global defaults only
        else if (flag === 'L') longName = text(data, 0, data.length)
        else longLink = text(data, 0, data.length)
        continue
      }
      const prefix = ustar ? text(h, 345, 155) : ''
      const base = text(h, 0, 100)
      let name = longName ?? (prefix ? `${prefix}/${base}` : base)
      let linkname = longLink ?? text(h, 157, 100)
      name = pax.get('path') ?? name
      linkname = pax.get('linkpath') ?? linkname
      const paxSize = pax.get('size')
      if (paxSize !== undefined) {
        if (!/^\d+$/.test(paxSize)) throw new UnsafeArchiveEntryError(`bad pax size for ${name}`)
        size = Number(paxSize)
      }
      longName = undefined
      longLink = undefined
      pax = new Map()
      if (Buffer.byteLength(name) > MAX_PATH_BYTES || Buffer.byteLength(linkname) > MAX_PATH_BYTES)
        throw new UnsafeArchiveEntryError(`archive entry name too long: ${name.slice(0, 80)}…`)
      const type = TYPES[flag] ?? 'other'
      if (type !== 'file') size = type === 'other' ? size : 0 // links/dirs/devices carry no data
      if (size > limits.maxEntrySize)
        throw new UnsafeArchiveEntryError(
          `archive entry '${name}' is ${size} bytes, over the limit`,
        )
      if (r.consumed + size > limits.maxTotalBytes)
        throw new UnsafeArchiveEntryError(`archive is larger than the limit (at '${name}')`)
      const dataPadded = Math.ceil(size / BLOCK) * BLOCK
      let done = 0
      const entry: TarEntry = {
        name,
        type,
        flag,
        mode: number(h, 100, 8, 'mode') & 0o7777,
        size,
        linkname,
        body: async function* () {
          for await (const p of r.pieces(size - done)) {
            done += p.length
            yield p
          }
        },
      }
      yield entry
      await r.skip(dataPadded - done)
    }
  } finally {
    await r.close()
  }
}
