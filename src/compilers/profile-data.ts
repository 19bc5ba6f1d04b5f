/**
 * Which profile-feedback file gcc reads, so that its content goes into the cache key.
 *
 * gcc reads `<aux>.gcda` for `-fprofile-use` (with or without `=dir`) and `-fbranch-probabilities`,
 * where `<aux>` is the output path without its suffix (`out/x.o` → `out/x`). Without a profile
 * directory the file is `<aux>.gcda` itself. With one (the last of `-fprofile-dir=`,
 * `-fprofile-use=`, `-fprofile-generate=`) and a relative output, gcc 12 joins the working
 * directory as `getpwd()` returns it (`$PWD` when it names the same directory, else getcwd)
 * with `<aux>`, strips `-fprofile-prefix-path=` (a plain string prefix, then any slashes), and
 * mangles it (`/` → `#`, a `..` component → `^`): `pd/#home#me#proj#out#x.gcda`. An absolute
 * output is appended as is: `pd//abs/out/x.gcda`. All checked against gcc 12's
 * `-Wmissing-profile` warning, which names the file it looked for.
 *
 * The directory is the one gcc records (working-directory.ts: `$PWD` when it names the working
 * directory, which takes two stat calls, made only when `$PWD` differs from `cwd`).
 *
 * @example
 * ```ts
 * gccProfileFile({ dir: 'pd', prefixPath: undefined }, 'out/x.o', { cwd: '/p' })
 * // 'pd/#p#out#x.gcda'
 * ```
 */
import type { MatchedOption } from './option-table.ts'
import { replaceSuffix } from './output-paths.ts'
import type { Scan } from './scan-args.ts'
import type { CompilerFamily } from './types.ts'
import { recordedWorkingDirectory } from './working-directory.ts'

/** What the profile options say, gathered while scanning. */
export interface ProfileScan {
  /** gcc reads a .gcda for this compile (-fprofile-use[=…], -fbranch-probabilities). */
  gccUse: boolean
  /** The last -fprofile-dir= / -fprofile-use= / -fprofile-generate= value (gcc). */
  dir: string | undefined
  /** gcc -fprofile-prefix-path= */
  prefixPath: string | undefined
}

/**
 * Records one profile option. clang reads the `-fprofile-use=` / `-fprofile-instr-use=` path
 * (a file, or `default.profdata` in a directory: the pipeline hashes a directory by its files),
 * `default.profdata` without a path, and nothing for a bare `-fauto-profile`; gcc is resolved
 * once the output is known (`gccProfileFile`), except `-fauto-profile`'s `fbdata.afdo`.
 */
export function scanProfileOption(s: Scan, m: MatchedOption, family: CompilerFamily): void {
  const p = s.profile
  switch (m.spec.role) {
    case 'profile-use':
      if (family === 'clang') s.extraInputs.push(m.value ?? 'default.profdata')
      else {
        p.gccUse = true
        if (m.value !== undefined) p.dir = m.value
      }
      break
    case 'profile-instr-use-default':
      s.extraInputs.push('default.profdata')
      break
    case 'profile-dir':
      p.dir = m.value
      break
    case 'profile-prefix-path':
      p.prefixPath = m.value
      break
    case 'branch-probabilities':
      if (family === 'gcc') p.gccUse = true
      break
    case 'auto-profile-default':
      if (family === 'gcc') s.extraInputs.push('fbdata.afdo')
      break
  }
}

export interface GccProfileOptions {
  /** The profile directory in effect (last -fprofile-dir= / -fprofile-use= / -fprofile-generate=). */
  dir: string | undefined
  /** -fprofile-prefix-path= */
  prefixPath: string | undefined
}

export interface GccProfileContext {
  cwd: string
  env?: Readonly<Record<string, string | undefined>> | undefined
}

/** The .gcda file gcc reads for this output (relative to the working directory, or absolute). */
export function gccProfileFile(
  profile: GccProfileOptions,
  output: string,
  ctx: GccProfileContext,
): string {
  const aux = replaceSuffix(output, '')
  if (profile.dir === undefined) return `${aux}.gcda`
  if (aux.startsWith('/')) return `${profile.dir}/${aux}.gcda`
  let name = `${recordedWorkingDirectory(ctx.cwd, ctx.env)}/${aux}`
  if (profile.prefixPath !== undefined && name.startsWith(profile.prefixPath)) {
    name = name.slice(profile.prefixPath.length).replace(/^\/+/, '')
  }
  return `${profile.dir}/${manglePath(name)}.gcda`
}

/** gcc's `mangle_path`: `/` → `#`, a `..` component → `^` (POSIX file systems). */
export function manglePath(path: string): string {
  return path
    .split('/')
    .map((part) => (part === '..' ? '^' : part))
    .join('#')
}
