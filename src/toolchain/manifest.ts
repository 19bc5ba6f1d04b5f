/**
 * The toolchain manifest and its canonical encoding. A toolchain's identity is
 * `sha256(manifest bytes)`, so the encoding is canonical: compact JSON (UTF-8, no whitespace),
 * keys in a fixed order, files and symlinks sorted by path (byte order), modes normalised to
 * 0644/0755. Decoding is strict: it validates every field and bound, then re-encodes and requires
 * the same bytes, so that one toolchain can never have two ids (and no peer can smuggle extra
 * fields, whitespace or duplicate keys into a manifest).
 *
 * ```json
 * {"schema":1,"hashAlgo":"sha256","platform":"linux-x86_64","targets":["x86_64-linux-gnu"],
 *  "drivers":{"c":"usr/bin/x86_64-linux-gnu-gcc-12"},"compilerId":"gcc (Debian 12.2.0) 12.2.0",
 *  "files":[{"path":"usr/bin/x86_64-linux-gnu-gcc-12","mode":493,"size":1,"sha256":"…"}],
 *  "symlinks":[{"path":"lib","target":"usr/lib"}]}
 * ```
 *
 * @example
 * ```ts
 * const bytes = encodeManifest(buildManifest({ platform, targets, drivers, compilerId, files, symlinks }))
 * const id = manifestId(bytes)
 * const back = decodeManifest(bytes) // throws ToolchainManifestError on anything odd
 * ```
 */
import { createHash } from 'node:crypto'
import { ToolchainManifestError } from '../errors.ts'
import {
  CHUNK_SIZE,
  CHUNKED_FILE_THRESHOLD,
  MAX_FILE_BYTES,
  MAX_FILES,
  MAX_MANIFEST_BYTES,
  MAX_SYMLINKS,
  MAX_TARGETS,
  MAX_TOOLCHAIN_BYTES,
} from './limits.ts'
import {
  checkEntryPath,
  checkLinkTarget,
  comparePaths,
  hasControlChar,
  resolveInside,
} from './manifest-paths.ts'

export const MANIFEST_SCHEMA = 1
export const LANGUAGES = ['c', 'c++', 'objective-c', 'objective-c++'] as const
export type ToolchainLanguage = (typeof LANGUAGES)[number]
/** Regular file modes a toolchain may hold: setuid/setgid/sticky and odd bits never travel. */
export const FILE_MODES = [0o644, 0o755] as const

export interface ManifestFile {
  path: string
  mode: number
  size: number
  sha256: string
  /** SHA-256 of each 1 MiB chunk, only for files over 4 MiB. */
  chunks?: string[]
}

export interface ManifestSymlink {
  path: string
  /** Relative to the link's directory; resolves inside the toolchain. */
  target: string
}

export interface ToolchainManifest {
  schema: 1
  hashAlgo: 'sha256'
  /** Where the toolchain runs: `linux-x86_64`, `linux-aarch64`. */
  platform: string
  /** Target triples it emits code for, sorted. */
  targets: string[]
  /** Driver to run per source language, as a path inside the toolchain. */
  drivers: Partial<Record<ToolchainLanguage, string>>
  /** The driver's `--version` first line (what the user would recognise). */
  compilerId: string
  files: ManifestFile[]
  symlinks: ManifestSymlink[]
}

export type ManifestInput = Omit<ToolchainManifest, 'schema' | 'hashAlgo'>

const HEX64 = /^[0-9a-f]{64}$/
const PLATFORM = /^[a-z0-9_]+(-[a-z0-9_.]+){1,3}$/
const TRIPLE = /^[A-Za-z0-9_.+]+(-[A-Za-z0-9_.+]+){0,4}$/

/** Sorts the lists and normalises modes, then validates: the way to make a manifest. */
export function buildManifest(input: ManifestInput): ToolchainManifest {
  const m: ToolchainManifest = {
    schema: MANIFEST_SCHEMA,
    hashAlgo: 'sha256',
    platform: input.platform,
    targets: [...new Set(input.targets)].sort(comparePaths),
    drivers: { ...input.drivers },
    compilerId: input.compilerId,
    files: input.files
      .map((f) => ({ ...f, mode: f.mode & 0o111 ? 0o755 : 0o644 }))
      .sort((a, b) => comparePaths(a.path, b.path)),
    symlinks: [...input.symlinks].sort((a, b) => comparePaths(a.path, b.path)),
  }
  validateManifest(m)
  return m
}

/** The canonical bytes of a valid manifest. */
export function encodeManifest(m: ToolchainManifest): Uint8Array {
  validateManifest(m)
  return serialize(m)
}

export function manifestId(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** Strictly decodes manifest bytes from any source (a peer, the disk). */
export function decodeManifest(bytes: Uint8Array): ToolchainManifest {
  if (bytes.byteLength > MAX_MANIFEST_BYTES)
    throw new ToolchainManifestError(`manifest of ${bytes.byteLength} bytes exceeds the limit`)
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch (err) {
    throw new ToolchainManifestError(`manifest is not UTF-8 JSON: ${(err as Error).message}`)
  }
  const m = shape(value)
  validateManifest(m)
  const again = serialize(m)
  if (Buffer.compare(again, bytes) !== 0)
    throw new ToolchainManifestError('manifest is not in canonical form')
  return m
}

function serialize(m: ToolchainManifest): Uint8Array {
  const drivers: Record<string, string> = {}
  for (const lang of LANGUAGES) if (m.drivers[lang] !== undefined) drivers[lang] = m.drivers[lang]
  const ordered = {
    schema: m.schema,
    hashAlgo: m.hashAlgo,
    platform: m.platform,
    targets: m.targets,
    drivers,
    compilerId: m.compilerId,
    files: m.files.map((f) => {
      const base = { path: f.path, mode: f.mode, size: f.size, sha256: f.sha256 }
      return f.chunks === undefined ? base : { ...base, chunks: f.chunks }
    }),
    symlinks: m.symlinks.map((s) => ({ path: s.path, target: s.target })),
  }
  return Buffer.from(JSON.stringify(ordered), 'utf8')
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function exactKeys(what: string, v: unknown, required: string[], optional: string[] = []) {
  if (!isObject(v)) throw new ToolchainManifestError(`${what}: not an object`)
  for (const k of required)
    if (!(k in v)) throw new ToolchainManifestError(`${what}: missing field '${k}'`)
  for (const k of Object.keys(v))
    if (!required.includes(k) && !optional.includes(k))
      throw new ToolchainManifestError(`${what}: unknown field '${k}'`)
  return v
}

function array(what: string, v: unknown, max: number): unknown[] {
  if (!Array.isArray(v)) throw new ToolchainManifestError(`${what}: not a list`)
  if (v.length > max) throw new ToolchainManifestError(`${what}: more than ${max} entries`)
  return v
}

// Checks the JSON's shape (field names and kinds); values are checked by validateManifest.
function shape(v: unknown): ToolchainManifest {
  const top = ['schema', 'hashAlgo', 'platform', 'targets', 'drivers', 'compilerId']
  const o = exactKeys('manifest', v, [...top, 'files', 'symlinks'])
  const drivers = exactKeys('drivers', o['drivers'], [], [...LANGUAGES])
  const files = array('files', o['files'], MAX_FILES).map((f, i) =>
    exactKeys(`files[${i}]`, f, ['path', 'mode', 'size', 'sha256'], ['chunks']),
  )
  const symlinks = array('symlinks', o['symlinks'], MAX_SYMLINKS).map((s, i) =>
    exactKeys(`symlinks[${i}]`, s, ['path', 'target']),
  )
  return {
    ...o,
    targets: array('targets', o['targets'], MAX_TARGETS),
    drivers,
    files,
    symlinks,
  } as unknown as ToolchainManifest
}

/** Throws ToolchainManifestError unless `m` is a valid manifest (canonical order included). */
export function validateManifest(m: ToolchainManifest): void {
  if (m.schema !== MANIFEST_SCHEMA)
    throw new ToolchainManifestError(`unsupported manifest schema ${String(m.schema)}`)
  if (m.hashAlgo !== 'sha256')
    throw new ToolchainManifestError(`unsupported hashAlgo ${String(m.hashAlgo)}`)
  if (typeof m.platform !== 'string' || !PLATFORM.test(m.platform))
    throw new ToolchainManifestError(`bad platform ${JSON.stringify(m.platform)}`)
  if (!Array.isArray(m.targets) || m.targets.length === 0 || m.targets.length > MAX_TARGETS)
    throw new ToolchainManifestError('targets: need 1 to 64 target triples')
  m.targets.forEach((t, i) => {
    if (typeof t !== 'string' || t.length > 100 || !TRIPLE.test(t))
      throw new ToolchainManifestError(`bad target triple ${JSON.stringify(t)}`)
    if (i > 0 && comparePaths(m.targets[i - 1]!, t) >= 0)
      throw new ToolchainManifestError('targets: not sorted or duplicated')
  })
  if (typeof m.compilerId !== 'string' || m.compilerId.length > 512 || hasControlChar(m.compilerId))
    throw new ToolchainManifestError('compilerId: not a one-line string of at most 512 characters')
  if (m.files.length > MAX_FILES) throw new ToolchainManifestError('too many files')
  if (m.symlinks.length > MAX_SYMLINKS) throw new ToolchainManifestError('too many symlinks')

  let total = 0
  const kinds = new Map<string, 'file' | 'link'>()
  const dirs = new Set<string>()
  const noteParents = (parts: string[]) => {
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'))
  }
  m.files.forEach((f, i) => {
    noteParents(checkEntryPath(`files[${i}].path`, f.path))
    if (i > 0) sortedAfter('files', m.files[i - 1]!.path, f.path)
    if (!(FILE_MODES as readonly unknown[]).includes(f.mode))
      throw new ToolchainManifestError(`files[${i}] '${f.path}': mode must be 0644 or 0755`)
    if (!Number.isSafeInteger(f.size) || f.size < 0 || f.size > MAX_FILE_BYTES)
      throw new ToolchainManifestError(`files[${i}] '${f.path}': bad or oversized size`)
    if (typeof f.sha256 !== 'string' || !HEX64.test(f.sha256))
      throw new ToolchainManifestError(`files[${i}] '${f.path}': bad sha256`)
    checkChunks(f, i)
    total += f.size
    kinds.set(f.path, 'file')
  })
  if (total > MAX_TOOLCHAIN_BYTES) throw new ToolchainManifestError('toolchain too large')
  const links = new Map<string, string>()
  m.symlinks.forEach((s, i) => {
    noteParents(checkEntryPath(`symlinks[${i}].path`, s.path))
    checkLinkTarget(`symlinks[${i}].target`, s.target)
    if (i > 0) sortedAfter('symlinks', m.symlinks[i - 1]!.path, s.path)
    if (kinds.has(s.path))
      throw new ToolchainManifestError(`'${s.path}' is both a file and a symlink`)
    kinds.set(s.path, 'link')
    links.set(s.path, s.target)
  })
  for (const d of dirs) {
    const kind = kinds.get(d)
    if (kind !== undefined)
      throw new ToolchainManifestError(`'${d}' is a ${kind} but other entries are inside it`)
  }
  for (const s of m.symlinks) resolveInside(s.path, s.target, links)
  checkDrivers(m, kinds, links)
}

function sortedAfter(list: string, prev: string, path: string) {
  const c = comparePaths(prev, path)
  if (c === 0) throw new ToolchainManifestError(`${list}: duplicate path '${path}'`)
  if (c > 0) throw new ToolchainManifestError(`${list}: not sorted by path at '${path}'`)
}

function checkChunks(f: ManifestFile, i: number) {
  if (f.size <= CHUNKED_FILE_THRESHOLD) {
    if (f.chunks !== undefined)
      throw new ToolchainManifestError(`files[${i}] '${f.path}': chunks on a small file`)
    return
  }
  const want = Math.ceil(f.size / CHUNK_SIZE)
  if (!Array.isArray(f.chunks) || f.chunks.length !== want)
    throw new ToolchainManifestError(`files[${i}] '${f.path}': needs ${want} chunk hashes`)
  for (const c of f.chunks)
    if (typeof c !== 'string' || !HEX64.test(c))
      throw new ToolchainManifestError(`files[${i}] '${f.path}': bad chunk hash`)
}

function checkDrivers(
  m: ToolchainManifest,
  kinds: ReadonlyMap<string, 'file' | 'link'>,
  links: ReadonlyMap<string, string>,
) {
  const entries = Object.entries(m.drivers)
  if (entries.length === 0) throw new ToolchainManifestError('drivers: none named')
  const modes = new Map(m.files.map((f) => [f.path, f.mode]))
  for (const [lang, path] of entries) {
    if (!(LANGUAGES as readonly string[]).includes(lang))
      throw new ToolchainManifestError(`drivers: unknown language '${lang}'`)
    checkEntryPath(`drivers.${lang}`, path)
    const kind = kinds.get(path as string)
    const real =
      kind === 'link' ? resolveInside(path as string, links.get(path as string)!, links) : path
    if (kind === undefined || modes.get(real as string) !== 0o755)
      throw new ToolchainManifestError(
        `drivers.${lang}: '${path}' is not an executable file of the toolchain`,
      )
  }
}
