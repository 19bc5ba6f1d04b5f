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
