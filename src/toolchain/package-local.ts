/**
 * Packages the local gcc or clang into a toolchain, complete and reproducible (what
 * icecc-create-env does, without its gaps):
 *
 * - gcc: the C and C++ drivers (packaging `gcc` or `g++` gives the same toolchain), cc1, cc1plus,
 *   cc1obj, cc1objplus, lto-wrapper, liblto_plugin.so, specs (if any), the `as` the driver finds
 *   on PATH, and the compiler's own headers (`lib/gcc/<triple>/<ver>/include`, `include-fixed`).
 *   Not collect2/ld/lto1/crt files/libgcc: builders only run `-c`. Not plugin headers.
 * - clang: the driver (the same binary is its cc1), `clang++` beside it, the resource dir's
 *   headers (not its runtime libraries).
 * - the loader closure (`ldd`) of every ELF file above, at the paths the loader uses.
 *
 * With `languages`, a gcc toolchain holds only what those languages' `-c` jobs run: the drivers
 * they need (gcc for C and Objective-C, g++ for C++ and Objective-C++), their front ends, `as`,
 * specs and the compiler's headers, without lto-wrapper and the linker plugin (link-time only).
 * A C job's toolchain is then a third of the full one, so a builder's first job pulls a third of
 * the bytes; every set is still a complete, content-addressed toolchain of its own.
 *
 * Not /usr/include: the client preprocesses, the builder needs no system headers. Everything is
 * laid out at its absolute host path under the root, symlinks included, modes normalised, so the
 * same installed compiler always yields the same id, on any machine where it is installed alike.
 *
 * @example
 * ```ts
 * const t = await packageLocalCompiler('gcc', { env: process.env })
 * await ingestToolchain(store, t)
 * ```
 */
import { execFile } from 'node:child_process'
import { access, constants, realpath, stat } from 'node:fs/promises'
import { basename, delimiter, dirname, isAbsolute, join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { compilerFamily } from '../compilers/family.ts'
import { ToolchainPackagingError } from '../errors.ts'
import { type CollectedToolchain, hashTree, type PhaseProgress } from './collect-files.ts'
import { isElf, sharedLibraries } from './elf-closure.ts'
import { hostPlatform } from './host-platform.ts'
import { HostTree } from './host-tree.ts'
import type { ToolchainLanguage } from './manifest.ts'

const run = promisify(execFile)
type Env = Readonly<Record<string, string | undefined>>

export interface PackageOptions {
  env?: Env
  signal?: AbortSignal
  onProgress?: PhaseProgress
  /**
   * gcc only: the languages the toolchain serves, as front ends and drivers (default: every
   * front end installed, both drivers, and the LTO helpers, as before).
   */
  languages?: readonly ToolchainLanguage[]
}

const GCC_FRONT_ENDS: [ToolchainLanguage, string][] = [
  ['c', 'cc1'],
  ['c++', 'cc1plus'],
  ['objective-c', 'cc1obj'],
  ['objective-c++', 'cc1objplus'],
]

export async function packageLocalCompiler(
  compiler: string,
  options: PackageOptions = {},
): Promise<CollectedToolchain> {
  const env = options.env ?? process.env
  const path = await findProgram(compiler, env)
  const real = await realpath(path)
  const askWith = async (prog: string, ...args: string[]) => {
    try {
      const { stdout } = await run(prog, args, {
        env: { ...env, LC_ALL: 'C' },
        timeout: 30_000,
        ...(options.signal ? { signal: options.signal } : {}),
      })
      return stdout.trim()
    } catch (err) {
      throw new ToolchainPackagingError(
        `${prog} ${args.join(' ')} failed: ${(err as Error).message}`,
      )
    }
  }
  const ask = (...args: string[]) => askWith(real, ...args)
  let version = (await ask('--version')).split('\n')[0] ?? ''
  const family =
    compilerFamily(path) ?? compilerFamily(real) ?? (/clang/.test(version) ? 'clang' : 'gcc')
  const target = await ask('-dumpmachine')
  const tree = new HostTree()
  const drivers: Partial<Record<ToolchainLanguage, string>> = {}

  if (family === 'clang') {
    drivers.c = await tree.add(real)
    drivers['objective-c'] = drivers.c
    const plus = join(dirname(real), 'clang++')
    if (await exists(plus)) {
      await tree.add(plus)
      drivers['c++'] = plus.slice(1)
      drivers['objective-c++'] = drivers['c++']
    }
    const resourceDir = await ask('-print-resource-dir')
    if (isAbsolute(resourceDir) && (await exists(join(resourceDir, 'include'))))
      await tree.add(join(resourceDir, 'include'), { recursive: true })
  } else {
    const subset = options.languages !== undefined
    const langs = new Set(options.languages ?? GCC_FRONT_ENDS.map(([l]) => l))
    const wantC = !subset || langs.has('c') || langs.has('objective-c')
    const wantCxx = !subset || langs.has('c++') || langs.has('objective-c++')
    const { c, cxx } = gccSiblings(real)
    const cDriver = wantC && (await exists(c)) ? await tree.add(c) : undefined
    // The id must not depend on which driver was named: gcc's banner starts with its own name.
    if (c !== real && (await exists(c)))
      version = (await askWith(c, '--version')).split('\n')[0] ?? ''
    const cxxDriver = wantCxx && (await exists(cxx)) ? await tree.add(cxx) : undefined
    for (const [lang, prog] of GCC_FRONT_ENDS) {
      if (!langs.has(lang)) continue
      const p = await ask(`-print-prog-name=${prog}`)
      if (!isAbsolute(p) || !(await exists(p))) continue
      await tree.add(p)
      const driver = lang === 'c' || lang === 'objective-c' ? cDriver : cxxDriver
      if (driver !== undefined) drivers[lang] = driver
    }
    const wrapper = subset ? '' : await ask('-print-prog-name=lto-wrapper')
    if (isAbsolute(wrapper) && (await exists(wrapper))) await tree.add(wrapper)
    const as = await ask('-print-prog-name=as')
    await tree.add(isAbsolute(as) ? as : await findProgram(as, env))
    // gcc runs objcopy after `as` for -gsplit-dwarf (extract and strip the .dwo sections).
    const objcopy = await ask('-print-prog-name=objcopy')
    const objcopyPath = isAbsolute(objcopy)
      ? objcopy
      : await findProgram(objcopy, env).catch(() => undefined)
    if (objcopyPath !== undefined && (await exists(objcopyPath))) await tree.add(objcopyPath)
    for (const name of subset ? ['specs'] : ['liblto_plugin.so', 'specs']) {
      const p = await ask(`-print-file-name=${name}`)
      if (isAbsolute(p) && (await exists(p))) await tree.add(p)
    }
    for (const name of ['include', 'include-fixed']) {
      const p = await ask(`-print-file-name=${name}`)
      if (isAbsolute(p) && (await exists(p))) await tree.add(p, { recursive: true })
    }
  }
  if (Object.keys(drivers).length === 0)
    throw new ToolchainPackagingError(`${real}: found no front end to package`)

  for (const host of [...tree.files.values()]) {
    if (!(await isElf(host))) continue
    const sig = options.signal ? { signal: options.signal } : {}
    for (const lib of await sharedLibraries(host, sig)) await tree.add(lib)
  }
  return hashTree(
    tree,
    { platform: hostPlatform(), targets: [target], drivers, compilerId: version },
    {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    },
  )
}

/** The C and C++ drivers of a gcc install, from either one's real path. */
export function gccSiblings(real: string): { c: string; cxx: string } {
  const dir = dirname(real)
  const name = basename(real)
  const swap = (from: string, to: string) => {
    const i = name.lastIndexOf(from)
    return i < 0 ? name : name.slice(0, i) + to + name.slice(i + from.length)
  }
  if (name.includes('g++')) return { c: join(dir, swap('g++', 'gcc')), cxx: real }
  if (/(^|-)c\+\+(-|$)/.test(name)) return { c: join(dir, swap('c++', 'cc')), cxx: real }
  if (name.includes('gcc')) return { c: real, cxx: join(dir, swap('gcc', 'g++')) }
  return { c: real, cxx: join(dir, swap('cc', 'c++')) }
}

/** The directories a bare program name is looked up in: PATH's absolute entries, in order. */
export function searchPath(env: Env): string[] {
  return (env['PATH'] ?? '/usr/bin:/bin').split(delimiter).filter((d) => isAbsolute(d))
}

/** Absolute path of a program named by path or looked up on PATH. */
export async function findProgram(name: string, env: Env): Promise<string> {
  if (name.includes('/')) {
    const p = resolve(name)
    if (await executable(p)) return p
    throw new ToolchainPackagingError(`${p} is not an executable file`)
  }
  for (const dir of searchPath(env)) {
    const p = join(dir, name)
    if (await executable(p)) return p
  }
  throw new ToolchainPackagingError(`${name} was not found on PATH`)
}

async function executable(p: string): Promise<boolean> {
  try {
    await access(p, constants.X_OK)
    return (await stat(p)).isFile()
  } catch {
    return false
  }
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  )
}
