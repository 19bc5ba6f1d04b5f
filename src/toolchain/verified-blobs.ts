/**
 * What this process knows about the blobs it verified: each blob's inode, size and mtime right
 * after it was hashed and written. A blob about to go into a tree (as a hard link) is re-hashed
 * only when it was not verified by this process or its stat data changed since (a write changes
 * the mtime and usually the size; replacing the file changes the inode), so a fresh pull is
 * linked into place without reading 45 MiB again, and a blob damaged on disk is still caught.
 */
import { createHash, webcrypto } from 'node:crypto'
import type { Stats } from 'node:fs'
import { lstat } from 'node:fs/promises'
import { ToolchainIntegrityError } from '../errors.ts'
import { hashFile } from './hash-file.ts'

interface Stamp {
  ino: number
  size: number
  mtimeMs: number
}

const stampOf = (st: Stats): Stamp => ({ ino: st.ino, size: st.size, mtimeMs: st.mtimeMs })

export class VerifiedBlobs {
  readonly #seen = new Map<string, Stamp>()

  /** `path` was just verified to hold `sha256`. */
  async record(sha256: string, path: string): Promise<void> {
    const st = await lstat(path).catch(() => undefined)
    if (st?.isFile()) this.#seen.set(sha256, stampOf(st))
  }

  /** The blob's mode, once sure it holds `sha256` (throws ToolchainIntegrityError if not). */
  async check(
    sha256: string,
    path: string,
    { signal }: { signal?: AbortSignal } = {},
  ): Promise<number> {
    const st = await lstat(path)
    const seen = this.#seen.get(sha256)
    const now = stampOf(st)
    const same =
      seen !== undefined &&
      seen.ino === now.ino &&
      seen.size === now.size &&
      seen.mtimeMs === now.mtimeMs
    if (!st.isFile() || !same) {
      const got = st.isFile() ? await hashFile(path, signal ? { signal } : {}) : undefined
      if (got?.sha256 !== sha256) {
        this.#seen.delete(sha256)
        throw new ToolchainIntegrityError(`stored blob ${sha256} is damaged`)
      }
      this.#seen.set(sha256, now)
    }
    return st.mode & 0o7777
  }
}

/**
 * SHA-256 on libuv's thread pool (WebCrypto), so verifying a received piece does not hold up the
 * event loop receiving the next ones; small pieces are hashed in place (cheaper than the hop).
 */
export async function sha256Off(bytes: Uint8Array): Promise<string> {
  if (bytes.byteLength < 64 * 1024) return createHash('sha256').update(bytes).digest('hex')
  return Buffer.from(await webcrypto.subtle.digest('SHA-256', bytes)).toString('hex')
}
