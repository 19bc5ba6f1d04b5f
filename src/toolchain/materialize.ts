/**
 * Builds a toolchain's directory tree from verified blobs, into a fresh directory the store later
 * renames into place. Writing never follows a symlink: directories are created one level at a
 * time inside the fresh directory, files with `O_CREAT|O_EXCL|O_NOFOLLOW`, and symlinks last, so
 * no write can pass through a link (the manifest forbids entries below a link anyway). Every
 * file is re-hashed while it is copied, catching a blob damaged on disk since it was verified.
 */
import { chmod, mkdir, rm, symlink } from 'node:fs/promises'
import { join } from 'node:path'
import { ToolchainIntegrityError } from '../errors.ts'
import type { ToolchainManifest } from './manifest.ts'
import { comparePaths } from './manifest-paths.ts'
import { copyHashing } from './safe-fs.ts'

/** Progress of a long operation: bytes done of total. */
export type Progress = (done: number, total: number) => void

const PARALLEL = 4

export async function materializeTree(
  manifest: ToolchainManifest,
  dir: string,
  blobPath: (sha256: string) => string,
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
  let done = 0
  let next = 0
  const worker = async () => {
    while (next < manifest.files.length) {
      signal?.throwIfAborted()
      const f = manifest.files[next++]!
      const dest = join(dir, f.path)
      const got = await copyHashing(blobPath(f.sha256), dest, f.mode, {
        ...(signal ? { signal } : {}),
        onBytes: (n) => {
          done += n
          onProgress?.(done, total)
        },
      })
      if (got.sha256 !== f.sha256) {
        await rm(dest, { force: true })
        throw new ToolchainIntegrityError(`stored blob ${f.sha256} (${f.path}) is damaged`)
      }
    }
  }
  await Promise.all(Array.from({ length: PARALLEL }, worker))
  for (const s of manifest.symlinks) await symlink(s.target, join(dir, s.path))
  // mkdir's mode passes through the umask; set the real modes explicitly.
  for (const d of ordered) await chmod(join(dir, d), 0o755)
  await chmod(dir, 0o755)
}
