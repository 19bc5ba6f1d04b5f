/**
 * What goes into the cache keys, in one place.
 *
 * - common to both modes: compiler identity, family, language, action, the environment variables
 *   that change the output or the diagnostics, the depfile request's shape, and whatever the
 *   output embeds about where it was built: the cwd as the compiler records it (`$PWD` when it
 *   names the working directory, see src/compilers/working-directory.ts; in debug info without a
 *   compilation dir: after the prefix maps, ccache's rule; coverage: raw), the raw command line
 *   and cwd when it is
 *   recorded (-frecord-gcc-switches), the output path when extra outputs are named after it
 *   (split DWARF's .dwo name is in the object), the content of extra input files, and of any
 *   precompiled header the compiler would pick up on its own (`foo.h.gch` for `-include foo.h`).
 * - direct key: + every hashed argument, normalized, + the source path and content hash.
 * - preprocessor key: + the arguments that still matter after preprocessing + the normalized
 *   preprocessed text.
 * - direct-mode result key: the direct key + every header's normalized path and hash.
 *
 * @example
 * ```ts
 * const key = directKey(ctx, sourceHash)
 * ```
 */
import { DIAGNOSTICS_ENV_VARS, OUTPUT_ENV_VARS } from '../compilers/environment.ts'
import { recordedWorkingDirectory } from '../compilers/working-directory.ts'
import type { RequestContext } from './context.ts'
import { KeyHasher } from './key.ts'
import { mappedCwd } from './path-normalize.ts'
import { isPreprocessorOnlyArg } from './preprocessor-key.ts'

/**
 * Client environment variables that change what the compiler produces or prints: the compiler
 * model's lists (src/compilers/environment.ts) are the single source of truth. meshcc's own
 * variables (MESHCC_*, the recursion guard _MESHCC_SAFEGUARD) never reach a key: they change
 * how meshcc runs, not what the compiler does, and the guard is set on one side only.
 */
export const KEY_ENV_VARS: readonly string[] = [...OUTPUT_ENV_VARS, ...DIAGNOSTICS_ENV_VARS]
  .filter((name) => !isMeshccVariable(name))
  .sort()

/** True for meshcc's own environment variables. */
export function isMeshccVariable(name: string): boolean {
  return /^_?MESHCC_/.test(name)
}

function common(ctx: RequestContext, purpose: string): KeyHasher {
  const { inv, request, paths } = ctx
  const h = new KeyHasher(purpose)
  h.field('compiler', ctx.identity)
  h.field('family', inv.family)
  h.field('language', inv.language)
  h.field('action', inv.action)
  for (const name of KEY_ENV_VARS) {
    const value = request.env[name]
    h.field(`env:${name}`, value === undefined ? '\0unset' : `=${value}`)
  }
  const dep = inv.depfile
  h.field('depfile', dep === undefined ? 'none' : `${dep.kind}:${dep.phony ? 'MP' : ''}`)
  // Not the physical cwd: entered through a symlink, gcc and clang record the path in $PWD.
  if (inv.embedsCwd || inv.recordsCommandLine)
    h.field('cwd', recordedWorkingDirectory(request.cwd, request.env))
  else if (inv.debugLevel > 0 && inv.debugCompilationDir === undefined)
    h.list(
      'debug-cwd',
      mappedCwd(recordedWorkingDirectory(request.cwd, request.env), inv.prefixMaps),
    )
  if (inv.recordsCommandLine) h.list('command-line', request.args)
  if (inv.extraOutputs.length > 0) h.field('output', paths.key(inv.output))
  for (const [file, hash] of ctx.side.extra) {
    h.field('extra-input', paths.key(file)).field('extra-input-hash', hash)
  }
  // Precompiled headers the compiler would use instead of a header's text (pch-probe.ts).
  for (const [path, state] of ctx.side.pch.fields) {
    h.field('pch', paths.key(path)).field('pch-state', state)
  }
  return h
}

export function directKey(ctx: RequestContext, sourceHash: string): string {
  const h = common(ctx, 'direct')
  h.field('args', String(ctx.inv.hashedArgs.length))
  for (const arg of ctx.inv.hashedArgs) h.field('arg', ctx.paths.keyArg(arg))
  h.field('source', ctx.paths.key(ctx.inv.source))
  h.field('source-hash', sourceHash)
  return h.digest()
}

export function preprocessorKey(ctx: RequestContext, text: string): string {
  const h = common(ctx, 'preprocessed')
  for (const arg of ctx.inv.hashedArgs) {
    if (!isPreprocessorOnlyArg(arg)) h.field('arg', ctx.paths.keyArg(arg))
  }
  h.field('text', Buffer.from(text, 'latin1'))
  return h.digest()
}

export function directResultKey(directKey: string, headers: readonly [string, string][]): string {
  const h = new KeyHasher('direct-result').field('direct', directKey)
  for (const [path, hash] of headers) h.field('header', path).field('hash', hash)
  return h.digest()
}
