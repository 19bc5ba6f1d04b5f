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
import { languageOfFile } from './language.ts'
import {
  colorOf,
  prefixMap,
  scanWp,
  writesAssemblerFile,
  XCLANG_FILE_NEXT,
  XCLANG_UNSUPPORTED,
} from './option-decoders.ts'
import { type MatchedOption, matchOption } from './option-table.ts'
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
  profileUseDefault: boolean
  /** clang -emit-llvm: the default output is `.bc` (-c) or `.ll` (-S). */
  emitLlvm: boolean
  arches: string[]
  saveTemps: string | undefined
  /** First option whose effect meshcc cannot reproduce. */
  unsupported: string | undefined
  notes: string[]
}

export function scanArgs(args: readonly string[], family: CompilerFamily): Scan {
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
    profileUseDefault: false,
    emitLlvm: false,
    arches: [],
    saveTemps: undefined,
    unsupported: undefined,
    notes: [],
  }
  let language: string | undefined
  let xclangFileNext = false
  let onlyInputs = false
  const n = args.length
  for (let i = 0; i < n; i++) {
    const arg = args[i] as string
    if (onlyInputs || arg.charCodeAt(0) !== 45 /* - */ || arg === '-') {
      addInput(s, arg, language)
      continue
    }
    const m = matchOption(args, i)
    if (m === undefined) {
      unknownOption(s, arg)
      continue
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
        language = m.value === 'none' ? undefined : m.value
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
        if (xclangFileNext) s.extraInputs.push(value)
        xclangFileNext = XCLANG_FILE_NEXT.has(value)
        if (XCLANG_UNSUPPORTED.has(value)) s.unsupported ??= `-Xclang ${value}`
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
        s.hashed.push(...keyArgs(m, raw))
        s.preprocessor.push(...raw)
        break
      case 'wa':
        for (const part of (m.value as string).split(',')) {
          if (writesAssemblerFile(part)) s.unsupported ??= arg
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
        s.hashed.push({ kind: 'plain', value: arg })
        s.preprocessor.push(arg)
        break
      case 'profile-use-default':
        s.profileUseDefault = true
        s.hashed.push({ kind: 'plain', value: arg })
        s.preprocessor.push(arg)
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
        onlyInputs = true
        break
      case 'emit-llvm':
        s.emitLlvm = true
        s.hashed.push({ kind: 'plain', value: arg })
        s.preprocessor.push(arg)
        break
    }
  }
  return s
}

function addInput(s: Scan, path: string, language: string | undefined): void {
  const explicit = language !== undefined
  s.inputs.push({ path, language: explicit ? language : languageOfFile(path), explicit })
  s.preprocessor.push(path)
}

function unknownOption(s: Scan, arg: string): void {
  // gcc accepts unambiguous abbreviations of its --long options, so an unknown one could be
  // --comp(ile) or --pre(process): do not guess what it does.
  if (arg.charCodeAt(1) === 45 /* - */) s.unsupported ??= arg
  else if (arg.charCodeAt(1) === 103 /* g */) applyDebugOption(arg, s.debug)
  s.hashed.push({ kind: 'plain', value: arg })
  s.preprocessor.push(arg)
}

/** The KeyArgs of a matched option: a path KeyArg, one joined plain, or the verbatim pair. */
function keyArgs(m: MatchedOption, raw: string[]): KeyArg[] {
  if (m.value === undefined) return [{ kind: 'plain', value: raw[0] as string }]
  if (m.spec.path) return [{ kind: 'path', option: m.spec.key, path: m.value }]
  if (m.spec.joinable) return [{ kind: 'plain', value: m.spec.key + m.value }]
  return raw.map((value) => ({ kind: 'plain', value }))
}
