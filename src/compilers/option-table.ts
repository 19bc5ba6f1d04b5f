/**
 * Spellings of the gcc/clang options the parser must understand: which take a value, whether the
 * value is joined (`-Ifoo`, `--sysroot=x`, `-ofoo`), separate (`-I foo`, `--sysroot x`) or both,
 * and what role the option plays. Lookup is one `Map.get` for the exact spelling, one for a
 * `-name=value` spelling (the text up to the first `=`), then a short list of other joined
 * prefixes chosen by the first two characters, longest first: no regex per arg.
 *
 * Options not listed are hashed verbatim by the parser (safe by default), except `-g*` (decoded
 * by debug-option.ts) and unknown `--long` options (gcc accepts abbreviations of its long options,
 * so an unknown one might be `--comp`ile or `--pre`process: not cached).
 *
 * @example
 * ```ts
 * matchOption(['-I', 'inc'], 0) // { spec: { role: 'plain', path: true, key: '-I', … }, value: 'inc', width: 2 }
 * ```
 */

export type Arity = 'flag' | 'joined' | 'separate'

export type Role =
  /** Hashed: verbatim for flags, as `key + value` for valued options (or a path KeyArg). */
  | 'plain'
  | 'output' // -o
  | 'language' // -x
  | 'stage-c'
  | 'stage-S'
  | 'stage-E'
  | 'dep-M'
  | 'dep-MM'
  | 'dep-MD'
  | 'dep-MMD'
  | 'dep-MF'
  | 'dep-MT'
  | 'dep-MQ'
  | 'dep-MP'
  | 'dep-MG'
  | 'include' // -include: forced include (may pick up a .gch)
  | 'extra-input' // a file whose content decides the output
  | 'arch'
  | 'xclang'
  | 'xpreprocessor'
  | 'xassembler'
  | 'wp' // -Wp,
  | 'wa' // -Wa,
  | 'info' // prints something and compiles nothing
  | 'verbose' // -v
  | 'color-always'
  | 'color-never'
  | 'color-value' // -fdiagnostics-color=…
  | 'prefix-map-file'
  | 'prefix-map-debug'
  | 'prefix-map-macro'
  | 'prefix-map-profile'
  | 'prefix-map-coverage'
  | 'compilation-dir'
  | 'unsupported'
  | 'save-temps'
  | 'syntax-only'
  | 'coverage' // --coverage: -fprofile-arcs + -ftest-coverage
  | 'test-coverage'
  | 'profile-arcs'
  | 'profile-generate'
  | 'profile-use' // -fprofile-use[=path]: gcc reads a .gcda (profile-data.ts), clang a .profdata
  | 'profile-instr-use-default' // clang -fprofile-instr-use: default.profdata
  | 'profile-dir' // gcc -fprofile-dir=: where .gcda files are (mangled names)
  | 'profile-prefix-path' // gcc -fprofile-prefix-path=: stripped before mangling
  | 'branch-probabilities' // gcc -fbranch-probabilities: reads the output's .gcda
  | 'auto-profile-default' // -fauto-profile: gcc reads fbdata.afdo, clang nothing
  | 'bb-sections' // clang -fbasic-block-sections=: `list=<file>` reads the file
  | 'plugin' // -fplugin= / -fpass-plugin=: a file with a slash, else a library search
  | 'config' // clang --config: a configuration file of options (config-file.ts)
  | 'driver-mode' // clang --driver-mode=: g++ mode compiles .c files as C++
  | 'stack-usage'
  | 'callgraph-info'
  | 'opt-record'
  | 'records-on'
  | 'records-off'
  | 'cpu-tuning' // -march= / -mcpu= / -mtune=: note `native`
  | 'opt-info' // -fopt-info…: stderr, unless `=file`
  | 'end-of-options' // `--`: everything after is an input
  | 'emit-llvm' // clang: LLVM IR instead of an object (default output .bc / .ll)

export interface OptionSpec {
  /** The spelling matched: the whole arg for flags and separate options, the prefix for joined. */
  readonly name: string
  readonly arity: Arity
  readonly role: Role
  /** The value is a path: hashed as `{ kind: 'path', option: key, path }`. */
  readonly path: boolean
  /** Canonical joined spelling used in KeyArgs, so `-I x` and `-Ix` hash the same. */
  readonly key: string
  /** The option also has a joined spelling, so `key + value` means the same as the pair. */
  readonly joinable: boolean
}

export interface MatchedOption {
  spec: OptionSpec
  /** The value (joined or the next arg); undefined for flags or a separate option at the end. */
  value: string | undefined
  /** How many args the option used: 1, or 2 for a separate value. */
  width: 1 | 2
}

const exact = new Map<string, OptionSpec>()
/** Joined options spelled `name=`: found by the arg's text up to its first `=`. */
const joinedEq = new Map<string, OptionSpec>()
/** Other joined prefixes, by their first two characters, longest first. */
const joinedByHead = new Map<string, OptionSpec[]>()

interface Def {
  role?: Role
  path?: boolean
  key?: string
  joinable?: boolean
}

function flag(names: string[], role: Role = 'plain'): void {
  for (const name of names) {
    exact.set(name, { name, arity: 'flag', role, path: false, key: name, joinable: false })
  }
}

function separate(names: string[], def: Def = {}): void {
  for (const name of names) {
    exact.set(name, {
      name,
      arity: 'separate',
      role: def.role ?? 'plain',
      path: def.path ?? false,
      key: def.key ?? name,
      joinable: def.joinable ?? false,
    })
  }
}

function joined(names: string[], def: Def = {}): void {
  for (const name of names) {
    const spec: OptionSpec = {
      name,
      arity: 'joined',
      role: def.role ?? 'plain',
      path: def.path ?? false,
      key: def.key ?? name,
      joinable: true,
    }
    if (name.endsWith('=') && name.indexOf('=') === name.length - 1) {
      joinedEq.set(name, spec)
      continue
    }
    const head = name.slice(0, 2)
    const list = joinedByHead.get(head) ?? []
    list.push(spec)
    joinedByHead.set(head, list)
  }
}

/** `-I foo` and `-Ifoo`: both spellings, one key. */
function joinedOrSeparate(names: string[], def: Def = {}): void {
  for (const name of names) {
    separate([name], { ...def, key: def.key ?? name, joinable: true })
    joined([name], { ...def, key: def.key ?? name })
  }
}

/** `--sysroot x` and `--sysroot=x`. */
function equalsOrSeparate(names: string[], def: Def = {}): void {
  for (const name of names) {
    separate([name], { ...def, key: def.key ?? `${name}=`, joinable: true })
    joined([`${name}=`], { ...def, key: def.key ?? `${name}=` })
  }
}

// ---- stages and outputs --------------------------------------------------------------------
flag(['-c', '--compile'], 'stage-c')
flag(['-S', '--assemble'], 'stage-S')
flag(['-E', '--preprocess'], 'stage-E')
joinedOrSeparate(['-o'], { role: 'output' })
equalsOrSeparate(['--output'], { role: 'output' })
joinedOrSeparate(['-x'], { role: 'language' })
equalsOrSeparate(['--language'], { role: 'language' })
flag(['--'], 'end-of-options')
flag(['-fsyntax-only', '--syntax-only'], 'syntax-only')
flag(['-save-temps', '--save-temps'], 'save-temps')
joined(['-save-temps='], { role: 'save-temps' })

// ---- dependency files ----------------------------------------------------------------------
flag(['-M', '--dependencies'], 'dep-M')
flag(['-MM', '--user-dependencies'], 'dep-MM')
flag(['-MD', '--write-dependencies'], 'dep-MD')
flag(['-MMD', '--write-user-dependencies'], 'dep-MMD')
flag(['-MP'], 'dep-MP')
flag(['-MG', '--print-missing-file-dependencies'], 'dep-MG')
joinedOrSeparate(['-MF'], { role: 'dep-MF' })
joinedOrSeparate(['-MT'], { role: 'dep-MT' })
joinedOrSeparate(['-MQ'], { role: 'dep-MQ' })
joinedOrSeparate(['-MJ'], { role: 'unsupported' }) // clang: writes a compilation-database entry
flag(['-MV', '-Mmodules', '-Mno-modules'], 'unsupported') // other depfile formats and contents

// ---- preprocessor: macros, include paths, forced includes ----------------------------------
joinedOrSeparate(['-D', '-U', '-A'])
equalsOrSeparate(['--define-macro'], { key: '-D' })
equalsOrSeparate(['--undefine-macro'], { key: '-U' })
/**
 * Options that add a directory to the header search path (joined or separate value). Also
 * used by the remote builder (src/remote/builder-args.ts), which drops them: the preprocessed
 * text it compiles already holds every header.
 */
export const INCLUDE_SEARCH_OPTIONS: readonly string[] = [
  '-I',
  '-isystem',
  '-iquote',
  '-idirafter',
  '-iprefix',
  '-iwithprefix',
  '-iwithprefixbefore',
  '-isysroot',
  '-isystem-after',
  '-cxx-isystem',
  '-iframework',
  '-iframeworkwithsysroot',
]
flag(['-I-'])
joinedOrSeparate([...INCLUDE_SEARCH_OPTIONS, '-imacros', '-F', '-L', '-B'], { path: true })
joinedOrSeparate(['-iwithsysroot', '-imultilib', '-imultiarch'])
equalsOrSeparate(['--include-directory'], { path: true, key: '-I' })
equalsOrSeparate(['--include-directory-after'], { path: true, key: '-idirafter' })
equalsOrSeparate(['--include-prefix'], { path: true, key: '-iprefix' })
equalsOrSeparate(['--include-with-prefix'], { path: true, key: '-iwithprefix' })
equalsOrSeparate(['--include-with-prefix-before'], { path: true, key: '-iwithprefixbefore' })
equalsOrSeparate(['--include-with-prefix-after'], { path: true, key: '-iwithprefix' })
equalsOrSeparate(['--imacros'], { path: true, key: '-imacros' })
joinedOrSeparate(['-include'], { role: 'include', path: true })
equalsOrSeparate(['--include'], { role: 'include', path: true, key: '-include' })
separate(['-include-pch', '-ivfsoverlay'], { role: 'extra-input', path: true })
equalsOrSeparate(['--sysroot'], { path: true })
separate(['-resource-dir'], { path: true, key: '-resource-dir=', joinable: true })
separate(['-gcc-toolchain'], { path: true, key: '--gcc-toolchain=', joinable: true })
joined(['-resource-dir=', '--gcc-toolchain='], { path: true })

// ---- targets, architectures, pass-through --------------------------------------------------
separate(['-arch'], { role: 'arch' })
separate(['-target'], { key: '--target=', joinable: true })
joined(['--target='])
separate(['-Xclang'], { role: 'xclang' })
separate(['-Xpreprocessor'], { role: 'xpreprocessor' })
separate(['-Xassembler'], { role: 'xassembler' })
separate([
  '-Xlinker',
  '-Xanalyzer',
  '-Xcuda-ptxas',
  '-Xcuda-fatbinary',
  '-Xopenmp-target',
  '-mllvm',
  '-framework',
  '-install_name',
  '-z',
  '-u',
  '-e',
])
joinedOrSeparate(['-l', '-T'])
joined(['-Wp,'], { role: 'wp' })
joined(['-Wa,'], { role: 'wa' })
joined(['-Wl,'])
equalsOrSeparate(['--param'])
joined(['-march=', '-mcpu=', '-mtune='], { role: 'cpu-tuning' })
joined(['-specs=', '--specs='], { role: 'extra-input', path: true, key: '-specs=' })
separate(['-specs'], { role: 'extra-input', path: true, key: '-specs=', joinable: true })
// Extra files, or auxiliary files moved away from where meshcc expects them (-dumpdir…).
separate(
  [
    '-aux-info',
    '--serialize-diagnostics',
    '-serialize-diagnostics',
    '-index-store-path',
    '-wrapper',
    '-dumpbase',
    '-dumpdir',
    '-dumpbase-ext',
  ],
  { role: 'unsupported' },
)
separate(['-working-directory'], { role: 'unsupported' })
joined(['-working-directory='], { role: 'unsupported' })
joined(['-objcmt-'], { role: 'unsupported' })

// ---- information queries -------------------------------------------------------------------
flag(
  [
    '--version',
    '-dumpversion',
    '-dumpfullversion',
    '-dumpmachine',
    '-dumpspecs',
    '--help',
    '--target-help',
    '-###',
    '-print-search-dirs',
    '-print-libgcc-file-name',
    '-print-multiarch',
    '-print-multi-directory',
    '-print-multi-lib',
    '-print-multi-os-directory',
    '-print-sysroot',
    '-print-sysroot-headers-suffix',
    '-print-resource-dir',
    '-print-target-triple',
    '-print-effective-triple',
    '-print-targets',
    '-print-supported-cpus',
  ],
  'info',
)
joined(['-print-', '--print-', '--help='], { role: 'info' })
flag(['-v', '--verbose'], 'verbose')

// ---- diagnostics colour (not hashed) -------------------------------------------------------
flag(['-fdiagnostics-color', '-fcolor-diagnostics'], 'color-always')
flag(['-fno-diagnostics-color', '-fno-color-diagnostics'], 'color-never')
joined(['-fdiagnostics-color='], { role: 'color-value' })

// ---- paths recorded in outputs -------------------------------------------------------------
joined(['-ffile-prefix-map='], { role: 'prefix-map-file' })
joined(['-fdebug-prefix-map='], { role: 'prefix-map-debug' })
joined(['-fmacro-prefix-map='], { role: 'prefix-map-macro' })
joined(['-fprofile-prefix-map='], { role: 'prefix-map-profile' })
joined(['-fcoverage-prefix-map='], { role: 'prefix-map-coverage' })
equalsOrSeparate(['-fdebug-compilation-dir'], { role: 'compilation-dir' })
joined(['-ffile-compilation-dir=', '-fcoverage-compilation-dir='], { role: 'compilation-dir' })

// ---- files read besides the source ---------------------------------------------------------
joined(['-fplugin=', '-fpass-plugin='], { role: 'plugin', path: true })
joined(
  [
    '-fprofile-instr-use=',
    '-fprofile-remapping-file=',
    '-fprofile-sample-use=',
    '-fauto-profile=',
    '-fsanitize-blacklist=',
    '-fsanitize-ignorelist=',
    '-fsanitize-system-ignorelist=',
    '-fsanitize-coverage-allowlist=',
    '-fsanitize-coverage-ignorelist=',
    '-fsanitize-coverage-whitelist=',
    '-fsanitize-coverage-blacklist=',
    '-fsanitize-coverage-blocklist=',
    '-fprofile-list=',
    '-fxray-attr-list=',
    '-fxray-always-instrument=',
    '-fxray-never-instrument=',
  ],
  { role: 'extra-input', path: true },
)
flag(['-fprofile-use'], 'profile-use')
joined(['-fprofile-use='], { role: 'profile-use', path: true })
flag(['-fprofile-instr-use'], 'profile-instr-use-default')
joined(['-fprofile-dir='], { role: 'profile-dir' })
joined(['-fprofile-prefix-path='], { role: 'profile-prefix-path' })
flag(['-fbranch-probabilities'], 'branch-probabilities')
flag(['-fauto-profile'], 'auto-profile-default')
joined(['-fbasic-block-sections='], { role: 'bb-sections' })
separate(['--config'], { role: 'config', path: true })
joined(['--config='], { role: 'config', path: true })
joined(['--driver-mode='], { role: 'driver-mode' })

// ---- extra outputs and instrumentation -----------------------------------------------------
flag(['--coverage', '-coverage'], 'coverage')
flag(['-ftest-coverage'], 'test-coverage')
flag(['-fprofile-arcs', '-fcoverage-mapping', '-fprofile-abs-path'], 'profile-arcs')
flag(
  ['-fprofile-generate', '-fprofile-instr-generate', '-fcs-profile-generate'],
  'profile-generate',
)
joined(['-fprofile-generate=', '-fprofile-instr-generate=', '-fcs-profile-generate='], {
  role: 'profile-generate',
})
flag(['-fstack-usage'], 'stack-usage')
flag(['-fcallgraph-info'], 'callgraph-info')
joined(['-fcallgraph-info='], { role: 'callgraph-info' })
flag(['-fsave-optimization-record'], 'opt-record')
joined(['-fsave-optimization-record='], { role: 'opt-record' })
flag(['-frecord-gcc-switches', '-frecord-command-line', '-grecord-command-line'], 'records-on')
flag(
  ['-fno-record-gcc-switches', '-fno-record-command-line', '-gno-record-command-line'],
  'records-off',
)

// ---- options that write files meshcc does not track, or use module caches ------------------
joined(['-fmodules', '-fmodule-', '-fcxx-modules', '-fprebuilt-module-path', '-fimplicit-module'], {
  role: 'unsupported',
})
flag(
  ['-gmodules', '-ftime-trace', '-fdump-go-spec', '-emit-module', '-emit-pch', '-save-stats'],
  'unsupported',
)
flag(['-emit-llvm'], 'emit-llvm')
joined(
  [
    '-ftime-trace=',
    '-foptimization-record-file=',
    '-fdump-',
    '-fstats-file=',
    '-save-stats=',
    '-fprofile-note=',
  ],
  {
    role: 'unsupported',
  },
)
joined(['-fopt-info'], { role: 'opt-info' })
flag(['-fopt-info'], 'plain')
// -fdump-* options that only change how other dumps look, or print to stderr.
flag(['-fdump-noaddr', '-fdump-unnumbered', '-fdump-unnumbered-links', '-fdump-passes'])

for (const list of joinedByHead.values()) list.sort((a, b) => b.name.length - a.name.length)

/** Matches `args[i]` (an arg starting with `-`) against the table; undefined if unknown. */
export function matchOption(args: readonly string[], i: number): MatchedOption | undefined {
  const arg = args[i] as string
  const spec = exact.get(arg)
  if (spec !== undefined) {
    if (spec.arity === 'separate') return { spec, value: args[i + 1], width: 2 }
    return { spec, value: undefined, width: 1 }
  }
  const eq = arg.indexOf('=')
  if (eq > 0) {
    const spec = joinedEq.get(arg.slice(0, eq + 1))
    if (spec !== undefined) return { spec, value: arg.slice(eq + 1), width: 1 }
  }
  const candidates = joinedByHead.get(arg.slice(0, 2))
  if (candidates === undefined) return undefined
  for (const candidate of candidates) {
    if (arg.startsWith(candidate.name)) {
      return { spec: candidate, value: arg.slice(candidate.name.length), width: 1 }
    }
  }
  return undefined
}
