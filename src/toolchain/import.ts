/**
 * `meshcc toolchain add PATH`: imports a developer-named toolchain, a directory or a tar archive
 * (plain, gzip, zstd, xz, bzip2 — e.g. an icecc-create-env tarball), for a given host platform.
 *
 * Only regular files, directories and relative symlinks that resolve inside are accepted;
 * absolute names, `..`, links outside, devices, fifos, hard links to anything but an earlier
 * file, oversized entries and too many entries are refused with `UnsafeArchiveEntryError`
 * naming the entry, and nothing is stored. Archive content is staged inside the store's own tmp
 * directory (exclusive, no-follow creates; symlinks are never created while staging, so nothing
 * can be written through one) and published as blobs only after every check passed.
 *
 * @example
 * ```ts
 * const id = await importToolchain(store, 'mingw.tar.zst', { platform: 'linux-x86_64' })
 * ```
 */
import { chmod, lstat, mkdir, open, readdir, readlink, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { UnsafeArchiveEntryError } from '../errors.ts'
import { type CollectedToolchain, hashTree, type PhaseProgress } from './collect-files.ts'
import { openArchive } from './decompress.ts'
import { DigestBuilder, type FileDigest } from './hash-file.ts'
import { detectDrivers } from './import-drivers.ts'
import { DEFAULT_MAX_ENTRIES, EntryTable, normalizeEntryName } from './import-rules.ts'
import { ingestToolchain } from './ingest.ts'
import { MAX_FILE_BYTES, MAX_TOOLCHAIN_BYTES } from './limits.ts'
import { buildManifest, encodeManifest, manifestId, type ToolchainLanguage } from './manifest.ts'
import { CREATE_FLAGS, publish, tempName } from './safe-fs.ts'
import type { ToolchainStore } from './store.ts'

export interface ImportOptions {
  platform: string
  targets?: string[]
  drivers?: Partial<Record<ToolchainLanguage, string>>
  compilerId?: string
  maxEntries?: number
  maxEntrySize?: number
  maxTotalBytes?: number
  signal?: AbortSignal
  onProgress?: PhaseProgress
}

export async function importToolchain(
  store: ToolchainStore,
  path: string,
  options: ImportOptions,
): Promise<string> {
  const st = await lstat(path)
  if (st.isDirectory()) return importDirectory(store, path, options)
  if (st.isFile()) return importArchive(store, path, options)
  throw new UnsafeArchiveEntryError(`${path} is neither a directory nor an archive file`)
}

function meta(table: EntryTable, options: ImportOptions) {
  const paths = [...table.files.keys(), ...table.links.keys()]
  const guess = detectDrivers(paths, options.targets?.[0])
  const drivers = options.drivers ?? guess.drivers
  const c = drivers.c ?? drivers['c++'] ?? ''
  return {
    platform: options.platform,
    targets: options.targets ?? [guess.target],
    drivers,
    compilerId: options.compilerId ?? `${c.split('/').at(-1)} for ${guess.target}`,
  }
}

export async function importDirectory(
  store: ToolchainStore,
  dir: string,
  options: ImportOptions,
): Promise<string> {
  const table = new EntryTable(options.maxEntries ?? DEFAULT_MAX_ENTRIES)
  const walk = async (rel: string): Promise<void> => {
    const names = (await readdir(join(dir, rel))).sort()
    for (const name of names) {
      const path = rel === '' ? name : `${rel}/${name}`
      const abs = join(dir, path)
      const st = await lstat(abs)
      if (st.isSymbolicLink()) table.addLink(path, path, await readlink(abs))
      else if (st.isDirectory()) {
        table.addDir(path, path)
        await walk(path)
      } else if (st.isFile()) {
        if (st.size > (options.maxEntrySize ?? MAX_FILE_BYTES))
          throw new UnsafeArchiveEntryError(`'${path}' is ${st.size} bytes, over the limit`)
        table.addFile(path, path, st.mode & 0o777, abs)
      } else throw new UnsafeArchiveEntryError(`'${path}' is not a file, directory or symlink`)
    }
  }
  await walk('')
  table.checkLinks()
  const files = new Map([...table.files].map(([p, f]) => [p, f.source]))
  const collected = await hashTree({ files, symlinks: table.links }, meta(table, options), options)
  return ingestToolchain(store, collected, options)
}

export async function importArchive(
  store: ToolchainStore,
  archive: string,
  options: ImportOptions,
): Promise<string> {
  const { readTar } = await import('./tar-reader.ts')
  await mkdir(join(store.root, 'tmp'), { recursive: true })
  const staging = tempName(join(store.root, 'tmp'), 'import')
  await mkdir(staging, { mode: 0o700 })
  const table = new EntryTable(options.maxEntries ?? DEFAULT_MAX_ENTRIES)
  const digests = new Map<string, FileDigest>()
  const { stream, close } = await openArchive(
    archive,
    options.signal ? { signal: options.signal } : {},
  )
  let n = 0
  let bytes = 0
  try {
    const limits = {
      maxEntrySize: options.maxEntrySize ?? MAX_FILE_BYTES,
      maxTotalBytes: options.maxTotalBytes ?? MAX_TOOLCHAIN_BYTES,
    }
    for await (const e of readTar(stream, limits)) {
      options.signal?.throwIfAborted()
      const path = normalizeEntryName(e.name)
      switch (e.type) {
        case 'dir':
          table.addDir(path, e.name)
          break
        case 'symlink':
          table.addLink(path, e.name, e.linkname)
          break
        case 'hardlink': {
          const to = table.files.get(normalizeEntryName(e.linkname))
          if (to === undefined)
            throw new UnsafeArchiveEntryError(
              `'${e.name}': hard link to '${e.linkname}', which is not an earlier file of the archive`,
            )
          table.addFile(path, e.name, to.mode, to.source)
          break
        }
        case 'file': {
          if (path === '') throw new UnsafeArchiveEntryError(`'${e.name}': file without a name`)
          const staged = join(staging, String(n++))
          table.addFile(path, e.name, e.mode & 0o777, staged)
          const fh = await open(staged, CREATE_FLAGS, 0o600)
          const d = new DigestBuilder()
          try {
            for await (const piece of e.body()) {
              d.update(piece)
              await fh.write(piece)
              bytes += piece.length
              options.onProgress?.('unpacking', bytes, 0)
            }
          } finally {
            await fh.close()
          }
          digests.set(staged, d.finish())
          break
        }
        default:
          throw new UnsafeArchiveEntryError(
            `'${e.name}': ${e.type === 'other' ? `entry type '${e.flag}'` : `${e.type} device or fifo`} is not allowed`,
          )
      }
    }
    table.checkLinks()
    const files = [...table.files].map(([path, f]) => ({
      path,
      mode: f.mode,
      ...digests.get(f.source)!,
    }))
    const manifest = buildManifest({
      ...meta(table, options),
      files,
      symlinks: [...table.links].map(([path, target]) => ({ path, target })),
    })
    const mbytes = encodeManifest(manifest)
    const sources = new Map(
      [...table.files.values()].map((f) => [digests.get(f.source)!.sha256, f.source]),
    )
    const collected: CollectedToolchain = {
      id: manifestId(mbytes),
      bytes: mbytes,
      manifest,
      sources,
    }
    // Staged files are already verified copies: move them into place instead of copying again,
    // executable where some file of that content is (so trees can hard-link them).
    const exec = new Set(manifest.files.filter((f) => f.mode & 0o111).map((f) => f.sha256))
    for (const [sha, src] of sources) {
      if (await store.hasBlob(sha)) continue
      await chmod(src, exec.has(sha) ? 0o555 : 0o444)
      await publish(src, store.blobPath(sha))
    }
    return await ingestToolchain(store, collected, options)
  } finally {
    close()
    await rm(staging, { recursive: true, force: true })
  }
}
