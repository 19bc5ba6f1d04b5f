/**
 * Which toolchain a compiler uses on builders, from `$MESHCC_HOME/config.toml`:
 *
 * ```toml
 * [toolchains]
 * "x86_64-w64-mingw32-gcc" = "3f2a…"   # the id printed by `meshcc toolchain add`
 * "/opt/cross/bin/aarch64-linux-gnu-gcc" = "9b1c…"
 * ```
 *
 * Keys are a compiler's name or absolute path (the path wins); values are toolchain ids. A compiler
 * without an entry uses the toolchain packaged from the local compiler. Kept apart from
 * src/config/config.ts, which owns the daemon's scalar settings.
 */
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { parse } from 'smol-toml'
import { ConfigError } from '../errors.ts'

const HEX64 = /^[0-9a-f]{64}$/

export type ToolchainMap = ReadonlyMap<string, string>

export function readToolchainMap(configFile: string): ToolchainMap {
  let text: string
  try {
    text = readFileSync(configFile, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map()
    throw new ConfigError(`cannot read ${configFile}: ${(err as Error).message}`)
  }
  return parseToolchainMap(text, configFile)
}

export function parseToolchainMap(text: string, where = 'config.toml'): ToolchainMap {
  let doc: Record<string, unknown>
  try {
    doc = parse(text) as Record<string, unknown>
  } catch (err) {
    throw new ConfigError(`${where}: ${(err as Error).message.split('\n')[0]}`)
  }
  const table = doc['toolchains']
  if (table === undefined) return new Map()
  if (typeof table !== 'object' || table === null || Array.isArray(table))
    throw new ConfigError(`${where}: [toolchains] must be a table of "compiler" = "toolchain id"`)
  const out = new Map<string, string>()
  for (const [compiler, id] of Object.entries(table)) {
    if (typeof id !== 'string' || !HEX64.test(id))
      throw new ConfigError(`${where}: toolchains."${compiler}" must be a 64-digit toolchain id`)
    out.set(compiler, id)
  }
  return out
}

/** The toolchain configured for `compiler` (absolute path first, then its file name). */
export function toolchainFor(map: ToolchainMap, compiler: string): string | undefined {
  return map.get(compiler) ?? map.get(basename(compiler))
}
