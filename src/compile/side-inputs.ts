/**
 * Inputs beside the source and its headers that decide the output, hashed once per request:
 * the extra input files the command line names or implies (-fplugin=, -include-pch, clang
 * --config files, profile data: the exact `.gcda` gcc reads for this object, whose name the
 * compiler model derives from -o, the profile directory and the recorded working directory;
 * clang's .profdata file or directory) and the precompiled headers the compiler would pick up on
 * its own (pch-probe.ts). A missing file is hashed as missing: creating it is a miss.
 *
 * They go into every key, and the miss path collects them again after the compile: if one
 * changed meanwhile (a PCH rebuilt by a parallel job), the compiler may have read the new one
 * while the key names the old one, so the result is not stored.
 *
 * @example
 * ```ts
 * const side = collectSideInputs(inv, { cwd, env, files, dirs, leading })
 * // … compile …
 * if (!sameSideInputs(side, collectSideInputs(inv, { cwd, env, files, dirs, leading }))) …
 * ```
 */
import { resolve } from 'node:path'
import type { CacheableInvocation } from '../compilers/types.ts'
import { NO_PCH, type PchProbeInput, type PchState, pathState, pchProbes } from './pch-probe.ts'
import type { LeadingIncludes } from './leading-includes.ts'

export interface SideInputs {
  /** [path as given, content state or 'missing'] of every extra input file or directory. */
  extra: [string, string][]
  pch: PchState
  /** The source's leading includes the PCH probe used (to probe again). */
  leading: LeadingIncludes | undefined
}

export const NO_SIDE_INPUTS: SideInputs = { extra: [], pch: NO_PCH, leading: undefined }

export function collectSideInputs(inv: CacheableInvocation, input: PchProbeInput): SideInputs {
  const extra: [string, string][] = inv.extraInputFiles.map((file) => [
    file,
    pathState(resolve(input.cwd, file), input.files) ?? 'missing',
  ])
  return { extra, pch: pchProbes(inv, input), leading: input.leading }
}

export function sameSideInputs(a: SideInputs, b: SideInputs): boolean {
  return JSON.stringify([a.extra, a.pch.fields]) === JSON.stringify([b.extra, b.pch.fields])
}
