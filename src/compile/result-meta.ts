/**
 * The metadata the pipeline stores with every result (`CachedResult.meta`) and needs to replay it
 * for another invocation: where it was compiled, whether its stderr is colored, whether it is
 * bound to its checkout, and the dependency list to regenerate the depfile for other targets.
 */
import type { CompilerFamily } from '../compilers/types.ts'
import type { DepTarget } from './depfile-replay.ts'

export interface DepMeta {
  /** Targets the stored depfile was written for. */
  targets: DepTarget[]
  prereqs: string[]
  phony: string[]
  /** The formatter reproduced the compiler's file exactly: regeneration is safe. */
  exact: boolean
}

export interface ResultMeta {
  v: 1
  family: CompilerFamily
  /** Working directory of the compile. */
  cwd: string
  /** Checkout root of a shared entry (base-dir rewriting happened), for frame mapping. */
  root?: string
  /** The entry's object embeds its checkout path: valid only for `cwd`. */
  specific: boolean
  /** The captured stderr has color escapes. */
  colored: boolean
  dep?: DepMeta
  /** Roles of extra outputs the compiler did not write (a hit writes none of them either). */
  absent?: string[]
}

export function readMeta(meta: Record<string, unknown>): ResultMeta | undefined {
  if (meta['v'] !== 1 || typeof meta['cwd'] !== 'string') return undefined
  if (meta['family'] !== 'gcc' && meta['family'] !== 'clang') return undefined
  return meta as unknown as ResultMeta
}
