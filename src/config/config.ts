/**
 * The daemon's configuration: `$MESHCC_HOME/config.toml` (optional), overridden by `MESHCC_*`
 * variables, over built-in defaults.
 *
 * ```toml
 * cache_size = "5G"      # 500M, 5G, 1.5GiB… (k/M/G/T = 1000ⁿ, Ki/Mi/Gi/Ti = 1024ⁿ); 0 = no limit
 * log_level = "info"     # debug | info | warn | error
 * idle_timeout = "1h"    # daemon exits after this long without a request; 0 = never
 * ```
 *
 * Environment: `MESHCC_CACHE_SIZE`, `MESHCC_LOG_LEVEL`, `MESHCC_IDLE_TIMEOUT`. Bad values raise
 * `ConfigError` naming the variable or file and line. Unknown keys in the file are reported in
 * `warnings` (later meshcc versions add keys; an old daemon must still start).
 * Per-compile settings from the client's environment are in request-settings.ts.
 *
 * @example
 * ```ts
 * const config = loadConfig(process.env, nodePaths())
 * const store = createDiskCacheStore({ dir: paths.cacheDir, maxBytes: config.cacheMaxBytes })
 * ```
 */
import { readFileSync } from 'node:fs'
import { parse, TomlError } from 'smol-toml'
import type { LogLevel } from '../daemon/logger.ts'
import { ConfigError } from '../errors.ts'
import type { NodePaths } from './paths.ts'
import { parseDuration, parseSize } from './units.ts'

export {
  type CacheMode,
  type CompileMode,
  type RequestSettings,
  requestSettings,
} from './request-settings.ts'

export interface MeshccConfig {
  /** Cache size limit in bytes (`Number.MAX_SAFE_INTEGER` for "no limit"). */
  cacheMaxBytes: number
  logLevel: LogLevel
  /** Daemon idle timeout in ms; 0 = never exit. */
  idleTimeoutMs: number
  /** Non-fatal remarks (unknown keys), for the daemon log and `meshcc doctor`. */
  warnings: string[]
}

export const DEFAULT_CACHE_BYTES = 5 * 1024 ** 3
export const DEFAULT_IDLE_TIMEOUT_MS = 3_600_000
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error']
const KNOWN_KEYS = new Set(['cache_size', 'log_level', 'idle_timeout', 'toolchains', 'mesh'])

type Env = Readonly<Record<string, string | undefined>>

export function loadConfig(env: Env, paths: Pick<NodePaths, 'configFile'>): MeshccConfig {
  const file = readToml(paths.configFile)
  const warnings = Object.keys(file)
    .filter((k) => !KNOWN_KEYS.has(k))
    .map((k) => `${paths.configFile}: unknown key "${k}" ignored`)
  const where = (key: string) => `${paths.configFile}: ${key}`
  const pick = (envName: string, key: string): { value: unknown; source: string } | undefined => {
    const e = env[envName]
    if (e !== undefined && e.trim() !== '') return { value: e, source: envName }
    return key in file ? { value: file[key], source: where(key) } : undefined
  }

  const size = pick('MESHCC_CACHE_SIZE', 'cache_size')
  const level = pick('MESHCC_LOG_LEVEL', 'log_level')
  const idle = pick('MESHCC_IDLE_TIMEOUT', 'idle_timeout')
  return {
    cacheMaxBytes: size === undefined ? DEFAULT_CACHE_BYTES : cacheSize(size.value, size.source),
    logLevel: level === undefined ? 'info' : logLevel(level.value, level.source),
    idleTimeoutMs: idle === undefined ? DEFAULT_IDLE_TIMEOUT_MS : duration(idle.value, idle.source),
    warnings,
  }
}

function readToml(path: string): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw new ConfigError(`cannot read ${path}: ${(err as Error).message}`, { cause: err })
  }
  try {
    return parse(text) as Record<string, unknown>
  } catch (err) {
    const at = err instanceof TomlError ? `:${err.line}:${err.column}` : ''
    const first = (err as Error).message.split('\n')[0]
    throw new ConfigError(`${path}${at}: invalid TOML: ${first}`, {
      cause: err,
      hint: `fix or remove ${path} (see docs for the keys it takes)`,
    })
  }
}

function cacheSize(v: unknown, source: string): number {
  const bytes = typeof v === 'number' ? v : typeof v === 'string' ? parseSize(v) : undefined
  if (bytes === undefined || !Number.isSafeInteger(bytes) || bytes < 0) {
    throw new ConfigError(`${source}: ${JSON.stringify(v)} is not a size`, {
      hint: 'write sizes like "500M", "5G" or "1.5GiB" (k/M/G/T = 1000ⁿ, Ki/Mi/Gi/Ti = 1024ⁿ)',
    })
  }
  if (bytes === 0) return Number.MAX_SAFE_INTEGER
  if (bytes < 1024 ** 2) {
    throw new ConfigError(`${source}: ${JSON.stringify(v)} is below the 1 MiB minimum`, {
      hint: 'give the cache at least "1Mi" (or 0 for no limit)',
    })
  }
  return bytes
}

function logLevel(v: unknown, source: string): LogLevel {
  const s = typeof v === 'string' ? v.trim().toLowerCase() : ''
  if ((LOG_LEVELS as readonly string[]).includes(s)) return s as LogLevel
  throw new ConfigError(`${source}: ${JSON.stringify(v)} is not a log level`, {
    hint: `use one of ${LOG_LEVELS.join(', ')}`,
  })
}

function duration(v: unknown, source: string): number {
  const ms =
    typeof v === 'number' && v >= 0
      ? Math.round(v * 1000)
      : typeof v === 'string'
        ? v.trim().toLowerCase() === 'never'
          ? 0
          : parseDuration(v)
        : undefined
  if (ms === undefined || !Number.isSafeInteger(ms)) {
    throw new ConfigError(`${source}: ${JSON.stringify(v)} is not a duration`, {
      hint: 'write durations as seconds or with a unit: "90s", "30m", "1h"; 0 or "never" = no timeout',
    })
  }
  return ms
}
