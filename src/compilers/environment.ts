/**
 * Environment variables gcc and clang read, sorted by what the cache must do about them. The
 * parser only sees argv; the pipeline hashes these from the compile's environment.
 *
 * @example
 * ```ts
 * const keyEnv = OUTPUT_ENV_VARS.map((name) => `${name}=${env[name] ?? ''}`)
 * ```
 */

/** Change the object or the preprocessed text: hash their values into the key. */
export const OUTPUT_ENV_VARS: readonly string[] = [
  'CPATH',
  'C_INCLUDE_PATH',
  'CPLUS_INCLUDE_PATH',
  'OBJC_INCLUDE_PATH',
  'OBJCPLUS_INCLUDE_PATH',
  'SOURCE_DATE_EPOCH', // __DATE__ / __TIME__
  'GCC_EXEC_PREFIX', // which cc1 / as run
  'COMPILER_PATH',
  'MACOSX_DEPLOYMENT_TARGET',
  'IPHONEOS_DEPLOYMENT_TARGET',
  'SDKROOT',
  'DEVELOPER_DIR', // macOS: selects the Xcode whose clang runs
  'CLANG_NO_DEFAULT_CONFIG', // clang skips its default .cfg files
  'GCC_COMPARE_DEBUG', // gcc recompiles and compares; can change diagnostics and failures
]

/** Change only the diagnostics text on stderr (language, colours, width, hyperlinks). */
export const DIAGNOSTICS_ENV_VARS: readonly string[] = [
  'LANG',
  'LANGUAGE',
  'LC_ALL',
  'LC_MESSAGES',
  'LC_CTYPE',
  'GCC_COLORS',
  'GCC_EXTRA_DIAGNOSTIC_OUTPUT', // gcc 11+: fix-it hints in machine-readable form
  'GCC_URLS',
  'TERM_URLS',
  'COLUMNS',
]

/**
 * Make the compiler write extra files (DEPENDENCIES_OUTPUT, SUNPRO_DEPENDENCIES) or rewrite its
 * own argv (CCC_OVERRIDE_OPTIONS): a compile with one of them set (non-empty) is not cached.
 */
export const UNSUPPORTED_ENV_VARS: readonly string[] = [
  'DEPENDENCIES_OUTPUT',
  'SUNPRO_DEPENDENCIES',
  'CCC_OVERRIDE_OPTIONS',
]

/**
 * clang's driver writes its command lines, header lists, diagnostics or process statistics to a
 * file (or stderr) when one of these is set, even to an empty value: such a compile is not cached.
 */
export const CLANG_PRESENCE_ENV_VARS: readonly string[] = [
  'CC_PRINT_OPTIONS',
  'CC_PRINT_HEADERS',
  'CC_LOG_DIAGNOSTICS',
  'CC_PRINT_PROC_STAT',
]
