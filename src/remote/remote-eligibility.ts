/**
 * Which cacheable compiles can run on a builder and still give exactly the local result. The
 * answer is a stable reason (counted in stats) for the ones that cannot; the daemon compiles
 * those locally. Pure: it looks only at the parsed invocation, the paths and the environment.
 *
 * - `clang-dwarf5`: clang's DWARF 5 line table (its default on Linux since clang 14) carries an
 *   MD5 of every source file's *text*; a builder compiles the preprocessed text, whose checksum
 *   differs. `-gdwarf-4` (or lower) and `-g0` compiles are distributed.
 * - `cpu-native`: `-march=native` would describe the builder's CPU.
 * - `extra-inputs`: plugins, profiles, specs, PCHs are files the builder does not have.
 * - `records-command-line`: the object embeds the exact command line.
 * - `driver-prefix` (`-B`), `config-file`, `compiler-env`: they change which programs or
 *   options the compiler uses, from the client's file system.
 * - `preprocessor-mode`, `modules`, `traditional`: the two-stage preprocessing does not apply.
 * - `path-unmappable`: the working directory, source or an output lies where the builder's
 *   sandbox puts the toolchain or its own file systems.
 * - `diagnostics-unreproducible` (gcc): diagnostic options whose output from preprocessed text
 *   differs from a local compile's (`-pedantic` with `-g`, `-Wsystem-headers`, JSON or SARIF
 *   diagnostics…; see `diag-sources.ts`); the client would reject every such result, so the
 *   compile stays local instead of wasting a builder's time first.
 */
import { isAbsolute, resolve } from 'node:path'
import { matchOption } from '../compilers/option-table.ts'
import type { CacheableInvocation } from '../compilers/types.ts'
import { diagnosticsCheckable } from './diag-sources.ts'
import { wantsPreprocessedMode } from './gcc-preprocessed-mode.ts'
import { reservedPath } from './job-paths.ts'

export type IneligibleReason =
  | 'language'
  | 'clang-dwarf5'
  | 'cpu-native'
  | 'extra-inputs'
  | 'records-command-line'
  | 'driver-prefix'
  | 'config-file'
  | 'compiler-env'
  | 'preprocessor-mode'
  | 'modules'
  | 'traditional'
  | 'path-unmappable'
  | 'diagnostics-unreproducible'

const LANGUAGES = new Set(['c', 'c++', 'objective-c', 'objective-c++'])
const COMPILER_ENV = ['COMPILER_PATH', 'GCC_EXEC_PREFIX', 'CCC_OVERRIDE_OPTIONS']

/** The DWARF version the last `-gdwarf*` asks for; undefined for the compiler's default. */
function dwarfVersion(args: readonly string[]): number | undefined {
  let v: number | undefined
  for (const a of args) {
    const m = /^-gdwarf-(\d)$/.exec(a)
    if (m) v = Number(m[1])
    else if (a === '-gdwarf') v = undefined
  }
  return v
}

export function remoteIneligibility(
  inv: CacheableInvocation,
  { cwd, env = {} }: { cwd: string; env?: Readonly<Record<string, string | undefined>> },
): IneligibleReason | undefined {
  if (!LANGUAGES.has(inv.language)) return 'language'
  if (inv.extraInputFiles.length > 0) return 'extra-inputs'
  if (inv.recordsCommandLine) return 'records-command-line'
  if (COMPILER_ENV.some((k) => env[k] !== undefined && env[k] !== '')) return 'compiler-env'
  const args = inv.expandedArgs
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string
    if (a === '--') break
    if (/^-m(arch|cpu|tune)=native$/.test(a)) return 'cpu-native'
    if (/^-f(no-)?(directives-only|preprocessed|rewrite-includes)$/.test(a))
      return 'preprocessor-mode'
    if (a === '-imacros' || a.startsWith('-imacros') || a.startsWith('--imacros'))
      return 'preprocessor-mode'
    if (a === '-Xpreprocessor') return 'preprocessor-mode'
    if (/^-f(cxx-)?modules($|-)|^-fmodule-file/.test(a)) return 'modules'
    if (a === '-traditional' || a === '-traditional-cpp') return 'traditional'
    const m = matchOption(args, i)
    if (m === undefined) continue
    if (m.spec.key === '-B' || m.spec.key === '--gcc-toolchain=') return 'driver-prefix'
    if (m.spec.role === 'config') return 'config-file'
    i += m.width - 1
  }
  if (inv.family === 'gcc' && !diagnosticsCheckable(args, wantsPreprocessedMode(inv, args)))
    return 'diagnostics-unreproducible'
  if (inv.family === 'clang' && inv.debugLevel > 0 && (dwarfVersion(args) ?? 5) >= 5)
    return 'clang-dwarf5'
  const paths = [cwd, inv.source, inv.output, ...inv.extraOutputs.map((e) => e.path)]
  for (const p of paths) {
    const abs = isAbsolute(p) ? resolve(p) : resolve(cwd, p)
    if (reservedPath(abs)) return 'path-unmappable'
  }
  return undefined
}
