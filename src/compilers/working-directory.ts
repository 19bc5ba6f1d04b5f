/**
 * The working directory as gcc and clang record it. Both ask `$PWD` first and use it when it is
 * an absolute path naming the same directory as `.` (same device and inode: libiberty's
 * `getpwd`, LLVM's `sys::fs::current_path`), else `getcwd()`. So under a symlinked path
 * (`cd /link/proj`, PWD=/link/proj) the object's DW_AT_comp_dir, gcc's mangled .gcda names and
 * coverage paths say `/link/proj`, while the client's `getcwd()` says the real path: a key that
 * means "the directory the object records" must use this, not the physical cwd.
 *
 * @example
 * ```ts
 * recordedWorkingDirectory('/real/proj', { PWD: '/link/proj' }) // '/link/proj' if it is a link to it
 * ```
 */
import { statSync } from 'node:fs'

/** The directory the compiler records for `cwd` (absolute, physical) under `env`. */
export function recordedWorkingDirectory(
  cwd: string,
  env: Readonly<Record<string, string | undefined>> | undefined,
): string {
  const pwd = env?.PWD
  if (pwd === undefined || !pwd.startsWith('/') || pwd === cwd) return cwd
  const a = statSync(pwd, { bigint: true, throwIfNoEntry: false })
  const b = statSync(cwd, { bigint: true, throwIfNoEntry: false })
  if (a === undefined || b === undefined) return cwd
  return a.dev === b.dev && a.ino === b.ino ? pwd : cwd
}
