/**
 * gcc or clang, from the compiler's file name. Both drivers share most of their command line, but
 * differ in defaults meshcc must reproduce (dependency targets of `-Wp,-MD`, split-DWARF files).
 *
 * Recognized: gcc, g++, cc, c++ (Debian's alternatives point them at gcc), versioned and
 * cross-prefixed names (`gcc-12`, `x86_64-linux-gnu-g++-12`, `x86_64-w64-mingw32-gcc`), clang,
 * clang++, `clang-17`, `clang++-17`, `aarch64-linux-gnu-clang`, with an optional `.exe`.
 *
 * @example
 * ```ts
 * compilerFamily('/usr/bin/x86_64-linux-gnu-gcc-12') // 'gcc'
 * ```
 */
import type { CompilerFamily } from './types.ts'

/** The family of a compiler path, or undefined when the name is neither gcc nor clang. */
export function compilerFamily(compiler: string): CompilerFamily | undefined {
  switch (driverWord(compiler)) {
    case 'gcc':
    case 'g++':
    case 'cc':
    case 'c++':
      return 'gcc'
    case 'clang':
    case 'clang++':
      return 'clang'
    default:
      return undefined
  }
}

/**
 * True when the driver runs in C++ mode because of its name (`g++`, `c++`, `clang++`, with the
 * same prefixes and suffixes as above): both then compile `.c` files as C++ and `.h` files as
 * C++ headers (see language.ts `cxxDriverLanguage`).
 */
export function isCxxDriverName(compiler: string): boolean {
  const word = driverWord(compiler)
  return word === 'g++' || word === 'c++' || word === 'clang++'
}

/** The driver name: the last dash-separated word of the base name, without version or `.exe`. */
function driverWord(compiler: string): string {
  let name = compiler.slice(Math.max(compiler.lastIndexOf('/'), compiler.lastIndexOf('\\')) + 1)
  if (name.toLowerCase().endsWith('.exe')) name = name.slice(0, -4)
  // Drop Debian's mingw thread-model suffix and a version suffix (-12, -17.0.1).
  if (name.endsWith('-posix') || name.endsWith('-win32')) name = name.slice(0, -6)
  name = name.replace(/-\d+(\.\d+)*$/, '')
  // The driver name is the last dash-separated word (after a target triple, if any).
  return name.slice(name.lastIndexOf('-') + 1)
}
