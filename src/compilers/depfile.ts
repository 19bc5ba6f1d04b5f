/**
 * Dependency-file options (-M, -MM, -MD, -MMD, -MF, -MT, -MQ, -MP, -MG, and `-Wp,-MD,file` /
 * `-Wp,-MMD,file` as the Linux kernel writes them) and what they make the compiler write.
 *
 * Defaults reproduced (checked against gcc 12 and clang 14):
 * - `-MD` without `-MF` writes the output path with its suffix replaced by `.d`, or without -o
 *   the source's base name with `.d` in the working directory (also under -S).
 * - Without -MT/-MQ the target is the -o path, make-quoted (gcc's driver adds `-MQ <output>`,
 *   clang adds a quoted `-MT`); without -o it is the source's base name with `.o`, even under -S.
 * - gcc passes `-Wp,-MD,file` straight to cc1, so no `-MQ <output>` is added and the target is
 *   the source's base name with `.o`; clang rewrites `-Wp,-MD,file` into `-MD -MF file` and so
 *   targets the output.
 *
 * @example
 * ```ts
 * const deps = newDepState()
 * deps.kind = 'MMD'
 * finishDepfile(deps, { family: 'gcc', source: 'a.c', output: 'o/a.o', explicitOutput: true })
 * ```
 */
import { replaceSuffix, stem } from './output-paths.ts'
import type { CompilerFamily, DepfileRequest } from './types.ts'

export interface DepState {
  /** -M or -MM: dependencies instead of an object. */
  only: boolean
  kind: 'MD' | 'MMD' | undefined
  /** The depfile path from -MF, or from `-Wp,-MD,path`. */
  path: string | undefined
  /** The request came through `-Wp,` (gcc then picks cc1's default target). */
  viaWp: boolean
  targets: { name: string; quoted: boolean }[]
  phony: boolean
}

export function newDepState(): DepState {
  return { only: false, kind: undefined, path: undefined, viaWp: false, targets: [], phony: false }
}

export interface DepContext {
  family: CompilerFamily
  source: string
  output: string
  /** -o was given. */
  explicitOutput: boolean
}

/** The depfile the compile writes, or undefined when it writes none. */
export function finishDepfile(deps: DepState, ctx: DepContext): DepfileRequest | undefined {
  if (deps.kind === undefined) return undefined
  const path =
    deps.path ?? (ctx.explicitOutput ? replaceSuffix(ctx.output, '.d') : `${stem(ctx.source)}.d`)
  const targets =
    deps.targets.length > 0
      ? deps.targets
      : [{ name: defaultTarget(ctx, deps.viaWp && ctx.family === 'gcc'), quoted: true }]
  return { kind: deps.kind, path, targets, phony: deps.phony }
}

function defaultTarget(ctx: DepContext, cc1Default: boolean): string {
  if (ctx.explicitOutput && !cc1Default) return ctx.output
  return `${stem(ctx.source)}.o`
}

/** Make-quoting of a target name, as -MQ does it (`$` → `$$`, space → `\ `, `#` → `\#`). */
export function quoteTarget(name: string): string {
  let out = ''
  for (let i = 0; i < name.length; i++) {
    const ch = name[i] as string
    if (ch === ' ' || ch === '\t') {
      // Backslashes before a space are doubled, as gcc's mkdeps does.
      for (let j = i - 1; j >= 0 && name[j] === '\\'; j--) out += '\\'
      out += `\\${ch}`
    } else if (ch === '$') out += '$$'
    else if (ch === '#') out += '\\#'
    else out += ch
  }
  return out
}
