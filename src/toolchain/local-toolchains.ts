/**
 * Which toolchain a local compiler is, cheaply, for every remote job: the compiler named in
 * `[toolchains]` of config.toml, else the local compiler packaged once and remembered by the
 * stat data (size, mtime, inode) of every file and link it was packaged from. A compiler upgrade
 * changes some stat, so the next job repackages; otherwise the answer costs a few hundred
 * `lstat`s instead of hashing 150 MiB (sccache's "weak key → strong key" map, made complete).
 * The daemon passes `recheckMs` (2 s): an answer checked less than that ago is reused as is,
 * since a parallel build asks for every job and the client's CPU per remote job is what limits
 * how wide it spreads; a compiler replaced during a build is noticed within that delay.
 *
 * @example
 * ```ts
 * const local = new LocalToolchains(store, { stateFile: join(store.root, 'local.json'), configFile, env })
 * const id = await local.idFor('/usr/bin/gcc')
 * ```
 */
import { lstat, readFile, realpath, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ingestToolchain } from './ingest.ts'
import { findProgram, packageLocalCompiler } from './package-local.ts'
import { isErrno, tempName } from './safe-fs.ts'
import type { ToolchainStore } from './store.ts'
import { readToolchainMap, toolchainFor } from './toolchain-config.ts'

type Env = Readonly<Record<string, string | undefined>>
type StatKey = [path: string, size: number, mtimeMs: number, ino: number]

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
  /** Recent answers by the compiler as named: id and when it was last checked. */
  #recent = new Map<string, { id: string; at: number }>()

  constructor(
    store: ToolchainStore,
    options: { stateFile?: string; configFile?: string; env?: Env; recheckMs?: number } = {},
  ) {
    this.#recheckMs = options.recheckMs ?? 0
    this.#store = store
    this.#stateFile = options.stateFile ?? join(store.root, 'local.json')
    this.#configFile = options.configFile
    this.#env = options.env ?? process.env
  }

  /** The toolchain id builders need to run `compiler` (packaging it if needed). */
  async idFor(compiler: string, { signal }: { signal?: AbortSignal } = {}): Promise<string> {
    const recent = this.#recent.get(compiler)
    if (recent !== undefined && performance.now() - recent.at < this.#recheckMs) return recent.id
    const at = performance.now()
    const id = await this.#check(compiler, signal)
    this.#recent.set(compiler, { id, at })
    return id
  }

  async #check(compiler: string, signal: AbortSignal | undefined): Promise<string> {
    if (this.#configFile !== undefined) {
      const mapped = toolchainFor(readToolchainMap(this.#configFile), compiler)
      if (mapped !== undefined) return mapped
    }
    const real = await realpath(await findProgram(compiler, this.#env))
    const known = (await this.#load()).compilers[real]
    if (known && (await this.#store.has(known.id)) && (await unchanged(known.stats)))
      return known.id
    let p = this.#running.get(real)
    if (!p) {
      p = this.#package(real, signal).finally(() => this.#running.delete(real))
      this.#running.set(real, p)
    }
    return p
  }

  async #package(real: string, signal: AbortSignal | undefined): Promise<string> {
    const sig = signal ? { signal } : {}
    const t = await packageLocalCompiler(real, { env: this.#env, ...sig })
    const id = await ingestToolchain(this.#store, t, sig)
    const paths = [...t.manifest.files, ...t.manifest.symlinks].map((e) => `/${e.path}`)
    const stats = await Promise.all(paths.map(statKey))
    const state = await this.#load()
    state.compilers[real] = { id, stats }
    const temp = tempName(this.#store.root, 'local-state')
    await writeFile(temp, JSON.stringify(state), { flag: 'wx' })
    await rename(temp, this.#stateFile)
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

async function statKey(path: string): Promise<StatKey> {
  const st = await lstat(path)
  return [path, st.size, st.mtimeMs, st.ino]
}

async function unchanged(stats: StatKey[]): Promise<boolean> {
  try {
    for (const [path, size, mtimeMs, ino] of stats) {
      const now = await statKey(path)
      if (now[1] !== size || now[2] !== mtimeMs || now[3] !== ino) return false
    }
    return true
  } catch {
    return false
  }
}
