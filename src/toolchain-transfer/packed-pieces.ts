/**
 * Compressed pieces at rest (`<store>/packed/ab/<sha256>.<index>`), so that serving a toolchain
 * costs a read, not a compression, and survives a restart. A file holds the piece's decoded size
 * (u32, big-endian) and then its zstd frame; a file of just the size records a piece that does
 * not compress (sent as is). Entries come from three places: this node compressing a piece for a
 * requester, the background packing of a toolchain this node made (`packToolchain`), and the
 * compressed pieces this node received and verified while fetching. Nothing here is trusted by a
 * requester: it decodes every piece, bounded by the size it expects, and checks its hash.
 */
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { tempName } from '../toolchain/safe-fs.ts'

export interface PackedEntry {
  enc: 'identity' | 'zstd'
  /** The zstd frame (undefined for a piece that goes as is). */
  body: Uint8Array | undefined
  /** Decoded size. */
  size: number
}

const HEX64 = /^[0-9a-f]{64}$/
/** Largest packed file read back (a chunk is at most 4 MiB before compression). */
const MAX_PACKED = 4 * 1024 * 1024 + 1024

export class PackedPieces {
  readonly dir: string

  constructor(dir: string) {
    this.dir = dir
  }

  #path(file: string, index: number): string | undefined {
    if (!HEX64.test(file) || !Number.isSafeInteger(index) || index < 0) return undefined
    return join(this.dir, file.slice(0, 2), `${file}.${index}`)
  }

  /** The packed piece for a cache key (`<sha256>/<index>`), if kept. */
  async read(key: string): Promise<PackedEntry | undefined> {
    const [file = '', index = ''] = key.split('/')
    const path = this.#path(file, Number(index))
    if (path === undefined) return undefined
    let buf: Buffer
    try {
      buf = await readFile(path)
    } catch {
      return undefined
    }
    if (buf.byteLength < 4 || buf.byteLength > MAX_PACKED) return undefined
    const size = buf.readUInt32BE(0)
    if (buf.byteLength === 4) return { enc: 'identity', body: undefined, size }
    return { enc: 'zstd', body: buf.subarray(4), size }
  }

  /** Keeps a packed piece (best effort: a failure only costs a compression later). */
  async write(key: string, entry: PackedEntry): Promise<void> {
    const [file = '', index = ''] = key.split('/')
    const path = this.#path(file, Number(index))
    if (path === undefined) return
    const head = Buffer.allocUnsafe(4)
    head.writeUInt32BE(entry.size, 0)
    const dir = join(path, '..')
    await mkdir(dir, { recursive: true })
    const temp = tempName(dir, 'packed')
    try {
      await writeFile(temp, entry.body ? Buffer.concat([head, entry.body]) : head, { flag: 'wx' })
      await rename(temp, path)
    } catch {
      await rm(temp, { force: true })
    }
  }

  /** Forgets every packed piece of a file (its blob was removed). */
  async removeFile(file: string): Promise<void> {
    if (!HEX64.test(file)) return
    const dir = join(this.dir, file.slice(0, 2))
    for (const name of await readdir(dir).catch(() => [] as string[]))
      if (name.startsWith(`${file}.`)) await rm(join(dir, name), { force: true })
  }
}
