/**
 * Which toolchain a local compiler is, cheaply, for every remote job: the compiler named in
 * `[toolchains]` of config.toml, else the local compiler packaged once and remembered by the
 * stat data (size, mtime, inode) of every file and link it was packaged from. A compiler upgrade
 * changes some stat, so the next job repackages; otherwise the answer costs a few hundred
 * `lstat`s instead of hashing 150 MiB (sccache's "weak key → strong key" map, made complete).
 * The daemon passes `recheckMs` (2 s): an answer checked less than that ago is reused as is,
 * since a parallel build asks for every job and the client's CPU per remote job is what limits
 * how wide it spreads; a compiler replaced during a build is noticed within that delay. With
 * `watch` (the daemon's choice too), the directories of a compiler's files are watched
 * (`dir-watches.ts`) from just before a check that found them unchanged, and that answer is
 * reused for as long as nothing happens there, up to a minute: a pause in the build no longer
 * costs the next job the whole check.
 *
 * With `languages`, the answer is the toolchain of only what a job in those languages runs
 * (`packageLocalCompiler`'s language sets): a C job's gcc toolchain is a third of the full one,
 * so a builder that lacks it pulls a third of the bytes. Pass the job's source language and the
 * driver it runs (`gcc x.cpp` needs the C driver and the C++ front end). Without it, the full
 * toolchain, as before. A compiler named in `[toolchains]` maps to its one toolchain either way.
 *
 * @example
 * ```ts
 * const local = new LocalToolchains(store, { stateFile: join(store.root, 'local.json'), configFile, env })
 * const id = await local.idFor('/usr/bin/gcc')
 * const cOnly = await local.idFor('/usr/bin/gcc', { languages: ['c'] })
 * ```
 */
import { existsSync, lstatSync } from 'node:fs'
import { lstat, readFile, realpath, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { compilerFamily } from '../compilers/family.ts'
import { DirWatches } from './dir-watches.ts'
import { ingestToolchain } from './ingest.ts'
import { findProgram, packageLocalCompiler, searchPath } from './package-local.ts'
import type { ToolchainLanguage } from './manifest.ts'
import { isErrno, tempName } from './safe-fs.ts'
import type { ToolchainStore } from './store.ts'
import { readToolchainMap, toolchainFor } from './toolchain-config.ts'

type Env = Readonly<Record<string, string | undefined>>
type StatKey = [path: string, size: number, mtimeMs: number, ino: number]

/** A watched answer is still checked in full this often (a missed event costs at most this). */
const WATCHED_RECHECK_MS = 60_000

interface LocalState {
  version: 1
  compilers: Record<string, { id: string; stats: StatKey[] }>
}

export class LocalToolchains {
  readonly #store: ToolchainStore
  readonly #stateFile: string
  readonly #configFile: string | undefined
  readonly #env: Env
  readonly #recheckMs: number
  #running = new Map<string, Promise<string>>()
  #saving: Promise<void> = Promise.resolve()
  /** Recent answers by the compiler as named: id and when it was last checked. */
  #recent = new Map<string, { id: string; at: number; watchedSince?: number }>()
  readonly #watches: DirWatches | undefined
  #checks = 0

  constructor(
    store: ToolchainStore,
    options: {
      stateFile?: string
      configFile?: string
      env?: Env
      recheckMs?: number
      watch?: boolean
    } = {},
  ) {
    this.#recheckMs = options.recheckMs ?? 0
    this.#watches = options.watch === true ? new DirWatches() : undefined
    this.#store = store
    this.#stateFile = options.stateFile ?? join(store.root, 'local.json')
    this.#configFile = options.configFile
    this.#env = options.env ?? process.env
  }

  /**
   * The toolchain id builders need to run `compiler` (packaging it if needed); with `languages`,
   * the toolchain of just those languages (the job's language and its driver's).
   */
  async idFor(
    compiler: string,
    { signal, languages }: { signal?: AbortSignal; languages?: readonly ToolchainLanguage[] } = {},
  ): Promise<string> {
    const set = languages === undefined ? undefined : [...new Set(languages)].sort()
    const key = set === undefined ? compiler : `${compiler}\0${set.join(',')}`
    const recent = this.#recent.get(key)
    if (recent !== undefined) {
      const age = performance.now() - recent.at
      if (age < this.#recheckMs) return recent.id
      const since = recent.watchedSince
      if (since !== undefined && age < WATCHED_RECHECK_MS && this.#watches?.quietSince(since))
        return recent.id
    }
    const at = performance.now()
    const { id, watchedSince } = await this.#check(compiler, set, signal)
    this.#recent.set(key, watchedSince === undefined ? { id, at } : { id, at, watchedSince })
    return id
  }

  /** Full checks run so far (the stat data of a compiler's files compared, or it packaged). */
  get checks(): number {
    return this.#checks
  }

  /** Stops watching (the watches never keep the process alive). */
  close(): void {
    this.#watches?.close()
  }

  async #check(
    compiler: string,
    languages: ToolchainLanguage[] | undefined,
    signal: AbortSignal | undefined,
  ): Promise<{ id: string; watchedSince?: number }> {
    this.#checks++
    if (this.#configFile !== undefined) {
      const mapped = toolchainFor(readToolchainMap(this.#configFile), compiler)
      if (mapped !== undefined) return { id: mapped }
    }
    let set = languages
    const real = await realpath(await findProgram(compiler, this.#env))
    // clang is one binary for every language: its sets are all the full toolchain.
    if ((compilerFamily(compiler) ?? compilerFamily(real)) === 'clang') set = undefined
    // The full toolchain keeps its old key, so existing state stays valid.
    const key = set === undefined ? real : `${real}\0${set.join(',')}`
    const known = (await this.#load()).compilers[key]
    if (known && (await this.#store.has(known.id))) {
      // Watched before the comparison: a change during it or after shows as an event.
      const watched = this.#watches?.cover(watchedPaths(compiler, known.stats, this.#env)) === true
      const since = performance.now()
      if (unchanged(known.stats))
        return watched ? { id: known.id, watchedSince: since } : { id: known.id }
    }
    let p = this.#running.get(key)
    if (!p) {
      p = this.#package(real, key, set, signal).finally(() => this.#running.delete(key))
      this.#running.set(key, p)
    }
    return { id: await p }
  }

  async #package(
    real: string,
    key: string,
    set: ToolchainLanguage[] | undefined,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    const sig = signal ? { signal } : {}
    const t = await packageLocalCompiler(real, {
      env: this.#env,
      ...sig,
      ...(set === undefined ? {} : { languages: set }),
    })
    const id = await ingestToolchain(this.#store, t, sig)
    const paths = [...t.manifest.files, ...t.manifest.symlinks].map((e) => `/${e.path}`)
    const stats = await Promise.all(paths.map(statKey))
    // Several language sets may finish at once: one read-modify-write of the state at a time.
    const save = this.#saving.then(async () => {
      const state = await this.#load()
      state.compilers[key] = { id, stats }
      const temp = tempName(this.#store.root, 'local-state')
      await writeFile(temp, JSON.stringify(state), { flag: 'wx' })
      await rename(temp, this.#stateFile)
    })
    this.#saving = save.catch(() => {})
    await save
    return id
  }

  async #load(): Promise<LocalState> {
    try {
      const s = JSON.parse(await readFile(this.#stateFile, 'utf8')) as LocalState
      if (s.version === 1 && typeof s.compilers === 'object' && s.compilers !== null) return s
    } catch (err) {
      if (!isErrno(err, 'ENOENT') && !(err instanceof SyntaxError)) throw err
    }
    return { version: 1, compilers: {} }
  }
}

/**
 * Where a compiler's answer can change: its files, and the name it is called by (a link, or a
 * bare name looked up in `PATH`, where a new compiler may appear in front of the old one).
 * `PATH` entries that do not exist are left out (many a `PATH` names one): a directory made
 * later is seen by the minutely full check.
 */
function watchedPaths(compiler: string, stats: StatKey[], env: Env): string[] {
  const paths = stats.map(([path]) => path)
  if (compiler.includes('/')) paths.push(compiler)
  else for (const dir of searchPath(env)) if (existsSync(dir)) paths.push(join(dir, compiler))
  return paths
}

async function statKey(path: string): Promise<StatKey> {
  const st = await lstat(path)
  return [path, st.size, st.mtimeMs, st.ino]
}

/**
 * Whether every file still has the stat data it was packaged with. Synchronous on purpose: a few
 * hundred `lstat`s take well under a millisecond of the main thread this way, where awaiting each
 * one cost a thread-pool round trip and a promise apiece (several ms of CPU per check).
 */
function unchanged(stats: StatKey[]): boolean {
  try {
    for (const [path, size, mtimeMs, ino] of stats) {
      const st = lstatSync(path, { throwIfNoEntry: false })
      if (st === undefined || st.size !== size || st.mtimeMs !== mtimeMs || st.ino !== ino) {
        return false
      }
    }
    return true
  } catch {
    return false
  }
}
