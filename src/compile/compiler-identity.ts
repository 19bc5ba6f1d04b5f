/**
 * The identity of a compiler: a hash of the content of every binary that decides its output,
 * never its path or mtime (two machines or two prefixes with the same gcc share entries; a
 * rebuilt gcc at the same path does not).
 *
 * - gcc: the driver, the language's compiler proper (`cc1`, `cc1plus`, `cc1obj`, `cc1objplus`,
 *   found with `-print-prog-name=`) and the assembler `as` it runs (binutils decides the object
 *   bytes as much as cc1 does), and a `specs` file if one overrides the built-in specs (found
 *   with `-print-file-name=specs`, -B prefixes first): it adds options the parser never sees.
 * - clang: the driver binary and the LLVM/clang shared libraries beside it (`libclang-cpp`,
 *   `libLLVM`), where the real compiler lives on Debian-style installs; the name it is invoked
 *   by (clang reads its mode and target from it: `clang++` compiles a `.c` file as C++,
 *   `x86_64-linux-gnu-clang` targets that triple); and its configuration files, which add
 *   options the parser never sees: every `*.cfg` in the driver's directory (real and as
 *   invoked) and in the configuration directories `--version` reports, plus the file it says it
 *   loaded. Adding, removing or editing one changes the identity (the directories' stats vouch
 *   for the record too).
 *
 * For clang the record also keeps the configuration files the driver loads on its own (what
 * `--version` reports as "Configuration file:") and whether an explicit `--config` replaces them
 * (clang up to 15) or comes after them (clang 16 on, unless `--no-default-config`): the pipeline
 * hands them to the parser, which must see a `-g` or `-gsplit-dwarf` they add.
 *
 * The result is cached by the stat of every file involved (dev, ino, size, mtime, ctime), so a
 * hit costs a few stat calls. The expensive part (spawning `-print-prog-name`, hashing tens of
 * MB) happens once per compiler and language, and is persisted across daemon restarts.
 *
 * @example
 * ```ts
 * const ids = new CompilerIdentities()
 * const id = await ids.identity({ compiler: '/usr/bin/gcc', family: 'gcc', language: 'c', env })
 * ```
 */
import { execFile } from 'node:child_process'
import { readdirSync, realpathSync, statSync } from 'node:fs'
import { basename, delimiter, dirname, isAbsolute, join } from 'node:path'
import { promisify } from 'node:util'
import type { CompilerFamily, SourceLanguage } from '../compilers/types.ts'
import type { FileHashCache } from './file-hash-cache.ts'
import { KeyHasher } from './key.ts'

const execFileAsync = promisify(execFile)

export interface IdentityRequest {
  compiler: string
  family: CompilerFamily
  language: SourceLanguage
  /** The client's environment (PATH decides which `as` gcc runs). */
  env: Record<string, string>
  /**
   * gcc `-B` prefixes, absolute: gcc looks for cc1 and as there first, so they are passed to
   * `-print-prog-name` and are part of the record's key.
   */
  prefixes?: readonly string[]
  signal?: AbortSignal
}

/** What the pipeline needs to know about a compiler. */
export interface CompilerInfo {
  identity: string
  /** clang: the configuration files it loads by itself, absolute, in order (empty for gcc). */
  defaultConfigFiles: string[]
  /** clang before 16: an explicit `--config` makes the driver skip its default files. */
  explicitConfigReplacesDefault: boolean
}

interface Cached extends CompilerInfo {
  /** Files whose stats vouch for the identity. */
  files: { path: string; stamp: string }[]
}

const GCC_PROG: Record<SourceLanguage, string> = {
  c: 'cc1',
  'c++': 'cc1plus',
  'objective-c': 'cc1obj',
  'objective-c++': 'cc1objplus',
  'assembler-with-cpp': 'cc1',
  cuda: 'cc1plus',
}

function stamp(path: string): string | undefined {
  const st = statSync(path, { bigint: true, throwIfNoEntry: false })
  if (st === undefined) return undefined
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`
}

/**
 * Where identities survive a daemon restart (hashing clang's 170 MB of libraries takes a second):
 * small records under 64-hex keys, e.g. the cache store's manifest slots. A record is only
 * trusted if every file it lists still has the recorded stat.
 */
export interface IdentityPersistence {
  get(key: string): Uint8Array | undefined
  put(key: string, data: Uint8Array): Promise<void>
}

export class CompilerIdentities {
  readonly #cache = new Map<string, Cached>()
  readonly #pending = new Map<string, Promise<Cached>>()
  readonly #files: FileHashCache
  readonly #persist: IdentityPersistence | undefined

  constructor(files: FileHashCache, persist?: IdentityPersistence) {
    this.#files = files
    this.#persist = persist
  }

  /** Fast path: the identity if it is cached and every file still has the same stat. */
  cached(request: IdentityRequest): string | undefined {
    return this.cachedInfo(request)?.identity
  }

  async identity(request: IdentityRequest): Promise<string> {
    return (await this.info(request)).identity
  }

  /** Like `cached`, with the configuration files. */
  cachedInfo(request: IdentityRequest): CompilerInfo | undefined {
    const key = this.#cacheKey(request)
    const hit = this.#cache.get(key) ?? this.#loadPersisted(key)
    if (hit === undefined) return undefined
    for (const file of hit.files) if ((stamp(file.path) ?? ABSENT) !== file.stamp) return undefined
    this.#cache.set(key, hit)
    return hit
  }

  /** Like `identity`, with the configuration files. */
  async info(request: IdentityRequest): Promise<CompilerInfo> {
    const fast = this.cachedInfo(request)
    if (fast !== undefined) return fast
    const key = this.#cacheKey(request)
    let pending = this.#pending.get(key)
    if (pending === undefined) {
      pending = this.#compute(request).finally(() => this.#pending.delete(key))
      this.#pending.set(key, pending)
      const persist = this.#persist
      if (persist !== undefined) {
        pending
          .then((computed) => persist.put(recordKey(key), Buffer.from(JSON.stringify(computed))))
          .catch(() => {
            // Persisting is an optimization only.
          })
      }
    }
    const computed = await pending
    this.#cache.set(key, computed)
    return computed
  }

  #loadPersisted(key: string): Cached | undefined {
    if (this.#persist === undefined) return undefined
    try {
      const data = this.#persist.get(recordKey(key))
      if (data === undefined) return undefined
      const record = JSON.parse(Buffer.from(data).toString()) as Cached
      if (
        typeof record.identity !== 'string' ||
        !Array.isArray(record.files) ||
        !Array.isArray(record.defaultConfigFiles) ||
        typeof record.explicitConfigReplacesDefault !== 'boolean'
      )
        return undefined
      return record
    } catch {
      return undefined
    }
  }

  #cacheKey(request: IdentityRequest): string {
    const lang = request.family === 'gcc' ? GCC_PROG[request.language] : ''
    // gcc finds `as` on PATH, and cc1 / as under -B, GCC_EXEC_PREFIX and COMPILER_PATH;
    // clang's integrated assembler depends on none of them.
    const where =
      request.family === 'gcc'
        ? [
            request.env['PATH'] ?? '',
            request.env['GCC_EXEC_PREFIX'] ?? '',
            request.env['COMPILER_PATH'] ?? '',
            ...(request.prefixes ?? []),
          ].join('\0')
        : ''
    return `${request.compiler}\0${request.family}\0${lang}\0${where}`
  }

  async #compute(request: IdentityRequest): Promise<Cached> {
    const driver = realpathSync(request.compiler)
    const parts: { role: string; path: string }[] = [{ role: 'driver', path: driver }]
    const watchDirs: string[] = []
    if (request.family === 'gcc') {
      const prog = GCC_PROG[request.language]
      for (const [role, name] of [
        ['proper', prog],
        ['as', 'as'],
      ] as const) {
        const found = await this.#printProgName(request, name)
        if (found !== undefined) parts.push({ role, path: found })
      }
      const specs = await this.#printFileName(request, 'specs')
      if (specs !== undefined) parts.push({ role: 'specs', path: specs })
      // Where a specs file would appear (-B prefixes, gcc's install directory): their stats
      // vouch for the record, so a specs file created later is noticed.
      watchDirs.push(...(request.prefixes ?? []).map((p) => (p.endsWith('/') ? p : dirname(p))))
      const install = await this.#installDir(request)
      if (install !== undefined) watchDirs.push(install)
    }
    const h = new KeyHasher('compiler-identity').field('family', request.family)
    const files: Cached['files'] = [
      { path: request.compiler, stamp: stamp(request.compiler) ?? ABSENT },
    ]
    let defaultConfigFiles: string[] = []
    let explicitConfigReplacesDefault = false
    if (request.family === 'clang') {
      for (const lib of clangLibraries(driver)) parts.push({ role: 'lib', path: lib })
      h.field('invoked-as', basename(request.compiler))
      const config = await this.#clangConfig(request, driver)
      watchDirs.push(...config.dirs)
      for (const path of config.files) parts.push({ role: `config:${basename(path)}`, path })
      defaultConfigFiles = config.loaded
      explicitConfigReplacesDefault = config.major !== undefined && config.major < 16
    }
    for (const dir of watchDirs) files.push({ path: dir, stamp: stamp(dir) ?? ABSENT })
    for (const part of parts) {
      const st = stamp(part.path)
      const hashed = this.#files.hash(part.path)
      if (st === undefined || hashed === undefined) continue
      files.push({ path: part.path, stamp: st })
      h.field(part.role, hashed.hash)
    }
    return {
      files,
      identity: h.digest(),
      defaultConfigFiles,
      explicitConfigReplacesDefault,
    }
  }

  /**
   * clang's configuration files: the directories it searches (its own, as installed and as
   * invoked, and the system/user directories `--version` names) and every `*.cfg` in them, plus
   * the files `--version` says it loaded (`loaded`), and its major version.
   */
  async #clangConfig(
    request: IdentityRequest,
    driver: string,
  ): Promise<{ dirs: string[]; files: string[]; loaded: string[]; major: number | undefined }> {
    const dirs = new Set([dirname(driver), dirname(request.compiler)])
    const files = new Set<string>()
    const loaded: string[] = []
    let major: number | undefined
    let stdout = ''
    try {
      stdout = (await this.#run(request, ['--version'])).trim()
    } catch {
      // An unusual driver: the directories beside it are still covered.
    }
    for (const line of stdout.split('\n')) {
      const m = /^(System|User) configuration file directory: (.+)$/.exec(line.trim())
      if (m?.[2] !== undefined) dirs.add(m[2])
      const config = /^Configuration file: (.+)$/.exec(line.trim())
      if (config?.[1] !== undefined) {
        files.add(config[1])
        loaded.push(config[1])
      }
      // Apple numbers its clang differently: unknown, so its defaults count as always loaded
      // (seeing options that are not there only costs sharing; missing some could be wrong).
      const version = /\bclang version (\d+)\./.exec(line)
      if (version?.[1] !== undefined && major === undefined && !line.includes('Apple'))
        major = Number(version[1])
    }
    for (const dir of dirs) {
      let names: string[] = []
      try {
        names = readdirSync(dir)
      } catch {
        // Absent now: its stat (absent) is recorded, so creating it is noticed.
      }
      for (const name of names.filter((n) => n.endsWith('.cfg')).sort()) files.add(join(dir, name))
    }
    return { dirs: [...dirs], files: [...files], loaded, major }
  }

  async #run(request: IdentityRequest, args: string[]): Promise<string> {
    const options = {
      env: request.env,
      encoding: 'utf8' as const,
      ...(request.signal === undefined ? {} : { signal: request.signal }),
    }
    const { stdout } = await execFileAsync(request.compiler, args, options)
    return stdout
  }

  /** gcc's own library directory (`install:` of -print-search-dirs), where its specs live. */
  async #installDir(request: IdentityRequest): Promise<string | undefined> {
    const out = await this.#run(request, ['-print-search-dirs']).catch(() => '')
    const line = out.split('\n').find((l) => l.startsWith('install: '))
    return line === undefined ? undefined : line.slice('install: '.length).trim()
  }

  /** `-print-file-name=`: an absolute path when gcc finds the file, else the bare name. */
  async #printFileName(request: IdentityRequest, name: string): Promise<string | undefined> {
    const prefixes = (request.prefixes ?? []).map((dir) => `-B${dir}`)
    const found = (await this.#run(request, [...prefixes, `-print-file-name=${name}`])).trim()
    return isAbsolute(found) ? safeRealpath(found) : undefined
  }

  async #printProgName(request: IdentityRequest, name: string): Promise<string | undefined> {
    const prefixes = (request.prefixes ?? []).map((dir) => `-B${dir}`)
    const found = (await this.#run(request, [...prefixes, `-print-prog-name=${name}`])).trim()
    if (found === '') return undefined
    if (isAbsolute(found)) return safeRealpath(found)
    // gcc prints the bare name when it will search PATH for it.
    for (const dir of (request.env['PATH'] ?? '').split(delimiter)) {
      if (dir === '') continue
      const candidate = safeRealpath(join(dir, found))
      if (candidate !== undefined) return candidate
    }
    return undefined
  }
}

/** The stamp recorded for a path that does not exist. */
const ABSENT = 'absent'

function recordKey(cacheKey: string): string {
  // v2: records carry the default configuration files.
  return new KeyHasher('compiler-identity-record-v2').field('key', cacheKey).digest()
}

function safeRealpath(path: string): string | undefined {
  try {
    const real = realpathSync(path)
    return statSync(real).isFile() ? real : undefined
  } catch {
    return undefined
  }
}

/** libclang-cpp / libLLVM next to a clang driver (`<prefix>/bin/clang` → `<prefix>/lib`). */
function clangLibraries(driver: string): string[] {
  const libDir = join(dirname(dirname(driver)), 'lib')
  let names: string[]
  try {
    names = readdirSync(libDir)
  } catch {
    return []
  }
  const libs = names
    .filter((n) => /^lib(clang-cpp|LLVM)[-.\w]*\.(so[.\d]*|dylib)$/.test(n))
    .sort()
    .map((n) => safeRealpath(join(libDir, n)))
    .filter((p): p is string => p !== undefined)
  return [...new Set(libs)]
}
