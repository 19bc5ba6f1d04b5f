/**
 * File primitives for the toolchain store that never follow a symlink when writing: new files are
 * created with `O_CREAT|O_EXCL|O_NOFOLLOW` (an existing entry, a planted link included, makes the
 * write fail instead of going through it), and become visible only by `rename` from the store's
 * own temp directory.
 */
import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { DigestBuilder, type FileDigest } from './hash-file.ts'

const { O_CREAT, O_EXCL, O_NOFOLLOW, O_WRONLY, O_RDONLY } = constants
export const CREATE_FLAGS = O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY
export const READ_FLAGS = O_RDONLY | O_NOFOLLOW
const BUF = 1024 * 1024

export function tempName(dir: string, hint: string): string {
  return join(dir, `.${hint}-${process.pid}-${randomBytes(6).toString('hex')}`)
}

export function isErrno(err: unknown, ...codes: string[]): boolean {
  return codes.includes((err as NodeJS.ErrnoException | undefined)?.code ?? '')
}

/** Creates `path` exclusively (no following links), writes `data`, sets `mode`. */
export async function writeNewFile(path: string, data: Uint8Array, mode: number): Promise<void> {
  const fh = await open(path, CREATE_FLAGS, 0o600)
  try {
    await fh.writeFile(data)
    await fh.chmod(mode)
  } finally {
    await fh.close()
  }
}

/**
 * Copies `src` into a new file `dest` while hashing; returns the digest of what was written.
 * The caller compares it with what it expected (and deletes `dest` on mismatch).
 */
export async function copyHashing(
  src: string,
  dest: string,
  mode: number,
  { signal, onBytes }: { signal?: AbortSignal; onBytes?: (n: number) => void } = {},
): Promise<FileDigest> {
  const inp = await open(src, READ_FLAGS)
  let out: FileHandle | undefined
  try {
    out = await open(dest, CREATE_FLAGS, 0o600)
    const d = new DigestBuilder()
    const buf = Buffer.allocUnsafe(BUF)
    for (;;) {
      signal?.throwIfAborted()
      const { bytesRead } = await inp.read(buf, 0, BUF, null)
      if (bytesRead === 0) break
      const part = buf.subarray(0, bytesRead)
      d.update(part)
      await out.write(part)
      onBytes?.(bytesRead)
    }
    await out.chmod(mode)
    return d.finish()
  } finally {
    await inp.close()
    await out?.close()
  }
}

/** Moves a finished temp file into place; false when another writer got there first. */
export async function publish(temp: string, final: string): Promise<boolean> {
  try {
    // The parent usually exists already: make it only when the rename says it is missing.
    await rename(temp, final).catch(async (err: unknown) => {
      if (!isErrno(err, 'ENOENT')) throw err
      await mkdir(join(final, '..'), { recursive: true })
      await rename(temp, final)
    })
    return true
  } catch (err) {
    await rm(temp, { force: true, recursive: true })
    if (isErrno(err, 'EEXIST', 'ENOTEMPTY')) return false
    throw err
  }
}
