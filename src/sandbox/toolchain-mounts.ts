/**
 * Mount tables for toolchains. A toolchain tree from the store is laid out like a root
 * filesystem (`usr/`, `lib -> usr/lib`, …); each top-level entry becomes a read-only mount or a
 * symlink at its own path, so the compiler, its loader and `$ORIGIN` see the paths they expect.
 * The system compiler is the same with the host's `/` as the tree, limited to the directories a
 * compiler needs (no `/etc`, `/home`, `/root`, `/var`, `/run`).
 */
import { lstat, readdir, readlink } from 'node:fs/promises'
import type { SandboxMount } from './types.ts'

/** Names the sandbox provides itself, or that never belong to a toolchain. */
const RESERVED = new Set(['proc', 'dev', 'tmp', 'sys'])

/** The host directories a system compiler needs, when present. */
export const SYSTEM_TOOLCHAIN_ENTRIES = ['usr', 'bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32']

async function entryMount(root: string, name: string): Promise<SandboxMount | undefined> {
  const source = `${root === '/' ? '' : root}/${name}`
  const st = await lstat(source).catch(() => undefined)
  if (!st) return undefined
  if (st.isSymbolicLink()) return { kind: 'symlink', path: `/${name}`, to: await readlink(source) }
  if (st.isDirectory() || st.isFile()) return { kind: 'ro', source, path: `/${name}` }
  return undefined
}

/** Read-only mounts for a root-like toolchain tree (every top-level entry but reserved ones). */
export async function toolchainMounts(
  root: string,
  { signal }: { signal?: AbortSignal } = {},
): Promise<SandboxMount[]> {
  const names = (await readdir(root)).filter((n) => !RESERVED.has(n)).sort()
  const mounts: SandboxMount[] = []
  for (const name of names) {
    signal?.throwIfAborted()
    const m = await entryMount(root, name)
    if (m) mounts.push(m)
  }
  return mounts
}

/** The host's compiler directories, read-only at their own paths. */
export async function systemToolchainMounts({
  signal,
}: {
  signal?: AbortSignal
} = {}): Promise<SandboxMount[]> {
  const mounts: SandboxMount[] = []
  for (const name of SYSTEM_TOOLCHAIN_ENTRIES) {
    signal?.throwIfAborted()
    const m = await entryMount('/', name)
    if (m) mounts.push(m)
  }
  return mounts
}
