/**
 * Path rules of toolchain manifests. Every path is relative to the toolchain root, spelled with
 * `/`, without `.`/`..`/empty components, so that joining it to the materialisation directory can
 * never leave it. Symlink targets are relative and are resolved *inside the manifest* (through
 * its other symlinks, as the kernel would) to prove that they never climb above the root — a
 * lexical check alone misses `a/b -> ../..` when `a` is itself a link.
 */
import { ToolchainManifestError } from '../errors.ts'
import { MAX_COMPONENT_BYTES, MAX_PATH_BYTES, MAX_PATH_DEPTH, MAX_SYMLINK_HOPS } from './limits.ts'

/** True for strings holding NUL, a C0 control or DEL: names terminals and tools would mangle. */
export function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x20 || c === 0x7f) return true
  }
  return false
}

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8')
}

function checkText(what: string, s: unknown): string {
  if (typeof s !== 'string' || s.length === 0)
    throw new ToolchainManifestError(`${what}: not a string`)
  if (byteLength(s) > MAX_PATH_BYTES) throw new ToolchainManifestError(`${what}: path too long`)
  if (hasControlChar(s))
    throw new ToolchainManifestError(`${what}: control character in ${JSON.stringify(s)}`)
  if (s.isWellFormed?.() === false)
    throw new ToolchainManifestError(`${what}: not valid Unicode: ${JSON.stringify(s)}`)
  return s
}

/** Checks a manifest entry path (`usr/bin/gcc-12`); returns its components. */
export function checkEntryPath(what: string, value: unknown): string[] {
  const path = checkText(what, value)
  if (path.startsWith('/')) throw new ToolchainManifestError(`${what}: absolute path '${path}'`)
  const parts = path.split('/')
  if (parts.length > MAX_PATH_DEPTH) throw new ToolchainManifestError(`${what}: '${path}' too deep`)
  for (const p of parts) {
    if (p === '' || p === '.' || p === '..')
      throw new ToolchainManifestError(`${what}: '${path}' has an empty, '.' or '..' component`)
    if (byteLength(p) > MAX_COMPONENT_BYTES)
      throw new ToolchainManifestError(`${what}: '${path}' has a component over 255 bytes`)
  }
  return parts
}

/** Checks a symlink target's spelling (relative, no empty components); returns components. */
export function checkLinkTarget(what: string, value: unknown): string[] {
  const target = checkText(what, value)
  if (target.startsWith('/'))
    throw new ToolchainManifestError(`${what}: absolute link target '${target}'`)
  const parts = target.split('/')
  if (parts.length > MAX_PATH_DEPTH)
    throw new ToolchainManifestError(`${what}: link target '${target}' too deep`)
  for (const p of parts) {
    if (p === '') throw new ToolchainManifestError(`${what}: link target '${target}' has '//'`)
    if (byteLength(p) > MAX_COMPONENT_BYTES)
      throw new ToolchainManifestError(`${what}: link target has a component over 255 bytes`)
  }
  return parts
}

/**
 * Resolves `target` of the link at `linkPath` through the manifest's links. Throws when the
 * resolution climbs above the root or loops; returns the resolved path (which may not exist in
 * the manifest: dangling links are harmless).
 */
export function resolveInside(
  linkPath: string,
  target: string,
  links: ReadonlyMap<string, string>,
): string {
  const cur = linkPath.split('/').slice(0, -1)
  let pending = target.split('/')
  let hops = 0
  while (pending.length > 0) {
    const c = pending[0]!
    pending = pending.slice(1)
    if (c === '.') continue
    if (c === '..') {
      if (cur.length === 0)
        throw new ToolchainManifestError(
          `symlink '${linkPath}' -> '${target}' points outside the toolchain`,
        )
      cur.pop()
      continue
    }
    cur.push(c)
    const next = links.get(cur.join('/'))
    if (next !== undefined) {
      if (++hops > MAX_SYMLINK_HOPS)
        throw new ToolchainManifestError(`symlink '${linkPath}' -> '${target}' loops`)
      cur.pop()
      pending = [...next.split('/'), ...pending]
    }
  }
  return cur.join('/')
}

/** Byte-wise (UTF-8) order, so that every implementation sorts paths the same way. */
export function comparePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}
