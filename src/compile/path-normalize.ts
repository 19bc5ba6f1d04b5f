/**
 * Base-directory path normalization for cache keys (ccache's `base_dir` semantics, key only).
 *
 * With a base directory set, absolute paths under it are rewritten relative to the working
 * directory before they are hashed, so the same code compiled in two checkouts
 * (`/home/u/a/build`, `/home/u/b/build`) computes the same key. The real compile always runs
 * with the original arguments; whether the outputs may really be shared is decided elsewhere
 * (the cwd goes into the key when the output embeds it, and a safety net marks an entry
 * checkout-specific when the object contains the checkout path).
 *
 * `KeyPaths` also remembers every path it rewrote: their common ancestor with the cwd is the
 * "checkout root" whose bytes must not appear in a shared object, and which replay maps from the
 * cached frame to the current one.
 *
 * @example
 * ```ts
 * const paths = new KeyPaths('/home/u/a/build', '/home/u')
 * paths.normalize('/home/u/a/src/x.c') // '../src/x.c'
 * paths.checkoutRoot() // '/home/u/a'
 * ```
 */
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path'
import type { KeyArg, PrefixMap } from '../compilers/types.ts'

/** Options whose value is embedded in the output verbatim: never rewritten. */
const VERBATIM_PATH_OPTIONS = new Set([
  '-fdebug-compilation-dir',
  '-fdebug-compilation-dir=',
  '-ffile-compilation-dir=',
  '-fcoverage-compilation-dir=',
])

const PREFIX_MAP_RE =
  /^(-f(?:file|debug|macro|profile|coverage)-prefix-map=|-fprofile-prefix-path=)(.*)$/s

export function isUnder(path: string, dir: string): boolean {
  if (dir === sep) return path.startsWith(sep)
  return path === dir || path.startsWith(dir + sep)
}

/** The deepest directory containing both absolute paths. */
export function commonAncestor(a: string, b: string): string {
  let dir = a
  while (!isUnder(b, dir)) {
    const up = dirname(dir)
    if (up === dir) return up
    dir = up
  }
  return dir
}

export class KeyPaths {
  readonly cwd: string
  readonly baseDir: string | undefined
  readonly #rewritten = new Set<string>()

  constructor(cwd: string, baseDir: string | undefined) {
    this.cwd = cwd
    const base = baseDir === undefined || baseDir === '' ? undefined : resolve(baseDir)
    this.baseDir = base
  }

  /** The path as it goes into a key: relative to the cwd if absolute under the base dir. */
  normalize(path: string): string {
    if (this.baseDir === undefined || !isAbsolute(path)) return path
    const abs = resolve(path)
    if (!isUnder(abs, this.baseDir)) return path
    this.#rewritten.add(abs)
    return relative(this.cwd, abs) || '.'
  }

  /**
   * The path's form in a key: like `normalize`, but a rewritten path is marked so that an
   * absolute path under the base dir and the same path written relative never share a key
   * (their depfiles and diagnostics name the files differently, and replay must reproduce that).
   */
  key(path: string): string {
    const normalized = this.normalize(path)
    return normalized === path ? path : `\0base\0${normalized}`
  }

  /** True if any path was rewritten (the key then relies on base-dir normalization). */
  get rewrote(): boolean {
    return this.#rewritten.size > 0
  }

  /**
   * The shortest common ancestor of the cwd and every rewritten path: the part of the absolute
   * paths the key no longer sees. Undefined when nothing was rewritten.
   */
  checkoutRoot(): string | undefined {
    let root: string | undefined
    for (const path of this.#rewritten) {
      const common = commonAncestor(this.cwd, path)
      if (root === undefined || common.length < root.length) root = common
    }
    return root
  }

  /** One hashed argument, normalized. */
  keyArg(arg: KeyArg): string {
    if (arg.kind === 'path') {
      if (VERBATIM_PATH_OPTIONS.has(arg.option)) return `${arg.option}\0${arg.path}`
      // Prefix maps arrive split: the `from` part as a path, `=to` as a plain arg after it.
      return `${arg.option}\0${this.key(arg.path)}`
    }
    const map = PREFIX_MAP_RE.exec(arg.value)
    if (map !== null) return this.#prefixMapArg(map[1] ?? '', map[2] ?? '')
    return arg.value
  }

  /** A prefix map's `from` is a path on this machine (normalized); `to` is embedded as is. */
  #prefixMapArg(option: string, value: string): string {
    const eq = value.indexOf('=')
    if (eq === -1) return `${option}${value}`
    return `${option}${this.key(value.slice(0, eq))}=${value.slice(eq + 1)}`
  }
}

/**
 * The cwd as the debug info will record it: every file/debug prefix map matching it applied
 * (string prefix, as gcc compares), or the raw cwd when none matches. Several matches are all
 * returned, since gcc and clang pick among them differently.
 */
export function mappedCwd(cwd: string, maps: readonly PrefixMap[]): string[] {
  const out: string[] = []
  for (const map of maps) {
    if (map.kind !== 'file' && map.kind !== 'debug') continue
    if (map.from !== '' && cwd.startsWith(map.from)) out.push(map.to + cwd.slice(map.from.length))
  }
  return out.length === 0 ? [cwd] : out
}

/**
 * Maps absolute paths of a cached entry's checkout to the current one. The cached entry was
 * compiled in `cachedCwd` with checkout root `cachedRoot`; the current cwd sits at the same depth
 * below its own root (the key holds the same cwd-relative paths).
 *
 * Works on binary strings (bytes decoded as latin1), the form depfiles and diagnostics are
 * handled in, so non-ASCII paths map byte for byte.
 */
export class FrameMapper {
  readonly from: string
  readonly to: string

  constructor(from: string, to: string) {
    this.from = Buffer.from(from, 'utf8').toString('latin1')
    this.to = Buffer.from(to, 'utf8').toString('latin1')
  }

  static create(
    cachedRoot: string | undefined,
    cachedCwd: string | undefined,
    cwd: string,
  ): FrameMapper | undefined {
    if (cachedRoot === undefined || cachedCwd === undefined || cachedCwd === cwd) return undefined
    const rel = relative(cachedRoot, cachedCwd)
    const depth = rel === '' ? 0 : rel.split(sep).length
    let to = cwd
    for (let i = 0; i < depth; i++) to = dirname(to)
    if (to === cachedRoot || cachedRoot.length <= 1) return undefined
    return new FrameMapper(cachedRoot, to)
  }

  /** One path (e.g. a depfile prerequisite). */
  path(p: string): string {
    if (p === this.from) return this.to
    if (p.startsWith(this.from + sep)) return this.to + p.slice(this.from.length)
    return p
  }

  /** Free text (e.g. diagnostics): every `<root>/` becomes `<new root>/`. */
  text(s: string): string {
    return s.split(this.from + sep).join(this.to + sep)
  }
}
