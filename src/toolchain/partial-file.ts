/**
 * A large file received chunk by chunk and written once. Each chunk, already verified against
 * its hash by the store, goes straight to its offset in `partial/<sha256>/data`; an empty marker
 * `partial/<sha256>/<index>` then records it, so a restarted node resumes where it stopped and
 * chunks already here can be served to other members. The whole file's hash is computed while
 * the chunks arrive, in order: a chunk that arrives ahead of its turn is read back from the page
 * cache when its turn comes, never written twice. When the last chunk is in and the whole file
 * hashes to its name (a manifest whose chunk list and file hash disagree must never put a blob
 * under a false name), the data file is published as the blob by rename.
 */
import { createHash, type Hash } from 'node:crypto'
import { constants } from 'node:fs'
import { type FileHandle, mkdir, open, readdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { ToolchainIntegrityError } from '../errors.ts'
import { chunkCount, chunkRange } from './limits.ts'
import { isErrno, publish } from './safe-fs.ts'

const { O_CREAT, O_RDWR, O_NOFOLLOW } = constants

export interface PartialInfo {
  sha256: string
  size: number
  /** Mode the blob gets when published (0444 or 0555). */
  blobMode: number
}

export class PartialFile {
  readonly info: PartialInfo
  readonly dir: string
  readonly #n: number
  readonly #fh: FileHandle
  readonly #have: Set<number>
  readonly #hash: Hash = createHash('sha256')
  #next = 0
  #chain: Promise<unknown> = Promise.resolve()
  #done = false

  private constructor(info: PartialInfo, dir: string, fh: FileHandle, have: Set<number>) {
    this.info = info
    this.dir = dir
    this.#n = chunkCount(info.size)
    this.#fh = fh
    this.#have = have
  }

  /** Opens (or resumes) the partial file of `info` in `dir`. */
  static async open(info: PartialInfo, dir: string): Promise<PartialFile> {
    await mkdir(dir, { recursive: true, mode: 0o700 })
    const fh = await open(join(dir, 'data'), O_CREAT | O_RDWR | O_NOFOLLOW, 0o600)
    const have = new Set<number>()
    for (const name of await readdir(dir))
      if (/^(0|[1-9][0-9]*)$/.test(name)) have.add(Number(name))
    // Markers without the data behind them (a store of an older layout): start this file over.
    const size = (await fh.stat()).size
    if ([...have].some((i) => chunkRange(info.size, i).end > size)) {
      for (const i of have) await rm(join(dir, String(i)), { force: true })
      have.clear()
    }
    return new PartialFile(info, dir, fh, have)
  }

  get complete(): boolean {
    return this.#done
  }

  has(index: number): boolean {
    return this.#have.has(index)
  }

  /** Chunk `index` as written so far (only for chunks already recorded). */
  async read(index: number): Promise<Buffer> {
    const { start, end } = chunkRange(this.info.size, index)
    const buf = Buffer.allocUnsafe(end - start)
    const { bytesRead } = await this.#fh.read(buf, 0, buf.length, start)
    if (bytesRead !== buf.length)
      throw new ToolchainIntegrityError(`partial file ${this.info.sha256} is short`)
    return buf
  }

  /**
   * Writes verified chunk `index`; resolves true when this write completed the file and it was
   * published at `blobPath`. A whole-file mismatch removes the partial file and rejects.
   */
  async write(index: number, bytes: Uint8Array, blobPath: string): Promise<boolean> {
    if (this.#done) return true
    if (!this.#have.has(index)) {
      const { start } = chunkRange(this.info.size, index)
      await this.#fh.write(bytes, 0, bytes.byteLength, start)
      await writeMarker(join(this.dir, String(index)))
      this.#have.add(index)
    }
    // One in-order hashing step at a time; the bytes in hand save reading this chunk back.
    const step = this.#chain.then(() => this.#advance(index, bytes, blobPath))
    this.#chain = step.catch(() => {})
    return step
  }

  async close(): Promise<void> {
    await this.#fh.close().catch(() => {})
  }

  async #advance(index: number, bytes: Uint8Array, blobPath: string): Promise<boolean> {
    if (this.#done) return false
    while (this.#next < this.#n && this.#have.has(this.#next)) {
      this.#hash.update(this.#next === index ? bytes : await this.read(this.#next))
      this.#next++
    }
    if (this.#next < this.#n) return false
    this.#done = true
    const got = this.#hash.digest('hex')
    if (got !== this.info.sha256) {
      await this.close()
      await rm(this.dir, { recursive: true, force: true })
      throw new ToolchainIntegrityError(
        `assembled file ${this.info.sha256} does not match its hash`,
      )
    }
    await this.#fh.chmod(this.info.blobMode)
    await this.close()
    await publish(join(this.dir, 'data'), blobPath)
    await rm(this.dir, { recursive: true, force: true })
    return true
  }
}

async function writeMarker(path: string): Promise<void> {
  try {
    const fh = await open(path, constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW, 0o400)
    await fh.close()
  } catch (err) {
    if (!isErrno(err, 'EEXIST')) throw err
  }
}

/** Chunk `index` of a partial file left by an earlier process (its marker says it is there). */
export async function readPartialChunk(
  dir: string,
  size: number,
  index: number,
): Promise<Buffer | undefined> {
  if (!Number.isSafeInteger(index) || index < 0 || index >= chunkCount(size)) return undefined
  try {
    await stat(join(dir, String(index)))
    const fh = await open(join(dir, 'data'), constants.O_RDONLY | O_NOFOLLOW)
    try {
      const { start, end } = chunkRange(size, index)
      const buf = Buffer.alloc(end - start)
      const { bytesRead } = await fh.read(buf, 0, buf.length, start)
      return bytesRead === buf.length ? buf : undefined
    } finally {
      await fh.close()
    }
  } catch {
    return undefined
  }
}
