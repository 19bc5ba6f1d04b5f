/**
 * One pass over an expanded gcc/clang argv, collecting everything the classification needs:
 * stage flags, inputs with their language, output, dependency-file options, debug state, key
 * args and preprocessor args. It decides nothing about cacheability itself (parse.ts does), so
 * each rule lives in one place.
 *
 * @example
 * ```ts
 * const scan = scanArgs(['-c', 'a.c', '-o', 'a.o'], 'gcc')
 * scan.inputs // [{ path: 'a.c', language: 'c', explicit: false }]
 * ```
 */
import { applyDebugOption, type DebugState, newDebugState } from './debug-option.ts'
import { type DepState, newDepState } from './depfile.ts'
import { scanInputOption } from './input-options.ts'
import { inputLanguage, type LanguageWalk } from './language.ts'
import {
  colorOf,
  keyArgs,
  prefixMap,
  scanWp,
  writesAssemblerFile,
  XCLANG_FILE_NEXT,
  XCLANG_UNSUPPORTED,
} from './option-decoders.ts'
import { matchOption, type Role } from './option-table.ts'
import type { ProfileScan } from './profile-data.ts'
import type { CompilerFamily, KeyArg, PrefixMap } from './types.ts'

export interface ScannedInput {
  path: string
  /** `-x` language in effect, else inferred from the extension; undefined = linker input. */
  language: string | undefined
  explicit: boolean
}

export interface Scan {
  compile: boolean
  assemble: boolean
  preprocess: boolean
  syntaxOnly: boolean
  /** First option that only asks for information (--version, -print-*, -###…). */
  info: string | undefined
  verbose: boolean
  inputs: ScannedInput[]
  /** Last -o value. */
  output: string | undefined
  deps: DepState
  debug: DebugState
  prefixMaps: PrefixMap[]
  compilationDir: string | undefined
  color: 'always' | 'never' | 'auto'
  hashed: KeyArg[]
  preprocessor: string[]
  extraInputs: string[]
  forcedIncludes: string[]
  recordsCommandLine: boolean
  embedsCwd: boolean
  coverageNotes: boolean
  stackUsage: boolean
  callgraphInfo: boolean
  /** Clang's -fsave-optimization-record format ('yaml', 'bitstream'…). */
  optRecord: string | undefined
  /** gcc profile feedback: whether a .gcda is read, and where (profile-data.ts). */
  profile: ProfileScan
  /** clang --config files, as given (read by parse.ts and scanned ahead of the command line). */
  configFiles: string[]
  /** An option or input in a --config file that meshcc cannot follow (decides before the rest). */
  configProblem: string | undefined
  /** Debug info turned on where `-g` options cannot turn it off (-Xclang, the assembler). */
  debugForced: boolean
  /** clang -emit-llvm: the default output is `.bc` (-c) or `.ll` (-S). */
  emitLlvm: boolean
  arches: string[]
  saveTemps: string | undefined
  /** First option whose effect meshcc cannot reproduce. */
  unsupported: string | undefined
  notes: string[]
}

export interface ScanOptions {
  /** The driver compiles C inputs as C++ (g++, c++, clang++, clang --driver-mode=g++). */
  cxx?: boolean
  /** Options of clang --config files, which clang reads before the command line. */
  config?: readonly string[]
}

/** What carries from one argument to the next (the language part: language.ts). */
interface Walk extends LanguageWalk {
  /** The -Xclang value before this one, when it names a file (-load, -include-pch…). */
  xclangFileNext: string | undefined
  onlyInputs: boolean
  /** Scanning a configuration file's options. */
  inConfig: boolean
}

/** Roles that a --config file may not carry: they change what the compile writes or does. */
const NOT_IN_CONFIG: ReadonlySet<Role> = new Set<Role>([
  'output',
  'stage-c',
  'stage-S',
  'stage-E',
  'dep-M',
  'dep-MM',
  'dep-MD',
  'dep-MMD',
  'dep-MF',
  'dep-MT',
  'dep-MQ',
  'dep-MP',
  'wp',
  'info',
  'verbose',
  'save-temps',
  'syntax-only',
  'end-of-options',
  'config',
  'driver-mode',
])

export function scanArgs(
  args: readonly string[],
  family: CompilerFamily,
  options: ScanOptions = {},
): Scan {
  const s: Scan = {
    compile: false,
    assemble: false,
    preprocess: false,
    syntaxOnly: false,
    info: undefined,
    verbose: false,
    inputs: [],
    output: undefined,
    deps: newDepState(),
    debug: newDebugState(),
    prefixMaps: [],
    compilationDir: undefined,
    color: 'auto',
    hashed: [],
    preprocessor: [],
    extraInputs: [],
    forcedIncludes: [],
    recordsCommandLine: false,
    embedsCwd: false,
    coverageNotes: false,
    stackUsage: false,
    callgraphInfo: false,
    optRecord: undefined,
    profile: { gccUse: false, dir: undefined, prefixPath: undefined },
    configFiles: [],
    configProblem: undefined,
    debugForced: false,
    emitLlvm: false,
    arches: [],
    saveTemps: undefined,
    unsupported: undefined,
    notes: [],
  }
  const walk: Walk = {
    family,
    cxx: options.cxx ?? false,
    language: undefined,
    sawSpeclang: false,
    xclangFileNext: undefined,
    onlyInputs: false,
    inConfig: false,
  }
  if (options.config !== undefined && options.config.length > 0) {
    walk.inConfig = true
    scanList(s, options.config, walk)
    // clang reads the files itself again in the preprocessor run (--config stays in the args).
    s.preprocessor.length = 0
    walk.inConfig = false
  }
  scanList(s, args, walk)
  return s
}

function scanList(s: Scan, args: readonly string[], walk: Walk): void {
  const family = walk.family
  const n = args.length
  for (let i = 0; i < n; i++) {
    const arg = args[i] as string
    if (walk.onlyInputs || arg.charCodeAt(0) !== 45 /* - */ || arg === '-') {
      if (walk.inConfig) s.configProblem ??= `${arg} (an input in a --config file)`
      addInput(s, arg, walk)
      continue
    }
    const m = matchOption(args, i)
    if (m === undefined) {
      unknownOption(s, arg)
      continue
    }
    if (walk.inConfig && NOT_IN_CONFIG.has(m.spec.role)) {
      s.configProblem ??= `${arg} (in a --config file)`
    }
    if (m.width === 2) {
      i++
      if (m.value === undefined) {
        s.unsupported ??= `${arg} (missing value)`
        continue
      }
    }
    const raw = m.width === 2 ? [arg, m.value as string] : [arg]
    switch (m.spec.role) {
      case 'plain':
        s.hashed.push(...keyArgs(m, raw))
        s.preprocessor.push(...raw)
        break
      case 'output':
        s.output = m.value
        break
      case 'language':
        walk.language = m.value === 'none' ? undefined : m.value
        walk.sawSpeclang = true
        s.hashed.push({ kind: 'plain', value: `-x${m.value}` })
        s.preprocessor.push(...raw)
        break
      case 'stage-c':
        s.compile = true
        s.hashed.push({ kind: 'plain', value: '-c' })
        break
      case 'stage-S':
        s.assemble = true
        s.hashed.push({ kind: 'plain', value: '-S' })
        break
      case 'stage-E':
        s.preprocess = true
        break
      case 'dep-M':
      case 'dep-MM':
        s.deps.only = true
        break
      case 'dep-MD':
        s.deps.kind = 'MD'
        break
      case 'dep-MMD':
        s.deps.kind = 'MMD'
        break
      case 'dep-MF':
        s.deps.path = m.value
        break
      case 'dep-MT':
      case 'dep-MQ':
        s.deps.targets.push({ name: m.value as string, quoted: m.spec.role === 'dep-MQ' })
        break
      case 'dep-MP':
        s.deps.phony = true
        break
      case 'dep-MG':
        // Changes what a missing header does, so it is hashed; the preprocessor run drops it
        // because gcc refuses -MG without -M/-MM.
        s.hashed.push({ kind: 'plain', value: '-MG' })
        break
      case 'include':
        s.forcedIncludes.push(m.value as string)
        s.hashed.push(...keyArgs(m, raw))
        s.preprocessor.push(...raw)
        break
      case 'extra-input':
        s.extraInputs.push(m.value as string)
        s.hashed.push(...keyArgs(m, raw))
        s.preprocessor.push(...raw)
        break
      case 'arch':
        if (!s.arches.includes(m.value as string)) s.arches.push(m.value as string)
        s.hashed.push(...keyArgs(m, raw))
        s.preprocessor.push(...raw)
        break
      case 'xclang': {
        const value = m.value as string
        if (walk.xclangFileNext !== undefined) {
          // A plugin named without a slash is found by dlopen's library search, not here.
          if (walk.xclangFileNext !== '-include-pch' && !value.includes('/')) {
            s.unsupported ??= `-Xclang ${walk.xclangFileNext} -Xclang ${value} (library search)`
          }
          s.extraInputs.push(value)
        }
        walk.xclangFileNext = XCLANG_FILE_NEXT.has(value) ? value : undefined
        if (XCLANG_UNSUPPORTED.has(value)) s.unsupported ??= `-Xclang ${value}`
        // cc1 emits debug info (with the working directory) whatever the driver's -g options say.
        if (value.startsWith('-debug-info-kind=')) s.debugForced = true
        s.hashed.push(...keyArgs(m, raw))
        s.preprocessor.push(...raw)
        break
      }
      case 'xpreprocessor':
        if ((m.value as string).startsWith('-M')) s.unsupported ??= `-Xpreprocessor ${m.value}`
        s.hashed.push(...keyArgs(m, raw))
        s.preprocessor.push(...raw)
        break
      case 'xassembler':
        if (writesAssemblerFile(m.value as string)) s.unsupported ??= `-Xassembler ${m.value}`
        if (assemblerDebugOption(m.value as string)) s.debugForced = true
        s.hashed.push(...keyArgs(m, raw))
        s.preprocessor.push(...raw)
        break
      case 'wa':
        for (const part of (m.value as string).split(',')) {
          if (writesAssemblerFile(part)) s.unsupported ??= arg
          if (assemblerDebugOption(part)) s.debugForced = true
        }
        s.hashed.push({ kind: 'plain', value: arg })
        s.preprocessor.push(arg)
        break
      case 'wp':
        scanWp(s, arg, m.value as string)
        break
      case 'info':
        s.info ??= arg
        break
      case 'verbose':
        s.verbose = true
        s.hashed.push({ kind: 'plain', value: arg })
        s.preprocessor.push(arg)
        break
      case 'color-always':
      case 'color-never':
      case 'color-value':
        s.color = colorOf(m)
        s.preprocessor.push(arg)
        break
      case 'prefix-map-file':
      case 'prefix-map-debug':
      case 'prefix-map-macro':
      case 'prefix-map-profile':
      case 'prefix-map-coverage':
        prefixMap(s, m, arg)
        s.preprocessor.push(arg)
        break
      case 'compilation-dir':
        // Embedded verbatim in the output: a plain arg, never normalized as a path.
        s.compilationDir = m.value
        s.hashed.push({ kind: 'plain', value: m.spec.key + (m.value as string) })
        s.preprocessor.push(...raw)
        break
      case 'unsupported':
        s.unsupported ??= raw.join(' ')
        break
      case 'save-temps':
        s.saveTemps ??= arg
        break
      case 'syntax-only':
        s.syntaxOnly = true
        break
      case 'coverage':
      case 'test-coverage':
        s.coverageNotes = true
        s.embedsCwd = true
        s.hashed.push({ kind: 'plain', value: arg })
        s.preprocessor.push(arg)
        break
      case 'profile-arcs':
      case 'profile-generate':
        s.embedsCwd = true
        // gcc: also where a later -fprofile-use or -fbranch-probabilities looks.
        if (m.spec.name === '-fprofile-generate=' && family === 'gcc') s.profile.dir = m.value
        s.hashed.push({ kind: 'plain', value: arg })
        s.preprocessor.push(arg)
        break
      case 'profile-use':
      case 'profile-instr-use-default':
      case 'profile-dir':
      case 'profile-prefix-path':
      case 'branch-probabilities':
      case 'auto-profile-default':
      case 'plugin':
      case 'bb-sections':
      case 'config':
      case 'driver-mode':
        scanInputOption(s, m, raw, family)
        break
      case 'stack-usage':
        s.stackUsage = true
        s.hashed.push({ kind: 'plain', value: arg })
        s.preprocessor.push(arg)
        break
      case 'callgraph-info':
        s.callgraphInfo = true
        s.hashed.push({ kind: 'plain', value: arg })
        s.preprocessor.push(arg)
        break
      case 'opt-record':
        if (family === 'gcc') s.unsupported ??= arg
        s.optRecord = m.value === undefined || m.value === '' ? 'yaml' : m.value
        s.hashed.push({ kind: 'plain', value: arg })
        s.preprocessor.push(arg)
        break
      case 'records-on':
      case 'records-off':
        s.recordsCommandLine = m.spec.role === 'records-on'
        s.hashed.push({ kind: 'plain', value: arg })
        s.preprocessor.push(arg)
        break
      case 'cpu-tuning':
        if (m.value === 'native') s.notes.push(`${arg}: the output depends on this machine's CPU`)
        s.hashed.push({ kind: 'plain', value: arg })
        s.preprocessor.push(arg)
        break
      case 'opt-info':
        if (arg.includes('=')) s.unsupported ??= arg
        s.hashed.push({ kind: 'plain', value: arg })
        s.preprocessor.push(arg)
        break
      case 'end-of-options':
        walk.onlyInputs = true
        break
      case 'emit-llvm':
        s.emitLlvm = true
        s.hashed.push({ kind: 'plain', value: arg })
        s.preprocessor.push(arg)
        break
    }
  }
}

function addInput(s: Scan, path: string, walk: Walk): void {
  const { language, explicit } = inputLanguage(path, walk)
  s.inputs.push({ path, language, explicit })
  // Not a source: the driver passes it to the linker, and under -c warns that it is unused,
  // naming it. It is not read, but its name is in the diagnostics.
  if (language === undefined) s.hashed.push({ kind: 'plain', value: path })
  s.preprocessor.push(path)
}

/** -Wa / -Xassembler options with which `as` writes debug info (recording its directory). */
function assemblerDebugOption(part: string): boolean {
  return part === '-g' || part === '--gen-debug' || /^--?g(dwarf|stabs|codeview)/.test(part)
}

function unknownOption(s: Scan, arg: string): void {
  // gcc accepts unambiguous abbreviations of its --long options, so an unknown one could be
  // --comp(ile) or --pre(process): do not guess what it does.
  if (arg.charCodeAt(1) === 45 /* - */) s.unsupported ??= arg
  else if (arg.charCodeAt(1) === 103 /* g */) applyDebugOption(arg, s.debug)
  s.hashed.push({ kind: 'plain', value: arg })
  s.preprocessor.push(arg)
}
