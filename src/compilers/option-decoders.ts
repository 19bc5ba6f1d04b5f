/**
 * Decoders for options that carry other options or structured values: `-Wp,…` (dependency
 * options inside), `-Wa,…` / `-Xassembler` (listings), `-Xclang` values, prefix maps and colour.
 * Each updates the scan state the way scan-args.ts does for plain options.
 *
 * @example
 * ```ts
 * writesAssemblerFile('-adhln=foo.lst') // true: the assembler writes a listing file
 * ```
 */
import type { MatchedOption } from './option-table.ts'
import type { Scan } from './scan-args.ts'
import type { KeyArg } from './types.ts'

/** The KeyArgs of a matched option: a path KeyArg, one joined plain, or the verbatim pair. */
export function keyArgs(m: MatchedOption, raw: string[]): KeyArg[] {
  if (m.value === undefined) return [{ kind: 'plain', value: raw[0] as string }]
  if (m.spec.path) return [{ kind: 'path', option: m.spec.key, path: m.value }]
  if (m.spec.joinable) return [{ kind: 'plain', value: m.spec.key + m.value }]
  return raw.map((value) => ({ kind: 'plain', value }))
}

/** -Xclang values that make clang write or read things outside the key. */
export const XCLANG_UNSUPPORTED: ReadonlySet<string> = new Set([
  '-emit-pch',
  '-emit-module',
  '-emit-module-interface',
  '-emit-header-unit',
  '-dependency-file',
  '-module-file-info',
  '-MT',
  '-fmodules-cache-path',
  '-fmodule-file',
  '-ftime-trace',
  '-stats-file',
])

/** -Xclang values followed by another -Xclang carrying a file clang reads. */
export const XCLANG_FILE_NEXT: ReadonlySet<string> = new Set([
  '-include-pch',
  '-load',
  '-plugin-file',
])

/** -Wa,… parts that make `as` write a listing or a dependency file meshcc does not track. */
export function writesAssemblerFile(part: string): boolean {
  if (part === '--MD' || part.startsWith('--MD=') || part === '-o') return true
  if (part.length < 2 || part[0] !== '-' || part[1] !== 'a') return false
  // -a[cdghilmns]*[=file]: listings, to stdout or to the file.
  for (let i = 2; i < part.length; i++) {
    const ch = part[i] as string
    if (ch === '=') return true
    if (!'cdghilmns'.includes(ch)) return false
  }
  return true
}

/** -Wp,… : dependency options go to the depfile request; the rest is hashed as one -Wp arg. */
export function scanWp(s: Scan, arg: string, value: string): void {
  const parts = value.split(',')
  const kept: string[] = []
  for (let j = 0; j < parts.length; j++) {
    const part = parts[j] as string
    if (part === '-MD' || part === '-MMD') {
      s.deps.kind = part === '-MD' ? 'MD' : 'MMD'
      s.deps.viaWp = true
      const path = parts[++j]
      if (path === undefined) s.unsupported ??= arg
      else s.deps.path = path
    } else if (part === '-MF') {
      s.deps.path = parts[++j]
    } else if (part === '-MT' || part === '-MQ') {
      const name = parts[++j]
      if (name !== undefined) s.deps.targets.push({ name, quoted: part === '-MQ' })
    } else if (part === '-MP') {
      s.deps.phony = true
    } else if (part === '-M' || part === '-MM') {
      s.unsupported ??= arg
    } else {
      kept.push(part)
    }
  }
  if (kept.length > 0) {
    const rebuilt = kept.length === parts.length ? arg : `-Wp,${kept.join(',')}`
    s.hashed.push({ kind: 'plain', value: rebuilt })
    s.preprocessor.push(rebuilt)
  }
}

export function colorOf(m: MatchedOption): 'always' | 'never' | 'auto' {
  if (m.spec.role === 'color-always') return 'always'
  if (m.spec.role === 'color-never') return 'never'
  return m.value === 'always' || m.value === 'never' ? m.value : 'auto'
}

const MAP_KIND = {
  'prefix-map-file': 'file',
  'prefix-map-debug': 'debug',
  'prefix-map-macro': 'macro',
  'prefix-map-profile': 'profile',
  'prefix-map-coverage': 'coverage',
} as const

/** `-f…-prefix-map=old=new`: the old prefix is a path (normalized), the new one is verbatim. */
export function prefixMap(s: Scan, m: MatchedOption, arg: string): void {
  const value = m.value as string
  const eq = value.indexOf('=')
  if (eq < 0) {
    s.hashed.push({ kind: 'plain', value: arg })
    return
  }
  const kind = MAP_KIND[m.spec.role as keyof typeof MAP_KIND]
  const from = value.slice(0, eq)
  const to = value.slice(eq + 1)
  s.prefixMaps.push({ kind, from, to })
  s.hashed.push(
    { kind: 'path', option: m.spec.key, path: from },
    { kind: 'plain', value: `=${to}` },
  )
}
