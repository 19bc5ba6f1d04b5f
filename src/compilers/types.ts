/**
 * The compiler model: what one gcc/clang command line means for caching.
 *
 * `parseCompilerArgs()` (src/compilers/parse.ts) turns an argv into a `CompilerInvocation`:
 * either cacheable, with everything the cache key and the replay need, or uncacheable with a
 * stated reason. It is pure: it reads no files except response files (`@file`), through the
 * injected `readFile`, so it is unit-testable on tables of real command lines.
 */

export type CompilerFamily = 'gcc' | 'clang'

/** gcc `-x` language names that meshcc caches. */
export type SourceLanguage =
  | 'c'
  | 'c++'
  | 'objective-c'
  | 'objective-c++'
  | 'assembler-with-cpp'
  | 'cuda'

/** Why an invocation is not cached. Stable strings: they are counted in `meshcc stats`. */
export type UncacheableReason =
  | 'linking' // no -c/-S: the driver links
  | 'preprocess-only' // -E
  | 'dependencies-only' // -M / -MM without -MD/-MMD (deps to stdout or -MF, no object)
  | 'syntax-only' // -fsyntax-only
  | 'info-query' // --version, -v alone, -###, -dumpmachine, -print-*, --help
  | 'no-source' // no input file
  | 'multiple-sources' // more than one input file with -c (gcc allows it; outputs are implicit)
  | 'stdin-source' // source read from stdin (`-`)
  | 'output-to-stdout' // -o -
  | 'unsupported-language' // e.g. plain assembler (.s), fortran, ada, go
  | 'unsupported-option' // an option whose effect meshcc cannot reproduce (detail names it)
  | 'precompiled-header' // creating a PCH (c-header, c++-header… as input)
  | 'bad-response-file' // an @file that cannot be read
  | 'save-temps' // -save-temps writes files meshcc does not track
  | 'multiple-arch' // several -arch values (fat objects)
  | 'unknown-compiler' // the compiler is neither gcc nor clang

/** What the invocation asked for about dependency files (-MD, -MMD, -MF, -MT, -MQ, -MP). */
export interface DepfileRequest {
  /** 'MD' lists system headers too, 'MMD' only user headers. */
  kind: 'MD' | 'MMD'
  /** Where the compiler writes it: -MF, else the object path with `.d` (gcc rules). */
  path: string
  /** Explicit targets from -MT (raw) and -MQ (quoted), in order; empty → the object path. */
  targets: { name: string; quoted: boolean }[]
  /** -MP: phony targets for every header. */
  phony: boolean
}

export interface PrefixMap {
  kind: 'file' | 'debug' | 'macro' | 'profile' | 'coverage'
  from: string
  to: string
}

/** An extra file the compile writes beside the object (must be cached and restored). */
export interface ExtraOutput {
  role: 'split-dwarf' | 'coverage-notes' | 'stack-usage' | 'opt-record' | 'callgraph-info'
  path: string
}

export interface CacheableInvocation {
  cacheable: true
  family: CompilerFamily
  language: SourceLanguage
  /** True if -x was given explicitly (affects how the language was decided). */
  explicitLanguage: boolean
  /** The source file, as written on the command line (relative or absolute). */
  source: string
  /** -c (object) or -S (assembly). */
  action: 'compile' | 'assemble'
  /** The output path, as given by -o or defaulted the way the compiler does. */
  output: string
  depfile: DepfileRequest | undefined
  extraOutputs: ExtraOutput[]
  /** Debug information level from the last -g option (0 = none). */
  debugLevel: number
  prefixMaps: PrefixMap[]
  /** -fdebug-compilation-dir / -ffile-compilation-dir value, if any. */
  debugCompilationDir: string | undefined
  /** -fdiagnostics-color / -fcolor-diagnostics state as given ('auto' if absent). */
  color: 'always' | 'never' | 'auto'
  /** Args that influence the output and go into the key, in order (with their values). */
  hashedArgs: string[]
  /** Args that name a path (values of -I, -isystem, -include, --sysroot, …) — normalized for base_dir. */
  pathArgs: string[]
  /** Args to run only the preprocessor: the original args minus output/dependency options, plus -E. */
  preprocessorArgs: string[]
  /** Args after response-file expansion (what the compiler would see). */
  expandedArgs: string[]
  /** Non-fatal notes (e.g. options the key treats specially), for debug logs. */
  notes: string[]
}

export interface UncacheableInvocation {
  cacheable: false
  family: CompilerFamily | undefined
  reason: UncacheableReason
  /** Human detail: the offending option, etc. */
  detail: string
}

export type CompilerInvocation = CacheableInvocation | UncacheableInvocation

export interface ParseOptions {
  /** Absolute path of the real compiler (its basename decides gcc vs clang: clang, clang++, clang-17…). */
  compiler: string
  /** Working directory, to resolve response files. */
  cwd: string
  /** Reads a response file; injected for tests. Defaults to fs.readFileSync(path, 'utf8'). */
  readFile?: (path: string) => string
}
