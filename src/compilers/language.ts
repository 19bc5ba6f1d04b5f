/**
 * Which language gcc/clang compile an input file as: `-x` when given (until `-x none`), else the
 * file's extension, exactly as the drivers decide. Files with an unknown extension are linker
 * inputs, not sources.
 *
 * @example
 * ```ts
 * classifyLanguage(languageOfFile('src/view.mm')) // { kind: 'source', language: 'objective-c++' }
 * ```
 */
import type { SourceLanguage } from './types.ts'

/** What an input is, for caching purposes. */
export type LanguageClass =
  | { kind: 'source'; language: SourceLanguage }
  /** Compiling a header creates a precompiled header. */
  | { kind: 'header'; name: string }
  /** Already preprocessed input (.i, .ii, .mi, .mii) or a language meshcc does not cache. */
  | { kind: 'unsupported'; name: string }
  /** No known extension and no -x: the driver passes it to the linker. */
  | { kind: 'linker-input' }

const SOURCE_LANGUAGES: ReadonlySet<string> = new Set<SourceLanguage>([
  'c',
  'c++',
  'objective-c',
  'objective-c++',
  'assembler-with-cpp',
])

const HEADER_LANGUAGES: ReadonlySet<string> = new Set([
  'c-header',
  'c++-header',
  'objective-c-header',
  'objective-c++-header',
  'objc-header',
  'objc++-header',
  'c++-system-header',
  'c++-user-header',
  'c++-header-unit',
  'c-header-unit',
])

/** Extension (with the dot, case-sensitive like the drivers) → `-x` language name. */
const BY_EXTENSION: ReadonlyMap<string, string> = new Map([
  ['.c', 'c'],
  ['.cc', 'c++'],
  ['.cp', 'c++'],
  ['.cxx', 'c++'],
  ['.cpp', 'c++'],
  ['.CPP', 'c++'],
  ['.c++', 'c++'],
  ['.C', 'c++'],
  ['.CC', 'c++'],
  ['.m', 'objective-c'],
  ['.mm', 'objective-c++'],
  ['.M', 'objective-c++'],
  ['.S', 'assembler-with-cpp'],
  ['.sx', 'assembler-with-cpp'],
  ['.s', 'assembler'],
  ['.h', 'c-header'],
  ['.hh', 'c++-header'],
  ['.H', 'c++-header'],
  ['.hp', 'c++-header'],
  ['.hxx', 'c++-header'],
  ['.hpp', 'c++-header'],
  ['.HPP', 'c++-header'],
  ['.h++', 'c++-header'],
  ['.tcc', 'c++-header'],
  ['.i', 'cpp-output'],
  ['.ii', 'c++-cpp-output'],
  ['.mi', 'objective-c-cpp-output'],
  ['.mii', 'objective-c++-cpp-output'],
  ['.cu', 'cuda'],
  ['.hip', 'hip'],
  ['.cl', 'cl'],
  ['.cppm', 'c++-module'],
  ['.ixx', 'c++-module'],
  ['.cxxm', 'c++-module'],
  ['.c++m', 'c++-module'],
  ['.ccm', 'c++-module'],
  ['.ll', 'ir'],
  ['.bc', 'ir'],
  ['.f', 'f77'],
  ['.for', 'f77'],
  ['.ftn', 'f77'],
  ['.F', 'f77-cpp-input'],
  ['.fpp', 'f77-cpp-input'],
  ['.FPP', 'f77-cpp-input'],
  ['.f90', 'f95'],
  ['.f95', 'f95'],
  ['.f03', 'f95'],
  ['.f08', 'f95'],
  ['.F90', 'f95-cpp-input'],
  ['.F95', 'f95-cpp-input'],
  ['.ads', 'ada'],
  ['.adb', 'ada'],
  ['.go', 'go'],
  ['.d', 'd'],
  ['.di', 'd'],
  ['.mod', 'modula-2'],
  ['.rs', 'rust'],
])

/** The extension of a path's last component, with its dot ('' when there is none). */
export function extensionOf(path: string): string {
  const slash = path.lastIndexOf('/')
  const dot = path.lastIndexOf('.')
  return dot > slash + 1 ? path.slice(dot) : ''
}

/** The `-x` language name the driver infers from a file name, or undefined (linker input). */
export function languageOfFile(path: string): string | undefined {
  return BY_EXTENSION.get(extensionOf(path))
}

/** Classifies a `-x` language name (given, or inferred from the extension). */
export function classifyLanguage(name: string | undefined): LanguageClass {
  if (name === undefined) return { kind: 'linker-input' }
  if (SOURCE_LANGUAGES.has(name)) return { kind: 'source', language: name as SourceLanguage }
  if (HEADER_LANGUAGES.has(name)) return { kind: 'header', name }
  // Clang's short spellings of the Objective-C languages.
  if (name === 'objc') return { kind: 'source', language: 'objective-c' }
  if (name === 'objc++') return { kind: 'source', language: 'objective-c++' }
  return { kind: 'unsupported', name }
}

/** The C languages a C++-mode driver (clang++, `--driver-mode=g++`) compiles as C++ instead. */
const CXX_FOR_C: ReadonlyMap<string, string> = new Map([
  ['c', 'c++'],
  ['c-header', 'c++-header'],
  ['cpp-output', 'c++-cpp-output'],
])

/**
 * clang in C++ mode (`clang++`, `--driver-mode=g++`): an input whose language came from its
 * extension (no `-x` in effect) and is C becomes C++ (clang 14 warns it is deprecated, but does
 * it). Objective-C, assembler and the rest keep their language.
 */
export function clangCxxLanguage(language: string | undefined): string | undefined {
  return language === undefined ? undefined : (CXX_FOR_C.get(language) ?? language)
}

/**
 * g++ (gcc's `lang_specific_driver`, g++spec.cc): a file whose name ends in `.c`, `.i` or `.h` is
 * wrapped in `-x c++` / `-x c++-cpp-output` / `-x c++-header` … `-x none`, unless a `-x` option
 * came after the previous input file. Returns the wrapped language, or undefined.
 */
export function gxxWrappedLanguage(path: string): string | undefined {
  if (path.length <= 2 || path[path.length - 2] !== '.') return undefined
  switch (path[path.length - 1]) {
    case 'c':
      return 'c++'
    case 'i':
      return 'c++-cpp-output'
    case 'h':
      return 'c++-header'
    default:
      return undefined
  }
}

/** The language state the driver carries from one argument to the next. */
export interface LanguageWalk {
  family: 'gcc' | 'clang'
  /** The driver compiles C inputs as C++ (g++, c++, clang++, clang --driver-mode=g++). */
  cxx: boolean
  /** The `-x` language in effect (undefined: by extension). */
  language: string | undefined
  /** g++: a `-x` option came after the last input, so the next input is not wrapped. */
  sawSpeclang: boolean
}

/**
 * The language the driver gives an input at this point of the command line (undefined: a linker
 * input), and whether `-x` decided it. Updates `walk` the way the driver does (g++'s wrapping
 * ends with its own `-x none`).
 */
export function inputLanguage(
  path: string,
  walk: LanguageWalk,
): { language: string | undefined; explicit: boolean } {
  // g++ skips empty and one-character names here (they do not clear its -x flag either).
  if (walk.cxx && walk.family === 'gcc' && path.length > 1) {
    if (walk.sawSpeclang) walk.sawSpeclang = false
    else {
      const wrapped = gxxWrappedLanguage(path)
      if (wrapped !== undefined) {
        walk.language = undefined
        return { language: wrapped, explicit: false }
      }
    }
  }
  if (walk.language !== undefined) return { language: walk.language, explicit: true }
  const language = languageOfFile(path)
  return {
    language: walk.cxx && walk.family === 'clang' ? clangCxxLanguage(language) : language,
    explicit: false,
  }
}
