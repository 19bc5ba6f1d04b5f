/**
 * Builds a toolchain's directory tree from verified blobs, into a fresh directory the store later
 * renames into place. A file is a hard link to its blob (blobs are read-only, so a tree costs no
 * copy and no second write of the bytes); a file whose mode differs from its blob's (the same
 * content listed once as a program, once as data), or a store where links fail, gets a kernel
 * copy instead. Every blob is checked by the store before it goes in (`checkBlob`: re-hashed
 * unless this process verified it and it is unchanged since).
 *
 * Writing never follows a symlink: directories are created one level at a time inside the fresh
 * directory, `link` and exclusive copies never go through an existing entry, and symlinks come
 * last, so no write can pass through a link (the manifest forbids entries below a link anyway).
 */
import { constants } from 'node:fs'
import { chmod, copyFile, link, mkdir, symlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { ManifestFile, ToolchainManifest } from './manifest.ts'
import { comparePaths } from './manifest-paths.ts'
import { isErrno } from './safe-fs.ts'

/** Progress of a long operation: bytes done of total. */
export type Progress = (done: number, total: number) => void

/** The store's side: where a blob is, and its mode once checked (throws if damaged). */
export interface BlobAccess {
  path(sha256: string): string
  check(sha256: string, options: { signal?: AbortSignal }): Promise<number>
}

const PARALLEL = 8

export async function materializeTree(
  manifest: ToolchainManifest,
  dir: string,
  blobs: BlobAccess,
  { signal, onProgress }: { signal?: AbortSignal; onProgress?: Progress } = {},
): Promise<void> {
  await mkdir(dir, { mode: 0o700 })
  const dirs = new Set<string>()
  for (const e of [...manifest.files, ...manifest.symlinks]) {
    const parts = e.path.split('/')
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'))
  }
  // Byte order puts every directory before anything inside it.
  const ordered = [...dirs].sort(comparePaths)
  for (const d of ordered) await mkdir(join(dir, d), { mode: 0o755 })

  const total = manifest.files.reduce((a, f) => a + f.size, 0)
  const checked = new Map<string, Promise<number>>()
  const sig = signal ? { signal } : {}
  let done = 0
  let next = 0
  const worker = async () => {
    while (next < manifest.files.length) {
      signal?.throwIfAborted()
      const f = manifest.files[next++]!
      let mode = checked.get(f.sha256)
      if (mode === undefined) {
        mode = blobs.check(f.sha256, sig)
        checked.set(f.sha256, mode)
      }
      await place(blobs.path(f.sha256), await mode, join(dir, f.path), f)
      done += f.size
      onProgress?.(done, total)
    }
  }
  await Promise.all(Array.from({ length: PARALLEL }, worker))
  for (const s of manifest.symlinks) await symlink(s.target, join(dir, s.path))
  // mkdir's mode passes through the umask; set the real modes explicitly.
  for (const d of ordered) await chmod(join(dir, d), 0o755)
  await chmod(dir, 0o755)
}

async function place(blob: string, blobMode: number, dest: string, f: ManifestFile) {
  const exec = (f.mode & 0o111) !== 0
  if (exec === ((blobMode & 0o111) !== 0)) {
    try {
      await link(blob, dest)
      return
    } catch (err) {
      // Another file system, or a link limit: copy instead.
      if (!isErrno(err, 'EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP')) throw err
    }
  }
  await copyFile(blob, dest, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE)
  await chmod(dest, exec ? 0o555 : 0o444)
}
