/**
 * Per-compile settings, read from the environment of the CLIENT that sent each request (not the
 * daemon's): a build can set `MESHCC_RECACHE=1` for one `make` without restarting anything.
 *
 * | variable            | values                          | default  |
 * |---------------------|---------------------------------|----------|
 * | MESHCC_DISABLE      | 1/0, true/false, yes/no, on/off | off      |
 * | MESHCC_BASE_DIR     | absolute directory              | none     |
 * | MESHCC_CACHE_MODE   | direct, preprocessor, both      | direct   |
 * | MESHCC_RECACHE      | boolean                         | off      |
 * | MESHCC_READONLY     | boolean                         | off      |
 * | MESHCC_MODE         | local, auto, remote             | auto     |
 *
 * A bad value raises `ConfigError` with a hint; the pipeline turns it into a local fallback so a
 * typo in a variable never breaks a build. Runs once per compile: plain string checks only.
 *
 * @example
 * ```ts
 * const s = requestSettings(request.env)
 * if (s.disabled) return { kind: 'exec-local', reason: 'disabled' }
 * ```
 */
import { isAbsolute, normalize } from 'node:path'
import { ConfigError } from '../errors.ts'

/**
 * - `direct`: look the source and its recorded headers up (manifest); on a manifest miss,
 *   compile (no preprocessor run) and record the manifest.
 * - `preprocessor`: key on the preprocessed output (always runs the preprocessor).
 * - `both`: direct first, then preprocessor mode on a manifest miss (ccache's default).
 */
export type CacheMode = 'direct' | 'preprocessor' | 'both'
/** Where compiles run: only here, wherever is best, or preferably on other nodes (issue 4). */
export type CompileMode = 'local' | 'auto' | 'remote'

export interface RequestSettings {
  /** Do not touch the cache at all: the client runs the real compiler. */
  disabled: boolean
  /**
   * ccache's base_dir: absolute paths under it are rewritten relative to the cwd in what is
   * hashed, so two checkouts under it share hits. Normalized, no trailing slash.
   */
  baseDir: string | undefined
  cacheMode: CacheMode
  /** Compile even on a hit and overwrite the entry. */
  recache: boolean
  /** Use hits, never write the cache. */
  readOnly: boolean
  mode: CompileMode
}

const TRUE = new Set(['1', 'true', 'yes', 'on'])
const FALSE = new Set(['', '0', 'false', 'no', 'off'])

export function requestSettings(
  env: Readonly<Record<string, string | undefined>>,
): RequestSettings {
  return {
    disabled: flag(env, 'MESHCC_DISABLE'),
    baseDir: baseDir(env['MESHCC_BASE_DIR']),
    cacheMode: oneOf(env, 'MESHCC_CACHE_MODE', ['direct', 'preprocessor', 'both'], 'direct'),
    recache: flag(env, 'MESHCC_RECACHE'),
    readOnly: flag(env, 'MESHCC_READONLY'),
    mode: oneOf(env, 'MESHCC_MODE', ['local', 'auto', 'remote'], 'auto'),
  }
}

/** Parses a boolean variable; unset and empty are false. */
export function flag(env: Readonly<Record<string, string | undefined>>, name: string): boolean {
  const raw = env[name]
  if (raw === undefined) return false
  const v = raw.trim().toLowerCase()
  if (TRUE.has(v)) return true
  if (FALSE.has(v)) return false
  throw new ConfigError(`${name}=${JSON.stringify(raw)} is not a boolean`, {
    hint: `set ${name} to 1 or 0 (also true/false, yes/no, on/off), or unset it`,
  })
}

function oneOf<T extends string>(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const raw = env[name]
  if (raw === undefined || raw.trim() === '') return fallback
  const v = raw.trim().toLowerCase()
  if ((allowed as readonly string[]).includes(v)) return v as T
  throw new ConfigError(`${name}=${JSON.stringify(raw)} is not one of ${allowed.join(', ')}`, {
    hint: `set ${name} to one of: ${allowed.join(', ')} (default ${fallback})`,
  })
}

function baseDir(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined
  if (!isAbsolute(raw)) {
    throw new ConfigError(`MESHCC_BASE_DIR=${JSON.stringify(raw)} is not an absolute path`, {
      hint: 'set MESHCC_BASE_DIR to an absolute directory above your checkouts, e.g. $HOME/src',
    })
  }
  const n = normalize(raw)
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n
}
