/**
 * A request's parsed invocation and compiler identity, which depend on each other for clang: the
 * configuration files clang loads on its own (found while computing the identity) add options the
 * parser must see (`-g` records the working directory, `-gsplit-dwarf` adds an output). So the
 * command line is parsed, the identity looked up (a few stat calls when cached), and the line
 * parsed again with those files only when the driver has any.
 *
 * clang up to 15 skips its default files when the command line names a `--config`; clang 16 on
 * loads them first anyway unless `--no-default-config` is given.
 *
 * @example
 * ```ts
 * const parsed = await parseRequest(request, identities, signal)
 * if (!parsed.inv.cacheable) return stepAside(parsed.inv.reason)
 * ```
 */
import { resolve } from 'node:path'
import { parseCompilerArgs } from '../compilers/parse.ts'
import type {
  CacheableInvocation,
  ParseOptions,
  UncacheableInvocation,
} from '../compilers/types.ts'
import type { CompilerIdentities, CompilerInfo, IdentityRequest } from './compiler-identity.ts'
import type { CompileRequest } from './types.ts'

export type ParsedRequest =
  | { inv: UncacheableInvocation; identity: undefined }
  | { inv: CacheableInvocation; identity: string }

export async function parseRequest(
  request: CompileRequest,
  identities: CompilerIdentities,
  signal: AbortSignal,
): Promise<ParsedRequest> {
  const options: ParseOptions = { compiler: request.compiler, cwd: request.cwd, env: request.env }
  let inv = parseCompilerArgs(request.args, options)
  if (!inv.cacheable) return { inv, identity: undefined }
  const idRequest = identityRequest(request, inv, signal)
  const info = identities.cachedInfo(idRequest) ?? (await identities.info(idRequest))
  const defaults = loadedDefaultConfigFiles(info, inv.expandedArgs)
  if (defaults.length > 0) {
    // The identity of a clang does not depend on the language or anything else they could change.
    inv = parseCompilerArgs(request.args, { ...options, defaultConfigFiles: defaults })
    if (!inv.cacheable) return { inv, identity: undefined }
  }
  return { inv, identity: info.identity }
}

/** The configuration files the driver loads on its own for this (expanded) command line. */
export function loadedDefaultConfigFiles(
  info: Pick<CompilerInfo, 'defaultConfigFiles' | 'explicitConfigReplacesDefault'>,
  expandedArgs: readonly string[],
): readonly string[] {
  if (info.defaultConfigFiles.length === 0) return []
  if (expandedArgs.includes('--no-default-config')) return []
  if (
    info.explicitConfigReplacesDefault &&
    expandedArgs.some((arg) => arg === '--config' || arg.startsWith('--config='))
  )
    return []
  return info.defaultConfigFiles
}

function identityRequest(
  request: CompileRequest,
  inv: CacheableInvocation,
  signal: AbortSignal,
): IdentityRequest {
  return {
    compiler: request.compiler,
    family: inv.family,
    language: inv.language,
    env: request.env,
    prefixes: inv.hashedArgs.flatMap((arg) =>
      // gcc joins the prefix and the program name: keep a trailing slash.
      arg.kind === 'path' && arg.option === '-B'
        ? [resolve(request.cwd, arg.path) + (arg.path.endsWith('/') ? '/' : '')]
        : [],
    ),
    signal,
  }
}
