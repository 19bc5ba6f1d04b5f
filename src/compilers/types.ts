/**
 * The compiler model: what one gcc/clang command line means for caching.
 *
 * `parseCompilerArgs()` (src/compilers/parse.ts) turns an argv into a `CompilerInvocation`:
 * either cacheable, with everything the cache key and the replay need, or uncacheable with a
 * stated reason. It is nearly pure: it reads only response files (`@file`) and clang configuration
 * files, through the injected `readFile` (plus a stat of `$PWD` in one gcc profile case), so it is
 * unit-testable on tables of real command lines.
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
  // Decided by the compile pipeline (src/compile/context.ts PIPELINE_REASONS), not the parser:
  | 'time-macros' // __TIME__/__DATE__ without SOURCE_DATE_EPOCH, or __TIMESTAMP__, in the inputs
  | 'source-missing' // the source file does not exist (the compiler reports it)
  | 'input-too-new' // an input changed while it was hashed or compiled
  | 'incbin' // inline asm `.incbin` reads a file that no depfile lists
  | 'recorded-command-line-color' // colors need an added option clang would record in the object
  | 'disabled' // MESHCC_DISABLE: not counted, the client runs the compiler

/** What the invocation asked for about dependency files (-MD, -MMD, -MF, -MT, -MQ, -MP). */
export interface DepfileRequest {
  /** 'MD' lists system headers too, 'MMD' only user headers. */
  kind: 'MD' | 'MMD'
  /** Where the compiler writes it: -MF, else the object path with `.d` (gcc rules). */
  path: string
  /**
   * The targets the compiler writes, in order: the -MT (raw, `quoted: false`) and -MQ
   * (`quoted: true`: make-quoted when written) values, else the default the compiler picks, which
   * parse fills in (always non-empty): the -o path, or without -o (and for gcc's `-Wp,-MD,file`)
   * the source's base name with `.o`. Targets are written relative, as given.
   */
  targets: { name: string; quoted: boolean }[]
  /** -MP: phony targets for every header. */
  phony: boolean
}

export interface PrefixMap {
  kind: 'file' | 'debug' | 'macro' | 'profile' | 'coverage'
  from: string
  to: string
}

/**
 * An extra file the compile writes beside the object (must be cached and restored). Listed when
 * the options make the compiler write it; some compiler versions skip it (gcc 12 writes a `.dwo`
 * even at -g0, clang does not), so store the ones that exist after the compile and restore those.
 */
export interface ExtraOutput {
  role: 'split-dwarf' | 'coverage-notes' | 'stack-usage' | 'opt-record' | 'callgraph-info'
  path: string
}

/**
 * One unit of the key's argument list. `plain` args are hashed verbatim. `path` args name a file
 * or directory the key may normalize (relative to the base directory); `option + path` is always
 * a valid joined spelling of the original argument (`-I` + `inc`, `--sysroot=` + `/sys`). A prefix
 * map `-fdebug-prefix-map=old=new` gives two KeyArgs: `{ path, option: '-fdebug-prefix-map=',
 * path: old }` then `{ plain, value: '=new' }`. Values embedded verbatim in the output
 * (-fdebug-compilation-dir, the new side of a prefix map) are `plain`, never paths.
 */
export type KeyArg =
  | { kind: 'plain'; value: string }
  | { kind: 'path'; option: string; path: string }

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
  /**
   * Args that influence the output and go into the key, in order. Path-valued options are
   * split (`-Iinc` and `-I inc` both give `{ kind: 'path', option: '-I', path: 'inc' }`) so the key
   * can normalize paths under the base directory. Output-only options (-o, -MF, -MT, -MQ,
   * color) are not in it.
   */
  hashedArgs: KeyArg[]
  /**
   * Files besides the source and its headers whose content decides the output
   * (-fplugin=, -include-pch, -specs=, -fsanitize-blacklist=, clang --config files,
   * -fbasic-block-sections=list=, profile data: the exact .gcda gcc reads, fbdata.afdo, clang's
   * .profdata…), as given (relative to the working directory). A file may be absent (hash its
   * absence) or, for clang's -fprofile-use=, a directory (default.profdata inside).
   */
  extraInputFiles: string[]
  /**
   * -include values, as given. gcc and clang use `<file>.gch` (clang also `<file>.pch`) instead
   * of the header when it exists and is valid: the pipeline must check the file system.
   */
  forcedIncludes: string[]
  /** -frecord-gcc-switches / -grecord-command-line: the object embeds the command line verbatim. */
  recordsCommandLine: boolean
  /** Coverage / profiling instrumentation that embeds the working directory in outputs. */
  embedsCwd: boolean
  /**
   * The expanded args minus -c, -S, -o <out> and every dependency option (-M*, -Wp,-MD,…):
   * without -E they would compile and link. The pipeline appends -E itself (and -M -MF <file>
   * for a dependency-only pass); the preprocessed text goes to stdout.
   */
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
  /** Reads a response or config file; injected for tests. Defaults to fs.readFileSync(path, 'utf8'). */
  readFile?: (path: string) => string
  /** Overrides the family guessed from the basename (e.g. from probing `cc --version`). */
  family?: CompilerFamily
  /**
   * The compile's environment. When given, DEPENDENCIES_OUTPUT / SUNPRO_DEPENDENCIES (extra
   * dependency files) and CCC_OVERRIDE_OPTIONS (clang rewrites its argv) make it uncacheable.
   */
  env?: Readonly<Record<string, string | undefined>>
  /**
   * clang configuration files the driver loads on its own for this command line (e.g. the one
   * `clang --version` reports as "Configuration file:"), absolute. Their options are scanned
   * before the command line's, like `--config` files: without them the parser cannot see a `-g`
   * (the working directory in the object) or `-gsplit-dwarf` (an extra output) they add. Their
   * content is already part of the compiler identity, so they are not added to extraInputFiles.
   */
  defaultConfigFiles?: readonly string[]
}
