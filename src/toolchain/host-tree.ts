/**
 * Collects files of the running machine at their absolute paths, the way the compiler sees them:
 * every symlink met on the way (`/lib -> usr/lib`, `/usr/bin/as -> x86_64-linux-gnu-as`) is
 * recorded as a relative link and followed, and the file is recorded at its real path. The result
 * mirrors the host layout under a root, so a sandbox can mount it as `/` and the loader, the
 * driver's relative program lookup and `$ORIGIN` all behave as on the host.
 */
import { lstat, readdir, readlink } from 'node:fs/promises'
import { dirname, isAbsolute, posix } from 'node:path'
import { ToolchainPackagingError } from '../errors.ts'
import { MAX_SYMLINK_HOPS } from './limits.ts'

export class HostTree {
  /** Relative path in the toolchain → absolute host path of a regular file. */
  readonly files = new Map<string, string>()
  /** Relative path → relative target. */
  readonly symlinks = new Map<string, string>()

  /** Adds `abs` (a file, or with `recursive` a directory); returns its real relative path. */
  async add(abs: string, { recursive = false }: { recursive?: boolean } = {}): Promise<string> {
    if (!isAbsolute(abs)) throw new ToolchainPackagingError(`not an absolute path: ${abs}`)
    let cur: string[] = []
    let pending = abs.split('/').filter((c) => c !== '')
    let hops = 0
    while (pending.length > 0) {
      const c = pending[0]!
      pending = pending.slice(1)
      if (c === '.') continue
      if (c === '..') {
        cur.pop()
        continue
      }
      cur.push(c)
      const host = `/${cur.join('/')}`
      const st = await lstat(host).catch((err) => {
        throw new ToolchainPackagingError(`cannot read ${host}: ${(err as Error).message}`)
      })
      if (!st.isSymbolicLink()) continue
      if (++hops > MAX_SYMLINK_HOPS) throw new ToolchainPackagingError(`symlink loop at ${host}`)
      const target = await readlink(host)
      const rel = cur.join('/')
      cur.pop()
      if (isAbsolute(target)) {
        // Record absolute links relative to their (real) directory so they stay inside the root.
        this.symlinks.set(rel, posix.relative(dirname(host), target) || '.')
        cur = []
      } else {
        this.symlinks.set(rel, target.replace(/\/+$/, '').replace(/\/{2,}/g, '/') || '.')
      }
      pending = [...target.split('/').filter((p) => p !== ''), ...pending]
    }
    const real = `/${cur.join('/')}`
    const st = await lstat(real)
    if (st.isFile()) this.files.set(cur.join('/'), real)
    else if (st.isDirectory()) {
      if (!recursive) throw new ToolchainPackagingError(`${real} is a directory`)
      for (const name of (await readdir(real)).sort())
        await this.add(`${real}/${name}`, { recursive })
    } else throw new ToolchainPackagingError(`${real} is not a regular file`)
    return cur.join('/')
  }
}
