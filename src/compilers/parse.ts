/**
 * `parseCompilerArgs()`: what one gcc/clang command line means for caching. The argv is expanded
 * (response files), scanned once (scan-args.ts), then classified here: uncacheable with a stated
 * reason, or cacheable with the output, dependency file, extra outputs and key args the pipeline
 * needs. Pure apart from reading `@file`s and clang `--config` files through `options.readFile`,
 * and two stat calls when gcc names profile data after a `$PWD` other than the cwd.
 *
 * The order of the checks decides which reason a line gets when several apply; the most
 * informative comes first (a link line with `-v` counts as `linking`, not `-v`).
 *
 * @example
 * ```ts
 * const inv = parseCompilerArgs(['-c', 'src/a.c', '-o', 'a.o'], { compiler: '/usr/bin/gcc', cwd })
 * if (inv.cacheable) console.log(inv.output, inv.language) // 'a.o' 'c'
 * ```
 */
import { readFileSync } from 'node:fs'
import { readConfigFiles } from './config-file.ts'
import { finishDepfile } from './depfile.ts'
import { CLANG_PRESENCE_ENV_VARS, UNSUPPORTED_ENV_VARS } from './environment.ts'
import { compilerFamily, isCxxDriverName } from './family.ts'
import { classifyLanguage } from './language.ts'
import { defaultOutput, replaceSuffix, stem } from './output-paths.ts'
import { gccProfileFile } from './profile-data.ts'
import { expandResponseFiles } from './response-file.ts'
import { type Scan, scanArgs } from './scan-args.ts'
import type {
  CacheableInvocation,
  CompilerFamily,
  CompilerInvocation,
  ExtraOutput,
  ParseOptions,
  UncacheableInvocation,
  UncacheableReason,
} from './types.ts'

function defaultReadFile(path: string): string {
  return readFileSync(path, 'utf8')
}

export function parseCompilerArgs(args: string[], options: ParseOptions): CompilerInvocation {
  const family = options.family ?? compilerFamily(options.compiler)
  if (family === undefined) return no(undefined, 'unknown-compiler', options.compiler)
  const expanded = expandResponseFiles(args, {
    cwd: options.cwd,
    readFile: options.readFile ?? defaultReadFile,
  })
  if (expanded.tooDeep) return no(family, 'bad-response-file', 'response files include themselves')
  if (expanded.unreadable.length > 0) {
    return no(family, 'bad-response-file', `cannot read ${expanded.unreadable.join(', ')}`)
  }
  const mode = driverMode(expanded.args, family, options.compiler)
  if (typeof mode === 'string') return no(family, 'unsupported-option', mode)
  let scan = scanArgs(expanded.args, family, { cxx: mode.cxx })
  const defaults = family === 'clang' ? (options.defaultConfigFiles ?? []) : []
  const configFiles = [...defaults, ...scan.configFiles]
  if (configFiles.length > 0 && scan.unsupported === undefined) {
    const config = readConfigFiles(configFiles, {
      cwd: options.cwd,
      readFile: options.readFile ?? defaultReadFile,
    })
    if (config.unsupported !== undefined)
      return no(family, 'unsupported-option', config.unsupported)
    scan = scanArgs(expanded.args, family, { cxx: mode.cxx, config: config.args })
    if (scan.configProblem !== undefined) {
      return no(family, 'unsupported-option', scan.configProblem)
    }
  }
  return classify(scan, family, expanded.args, options)
}

/**
 * Whether the driver compiles C inputs as C++: by its name (g++, c++, clang++), or for clang by
 * the last `--driver-mode=` among the raw args (clang looks at every arg's text, even an option's
 * value). Other clang modes (cl, cpp, flang, dxc) take other command lines: not cached.
 */
function driverMode(
  args: readonly string[],
  family: CompilerFamily,
  compiler: string,
): { cxx: boolean } | string {
  let cxx = isCxxDriverName(compiler)
  if (family !== 'clang') return { cxx }
  for (const arg of args) {
    if (!arg.startsWith('--driver-mode=')) continue
    const value = arg.slice('--driver-mode='.length)
    if (value === 'g++') cxx = true
    else if (value === 'gcc') cxx = false
    else return arg
  }
  return { cxx }
}

function classify(
  s: Scan,
  family: CompilerFamily,
  expandedArgs: string[],
  options: ParseOptions,
): CompilerInvocation {
  if (s.info !== undefined) return no(family, 'info-query', s.info)
  if (s.inputs.length === 0) {
    return no(family, s.verbose ? 'info-query' : 'no-source', s.verbose ? '-v' : 'no input file')
  }
  if (s.preprocess) return no(family, 'preprocess-only', '-E')
  if (s.deps.only) return no(family, 'dependencies-only', '-M or -MM without -MD/-MMD')
  if (s.syntaxOnly) return no(family, 'syntax-only', '-fsyntax-only')
  // A header input makes a precompiled header, -c or not (`gcc -x c-header a.h -o a.h.gch`).
  for (const input of s.inputs) {
    const lang = classifyLanguage(input.language)
    if (lang.kind === 'header') {
      return no(family, 'precompiled-header', `${input.path} (${lang.name})`)
    }
  }
  if (!s.compile && !s.assemble) return no(family, 'linking', 'no -c or -S')

  const sources = s.inputs.filter((input) => input.language !== undefined || input.path === '-')
  if (sources.some((input) => input.path === '-')) return no(family, 'stdin-source', '-')
  if (sources.length === 0) return no(family, 'no-source', 'only linker inputs')
  if (sources.length > 1) {
    return no(family, 'multiple-sources', sources.map((input) => input.path).join(' '))
  }
  const source = sources[0] as (typeof sources)[0]
  const lang = classifyLanguage(source.language)
  if (lang.kind !== 'source') {
    const name = lang.kind === 'unsupported' ? lang.name : 'unknown'
    return no(family, 'unsupported-language', `${source.path} (${name})`)
  }
  const action = s.assemble ? 'assemble' : 'compile'
  if (action === 'assemble' && lang.language === 'assembler-with-cpp') {
    return no(family, 'unsupported-language', `${source.path}: -S on preprocessed assembler`)
  }
  if (s.output === '-') return no(family, 'output-to-stdout', '-o -')
  // Probes discard their output; "restoring" one would mean writing over /dev/null.
  if (s.output === '/dev/null') return no(family, 'output-to-stdout', '-o /dev/null (discarded)')
  if (s.deps.kind !== undefined && s.deps.path === '/dev/null') {
    return no(family, 'output-to-stdout', '-MF /dev/null (discarded)')
  }
  if (s.deps.kind !== undefined && s.deps.path === '-') {
    return no(family, 'output-to-stdout', '-MF -')
  }
  if (s.arches.length > 1) return no(family, 'multiple-arch', `-arch ${s.arches.join(' -arch ')}`)
  if (s.saveTemps !== undefined) return no(family, 'save-temps', s.saveTemps)
  if (s.verbose) return no(family, 'unsupported-option', '-v (driver commands on stderr)')
  if (s.unsupported !== undefined) return no(family, 'unsupported-option', s.unsupported)
  for (const name of UNSUPPORTED_ENV_VARS) {
    const value = options.env?.[name]
    if (value !== undefined && value !== '') {
      return no(family, 'unsupported-option', `${name} (environment)`)
    }
  }
  if (family === 'clang') {
    for (const name of CLANG_PRESENCE_ENV_VARS) {
      if (options.env?.[name] !== undefined) {
        return no(family, 'unsupported-option', `${name} (environment)`)
      }
    }
  }

  // -MT/-MQ/-MF/-MP without -M/-MM/-MD/-MMD is an error for gcc ("to generate dependencies you
  // must specify either '-M' or '-MM'"). The pipeline adds its own -MD on a miss, which would
  // make such a command succeed: run it as is instead, so the compiler's error comes through.
  if (
    s.deps.kind === undefined &&
    !s.deps.only &&
    (s.deps.path !== undefined || s.deps.targets.length > 0 || s.deps.phony)
  ) {
    return no(family, 'unsupported-option', 'dependency options without -M, -MM, -MD or -MMD')
  }
  const explicitOutput = s.output !== undefined
  const output =
    s.output ??
    (s.emitLlvm && family === 'clang'
      ? stem(source.path) + (action === 'compile' ? '.bc' : '.ll')
      : defaultOutput(source.path, action))
  const depfile = finishDepfile(s.deps, { family, source: source.path, output, explicitOutput })
  const extraInputFiles = [...s.extraInputs]
  if (family === 'gcc' && s.profile.gccUse) {
    extraInputFiles.push(gccProfileFile(s.profile, output, options))
    // Its -Wmissing-profile warning names the file with the working directory.
    s.embedsCwd = true
  }
  const extras = extraOutputs(s, family, output)
  // The object names its .dwo (DW_AT_dwo_name) and its .gcda as -o spelled them: then the
  // output path is part of what the compile produces, verbatim.
  if (s.embedsCwd || extras.some((x) => x.role === 'split-dwarf')) {
    s.hashed.push({ kind: 'plain', value: `-o${output}` })
  }
  const notes = [...s.notes]
  for (const header of s.forcedIncludes) {
    notes.push(`-include ${header}: ${header}.gch or ${header}.pch may be used instead`)
  }
  const invocation: CacheableInvocation = {
    cacheable: true,
    family,
    language: lang.language,
    explicitLanguage: source.explicit,
    source: source.path,
    action,
    output,
    depfile,
    extraOutputs: extras,
    debugLevel: s.debugForced ? Math.max(s.debug.level, 2) : s.debug.level,
    prefixMaps: s.prefixMaps,
    debugCompilationDir: s.compilationDir,
    color: s.color,
    hashedArgs: s.hashed,
    extraInputFiles,
    forcedIncludes: s.forcedIncludes,
    recordsCommandLine: s.recordsCommandLine,
    embedsCwd: s.embedsCwd,
    preprocessorArgs: s.preprocessor,
    expandedArgs,
    notes,
  }
  return invocation
}

/** Files written beside the object; named from the output path as gcc 12 and clang 14 do. */
function extraOutputs(s: Scan, family: CompilerFamily, output: string): ExtraOutput[] {
  const out: ExtraOutput[] = []
  // gcc 12 writes a (near-empty) .dwo even without -g; clang only with debug info on.
  if (s.debug.splitDwarf && (family === 'gcc' || s.debug.level > 0)) {
    out.push({ role: 'split-dwarf', path: replaceSuffix(output, '.dwo') })
  }
  if (s.coverageNotes) out.push({ role: 'coverage-notes', path: replaceSuffix(output, '.gcno') })
  if (s.stackUsage) out.push({ role: 'stack-usage', path: replaceSuffix(output, '.su') })
  if (s.callgraphInfo) out.push({ role: 'callgraph-info', path: replaceSuffix(output, '.ci') })
  if (s.optRecord !== undefined) {
    out.push({ role: 'opt-record', path: replaceSuffix(output, `.opt.${s.optRecord}`) })
  }
  return out
}

function no(
  family: CompilerFamily | undefined,
  reason: UncacheableReason,
  detail: string,
): UncacheableInvocation {
  return { cacheable: false, family, reason, detail }
}
