import { type FileHandle, mkdir, open, readdir, readFile, rm, stat } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import {
  ToolchainIncompleteError,
  ToolchainIntegrityError,
  ToolchainManifestError,
  ToolchainNotFoundError,
} from '../errors.ts'
import { chunkCount, chunkRange } from './limits.ts'
import {
  decodeManifest,
  type ManifestFile,
  manifestId,
  type ToolchainManifest,
} from './manifest.ts'
import { materializeTree, type Progress } from './materialize.ts'
import { PartialFile, readPartialChunk } from './partial-file.ts'
import { copyHashing, isErrno, publish, READ_FLAGS, tempName, writeNewFile } from './safe-fs.ts'
import { sha256Off, VerifiedBlobs } from './verified-blobs.ts'

const HEX64 = /^[0-9a-f]{64}$/

export interface ChunkRef {
  fileSha256: string
  index: number
  /** Expected SHA-256 of the chunk (the file's hash for a one-chunk file). */
  sha256: string
  size: number
}

export interface ToolchainSummary {
  id: string
  platform: string
  targets: string[]
  drivers: ToolchainManifest['drivers']
  compilerId: string
  files: number
  symlinks: number
  /** Sum of the file sizes (what materialising it occupies). */
  bytes: number
  /** All blobs present locally. */
  complete: boolean
  materialized: boolean
}

export interface StoreUsage {
  toolchains: number
  blobs: number
  blobBytes: number
  trees: number
  treeBytes: number
}

type FileInfo = Pick<ManifestFile, 'size' | 'sha256' | 'chunks'> & { mode?: number }

/** Read-only blob mode, executable when the file that brought it in is. */
export function blobMode(mode: number | undefined): number {
  return (mode ?? 0) & 0o111 ? 0o555 : 0o444
}

export class ToolchainStore {
  readonly root: string
  #files: Map<string, FileInfo> | undefined
  #materializing = new Map<string, Promise<string>>()
  /** Large files being received, by hash. */
  #partials = new Map<string, Promise<PartialFile>>()
  /** Transfers filling toolchains' blobs, by id (see {@link filling}). */
  #filling = new Map<string, Promise<unknown>>()
  /** Blobs verified by this process, with their stat data at the time. */
  #verified = new VerifiedBlobs()

  constructor(root: string) {
    this.root = root
  }

  blobPath(sha256: string): string {
    return join(this.root, 'blobs', 'sha256', sha256.slice(0, 2), sha256)
  }
  treePath(id: string): string {
    return join(this.root, 'trees', checkId(id))
  }
  #manifestPath(id: string): string {
    return join(this.root, 'manifests', checkId(id))
  }
  #tmpMade: Promise<string> | undefined
  // Made once per store object (the store never removes it).
  #tmp(): Promise<string> {
    const dir = join(this.root, 'tmp')
    this.#tmpMade ??= mkdir(dir, { recursive: true }).then(() => dir)
    this.#tmpMade.catch(() => {
      this.#tmpMade = undefined
    })
    return this.#tmpMade
  }

  async has(id: string): Promise<boolean> {
    return exists(this.#manifestPath(id))
  }

  /**
   * `has`, in one synchronous stat: for a builder's reservation, where the promise API's
   * thread-pool round trip sat on the job's critical path.
   */
  hasSync(id: string): boolean {
    return existsSync(this.#manifestPath(id))
  }

  async hasBlob(sha256: string): Promise<boolean> {
    return exists(this.blobPath(checkId(sha256)))
  }

  /** The manifest of a stored toolchain, re-verified against its id. */
  async getManifest(id: string): Promise<{ bytes: Uint8Array; manifest: ToolchainManifest }> {
    let bytes: Uint8Array
    try {
      bytes = await readFile(this.#manifestPath(id))
    } catch (err) {
      if (isErrno(err, 'ENOENT'))
        throw new ToolchainNotFoundError(`no toolchain ${id} on this node`)
      throw err
    }
    if (manifestId(bytes) !== id)
      throw new ToolchainIntegrityError(`stored manifest ${id} does not match its id`)
    return { bytes, manifest: decodeManifest(bytes) }
  }

  /** Accepts manifest bytes (decoded strictly, hashed); returns the toolchain id. */
  async putManifest(
    bytes: Uint8Array,
    { expectedId }: { expectedId?: string } = {},
  ): Promise<string> {
    const manifest = decodeManifest(bytes)
    const id = manifestId(bytes)
    if (expectedId !== undefined && id !== expectedId)
      throw new ToolchainIntegrityError(`manifest hashes to ${id}, not the requested ${expectedId}`)
    if (!(await this.has(id))) {
      const temp = tempName(await this.#tmp(), 'manifest')
      await writeNewFile(temp, bytes, 0o444)
      await publish(temp, this.#manifestPath(id))
    }
    const files = await this.#fileIndex()
    for (const f of manifest.files) indexFile(files, f)
    return id
  }

  /** Files of the manifest whose content this node lacks (one per distinct hash). */
  async missingBlobs(manifest: ToolchainManifest): Promise<ManifestFile[]> {
    const seen = new Set<string>()
    const missing: ManifestFile[] = []
    for (const f of manifest.files) {
      if (seen.has(f.sha256)) continue
      seen.add(f.sha256)
      if (!(await this.hasBlob(f.sha256))) missing.push(f)
    }
    return missing
  }

  /** Chunks still to fetch for a stored toolchain (chunks already received are left out). */
  async missingChunks(id: string): Promise<ChunkRef[]> {
    const { manifest } = await this.getManifest(id)
    const out: ChunkRef[] = []
    for (const f of await this.missingBlobs(manifest)) {
      const have = new Set(await readdir(this.#partialDir(f.sha256)).catch(() => []))
      for (let i = 0; i < chunkCount(f.size); i++) {
        if (have.has(String(i))) continue
        const { start, end } = chunkRange(f.size, i)
        out.push({
          fileSha256: f.sha256,
          index: i,
          sha256: f.chunks?.[i] ?? f.sha256,
          size: end - start,
        })
      }
    }
    return out
  }

  /** One chunk of a blob (or of a partially received file), for serving to peers. */
  async readChunk(fileSha256: string, index: number): Promise<Uint8Array> {
    const path = this.blobPath(checkId(fileSha256))
    let fh: FileHandle
    try {
      fh = await open(path, READ_FLAGS)
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err
      return this.#readPartial(fileSha256, checkIndex(index))
    }
    try {
      const size = (await fh.stat()).size
      if (!Number.isSafeInteger(index) || index < 0 || index >= chunkCount(size))
        throw new ToolchainNotFoundError(`blob ${fileSha256} has no chunk ${index}`)
      const { start, end } = chunkRange(size, index)
      const buf = Buffer.alloc(end - start)
      const { bytesRead } = await fh.read(buf, 0, buf.length, start)
      if (bytesRead !== buf.length) throw new ToolchainIntegrityError(`blob ${fileSha256} is short`)
      return buf
    } finally {
      await fh.close()
    }
  }

  /**
   * Verifies a received chunk against the stored manifests and keeps it; when the file is then
   * complete it is assembled, verified as a whole and published as a blob.
   */
  async writeChunk(
    fileSha256: string,
    index: number,
    bytes: Uint8Array,
  ): Promise<{ complete: boolean }> {
    let info = (await this.#fileIndex()).get(checkId(fileSha256))
    if (info === undefined) {
      // Another process may have stored the manifest since the index was loaded.
      this.#files = undefined
      info = (await this.#fileIndex()).get(fileSha256)
    }
    if (info === undefined)
      throw new ToolchainNotFoundError(`no stored manifest lists the file ${fileSha256}`)
    if (await this.hasBlob(fileSha256)) return { complete: true }
    const n = chunkCount(info.size)
    if (!Number.isSafeInteger(index) || index < 0 || index >= n)
      throw new ToolchainIntegrityError(`file ${fileSha256} has no chunk ${index}`)
    const { start, end } = chunkRange(info.size, index)
    const want = info.chunks?.[index] ?? info.sha256
    if (bytes.byteLength !== end - start || (await sha256Off(bytes)) !== want)
      throw new ToolchainIntegrityError(
        `chunk ${index} of file ${fileSha256} does not match its hash`,
      )
    const blob = this.blobPath(fileSha256)
    if (n === 1) {
      const temp = tempName(await this.#tmp(), 'blob')
      await writeNewFile(temp, bytes, blobMode(info.mode))
      if (await publish(temp, blob)) await this.#verified.record(fileSha256, blob)
      return { complete: true }
    }
    const partial = await this.#partial(info)
    let complete: boolean
    try {
      complete = await partial.write(index, bytes, blob)
    } catch (err) {
      this.#partials.delete(fileSha256)
      // Another process may have finished the same file meanwhile.
      if (await this.hasBlob(fileSha256)) return { complete: true }
      throw err
    }
    if (!complete) return { complete: false }
    this.#partials.delete(fileSha256)
    await this.#verified.record(fileSha256, blob)
    return { complete: true }
  }

  #partial(info: FileInfo): Promise<PartialFile> {
    let p = this.#partials.get(info.sha256)
    if (!p) {
      p = PartialFile.open(
        { sha256: info.sha256, size: info.size, blobMode: blobMode(info.mode) },
        this.#partialDir(info.sha256),
      )
      p.catch(() => this.#partials.delete(info.sha256))
      this.#partials.set(info.sha256, p)
    }
    return p
  }

  async #readPartial(fileSha256: string, index: number): Promise<Uint8Array> {
    const pending = this.#partials.get(fileSha256)
    const partial = pending ? await pending.catch(() => undefined) : undefined
    if (partial?.has(index) && !partial.complete) return partial.read(index)
    // Written by an earlier process: the marker says the data is there.
    const info = (await this.#fileIndex()).get(fileSha256)
    const got = info && (await readPartialChunk(this.#partialDir(fileSha256), info.size, index))
    if (got) return got
    throw new ToolchainNotFoundError(`no blob ${fileSha256} (chunk ${index}) on this node`)
  }

  /**
   * The mode of a blob about to go into a tree, after making sure it still holds what it was
   * verified to hold (see `verified-blobs.ts`).
   */
  checkBlob(sha256: string, options: { signal?: AbortSignal } = {}): Promise<number> {
    return this.#verified.check(sha256, this.blobPath(checkId(sha256)), options)
  }

  /** Copies a local file into the store, verifying it still has the digest it was packaged with. */
  async putBlobFromFile(
    src: string,
    expected: FileInfo,
    options: { signal?: AbortSignal; onBytes?: (n: number) => void } = {},
  ): Promise<void> {
    if (await this.hasBlob(expected.sha256)) return
    const temp = tempName(await this.#tmp(), 'blob')
    const got = await copyHashing(src, temp, blobMode(expected.mode), options).catch(
      async (err) => {
        await rm(temp, { force: true })
        throw err
      },
    )
    if (got.sha256 !== expected.sha256 || got.size !== expected.size) {
      await rm(temp, { force: true })
      throw new ToolchainIntegrityError(`${src} changed while it was being stored`)
    }
    if (await publish(temp, this.blobPath(expected.sha256)))
      await this.#verified.record(expected.sha256, this.blobPath(expected.sha256))
  }

  /** The toolchain as a directory tree (built once, atomically); returns its root. */
  materialize(
    id: string,
    options: { signal?: AbortSignal; onProgress?: Progress } = {},
  ): Promise<string> {
    const running = this.#materializing.get(id)
    if (running) return running
    // Built already (the usual case, once per job): one synchronous stat, no thread-pool trip.
    const final = this.treePath(id)
    if (!this.#filling.has(id) && existsSync(final)) return Promise.resolve(final)
    const p = this.#materialize(id, options).finally(() => this.#materializing.delete(id))
    this.#materializing.set(id, p)
    return p
  }

  /**
   * A transfer in this process is filling `id`'s blobs until `done` settles: materialising `id`
   * meanwhile waits for it, so a job that finds the manifest already stored mid-transfer joins
   * the transfer instead of failing on a tree that cannot be built yet.
   */
  filling(id: string, done: Promise<unknown>): void {
    const p: Promise<unknown> = done
      .catch(() => {})
      .finally(() => {
        if (this.#filling.get(id) === p) this.#filling.delete(id)
      })
    this.#filling.set(id, p)
  }

  async #materialize(id: string, options: { signal?: AbortSignal; onProgress?: Progress }) {
    const final = this.treePath(id)
    const pending = this.#filling.get(id)
    if (pending !== undefined) await untilSettled(pending, options.signal)
    if (await exists(final)) return final
    const { manifest } = await this.getManifest(id)
    const missing = await this.missingBlobs(manifest)
    if (missing.length > 0)
      throw new ToolchainIncompleteError(
        `toolchain ${id} lacks ${missing.length} files on this node`,
      )
    await mkdir(join(this.root, 'trees'), { recursive: true })
    const temp = tempName(join(this.root, 'trees'), id.slice(0, 16))
    try {
      await materializeTree(
        manifest,
        temp,
        { path: (sha) => this.blobPath(sha), check: (sha, o) => this.checkBlob(sha, o) },
        options,
      )
    } catch (err) {
      await rm(temp, { recursive: true, force: true })
      throw err
    }
    await publish(temp, final)
    return final
  }

  async list(): Promise<ToolchainSummary[]> {
    const out: ToolchainSummary[] = []
    for (const id of await this.#ids()) {
      let manifest: ToolchainManifest
      try {
        manifest = (await this.getManifest(id)).manifest
      } catch (err) {
        if (err instanceof ToolchainManifestError || err instanceof ToolchainIntegrityError)
          continue
        throw err
      }
      out.push({
        id,
        platform: manifest.platform,
        targets: manifest.targets,
        drivers: manifest.drivers,
        compilerId: manifest.compilerId,
        files: manifest.files.length,
        symlinks: manifest.symlinks.length,
        bytes: manifest.files.reduce((a, f) => a + f.size, 0),
        complete: (await this.missingBlobs(manifest)).length === 0,
        materialized: await exists(this.treePath(id)),
      })
    }
    return out
  }

  /** Forgets a toolchain: its tree, its manifest, and blobs no other toolchain uses. */
  async remove(id: string): Promise<{ freedBytes: number }> {
    if (!(await this.has(id))) throw new ToolchainNotFoundError(`no toolchain ${id} on this node`)
    await rm(this.treePath(id), { recursive: true, force: true })
    await rm(this.#manifestPath(id), { force: true })
    this.#files = undefined
    const keep = new Set((await this.#fileIndex()).keys())
    let freedBytes = 0
    for (const { sha, path, size } of await this.#blobs()) {
      if (keep.has(sha)) continue
      await rm(path, { force: true })
      freedBytes += size
    }
    // Packed (compressed) copies of pieces, kept by the transfer service: `packed/ab/<sha>.<i>`.
    for (const pre of await readdir(join(this.root, 'packed')).catch(() => [] as string[]))
      for (const name of await readdir(join(this.root, 'packed', pre)).catch(() => [] as string[]))
        if (!keep.has(name.slice(0, 64)))
          await rm(join(this.root, 'packed', pre, name), { force: true })
    for (const sha of await readdir(join(this.root, 'partial')).catch(() => [] as string[])) {
      if (keep.has(sha)) continue
      const pending = this.#partials.get(sha)
      this.#partials.delete(sha)
      await (await pending?.catch(() => undefined))?.close()
      await rm(this.#partialDir(sha), { recursive: true, force: true })
    }
    return { freedBytes }
  }

  async usage(): Promise<StoreUsage> {
    const blobs = await this.#blobs()
    const list = await this.list()
    const trees = list.filter((t) => t.materialized)
    return {
      toolchains: list.length,
      blobs: blobs.length,
      blobBytes: blobs.reduce((a, b) => a + b.size, 0),
      trees: trees.length,
      treeBytes: trees.reduce((a, t) => a + t.bytes, 0),
    }
  }

  #partialDir(sha256: string): string {
    return join(this.root, 'partial', checkId(sha256))
  }

  async #ids(): Promise<string[]> {
    const names = await readdir(join(this.root, 'manifests')).catch(() => [] as string[])
    return names.filter((n) => HEX64.test(n)).sort()
  }

  async #blobs(): Promise<{ sha: string; path: string; size: number }[]> {
    const base = join(this.root, 'blobs', 'sha256')
    const out: { sha: string; path: string; size: number }[] = []
    for (const pre of await readdir(base).catch(() => [] as string[])) {
      for (const sha of await readdir(join(base, pre)).catch(() => [] as string[])) {
        const path = join(base, pre, sha)
        out.push({ sha, path, size: (await stat(path)).size })
      }
    }
    return out
  }

  // hash → size and chunk hashes, over every stored manifest: what writeChunk verifies against.
  async #fileIndex(): Promise<Map<string, FileInfo>> {
    if (this.#files) return this.#files
    const files = new Map<string, FileInfo>()
    for (const id of await this.#ids()) {
      try {
        for (const f of (await this.getManifest(id)).manifest.files) indexFile(files, f)
      } catch {
        // A damaged manifest names nothing; list() skips it too.
      }
    }
    this.#files ??= files
    return this.#files
  }
}

function checkId(id: string): string {
  if (!HEX64.test(id)) throw new ToolchainNotFoundError(`'${id}' is not a toolchain or file hash`)
  return id
}

// Content listed both as a program and as data is stored executable: programs are the big files
// worth a hard link; the data copy gets a real copy.
function indexFile(files: Map<string, FileInfo>, f: ManifestFile): void {
  const had = files.get(f.sha256)
  if (had === undefined || !((had.mode ?? 0) & 0o111)) files.set(f.sha256, f)
}

function untilSettled(p: Promise<unknown>, signal: AbortSignal | undefined): Promise<unknown> {
  if (signal === undefined) return p
  signal.throwIfAborted()
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    p.then(resolve, resolve).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

function checkIndex(index: number): number {
  if (!Number.isSafeInteger(index) || index < 0)
    throw new ToolchainNotFoundError(`bad chunk ${index}`)
  return index
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return false
    throw err
  }
}
