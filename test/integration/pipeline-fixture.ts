/**
 * Test fixture for the compile pipeline: a handler over a real disk store in a temp dir, real
 * compilers, and helpers to compare a cached compile with a plain one.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { createDiskCacheStore } from '../../src/cache/disk-store.ts'
import type { CacheStore } from '../../src/cache/types.ts'
import { createLocalCompileHandler, type LocalCompileHandler } from '../../src/compile/pipeline.ts'
import type { CompileReply } from '../../src/compile/types.ts'
import { DEFAULT_CACHE_BYTES, type MeshccConfig } from '../../src/config/config.ts'
import { createLogger, type Logger } from '../../src/daemon/logger.ts'
import { StatsRecorder } from '../../src/stats/recorder.ts'
import type { StatsSnapshot } from '../../src/stats/types.ts'

export const COMPILERS = {
  gcc: '/usr/bin/gcc',
  gxx: '/usr/bin/g++',
  clang: '/usr/bin/clang',
  clangxx: '/usr/bin/clang++',
} as const

export interface Fixture {
  root: string
  store: CacheStore
  stats: StatsRecorder
  handler: LocalCompileHandler
  logLines: string[]
  /** Writes files (relative to root) and returns their absolute paths. */
  write(files: Record<string, string>): void
  compile(
    cwd: string,
    compiler: string,
    args: string[],
    extra?: { env?: Record<string, string>; stderrIsTty?: boolean },
  ): Promise<CompileReply>
  counters(): StatsSnapshot
  close(): Promise<void>
}

export const baseEnv = (): Record<string, string> => ({
  PATH: process.env['PATH'] ?? '/usr/bin:/bin',
  HOME: process.env['HOME'] ?? '/tmp',
  LANG: 'C',
})

export async function createFixture(
  options: { logger?: Logger; wrapStore?: (s: CacheStore) => CacheStore } = {},
): Promise<Fixture> {
  const root = mkdtempSync(join(tmpdir(), 'meshcc-pipe-'))
  const disk = createDiskCacheStore({ dir: join(root, '.cache'), maxBytes: 1 << 30 })
  await disk.start()
  const store = options.wrapStore?.(disk) ?? disk
  const stats = new StatsRecorder({ file: join(root, '.stats.json') })
  const logLines: string[] = []
  const log = options.logger ?? createLogger({ level: 'debug', write: (l) => logLines.push(l) })
  const config: MeshccConfig = {
    cacheMaxBytes: DEFAULT_CACHE_BYTES,
    logLevel: 'debug',
    idleTimeoutMs: 0,
    warnings: [],
  }
  const handler = createLocalCompileHandler({ store, stats, log, config })
  return {
    root,
    store,
    stats,
    handler,
    logLines,
    write(files) {
      for (const [name, text] of Object.entries(files)) {
        const path = resolve(root, name)
        mkdirSync(dirname(path), { recursive: true })
        writeFileSync(path, text)
      }
    },
    compile(cwd, compiler, args, extra = {}) {
      return handler.handle(
        {
          cwd,
          compiler,
          args,
          env: { ...baseEnv(), ...extra.env },
          stdoutIsTty: false,
          stderrIsTty: extra.stderrIsTty ?? false,
          umask: 0o022,
          pid: process.pid,
        },
        { signal: new AbortController().signal },
      )
    },
    counters: () => stats.snapshot(store.stats()),
    async close() {
      // Cache writes still running after their replies finish before the store stops.
      await handler.close()
      await disk.stop()
      rmSync(root, { recursive: true, force: true })
    },
  }
}

export interface PlainRun {
  exitCode: number
  stdout: string
  stderr: string
}

/** Runs the compiler directly (what a build without meshcc does). */
export function plainCompile(
  cwd: string,
  compiler: string,
  args: string[],
  env: Record<string, string> = {},
): PlainRun {
  const r = spawnSync(compiler, args, { cwd, env: { ...baseEnv(), ...env }, encoding: 'latin1' })
  return { exitCode: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}

/** Reads the given files (absolute or relative to cwd); missing files read as undefined. */
export function snapshotFiles(cwd: string, paths: string[]): Map<string, Buffer | undefined> {
  const out = new Map<string, Buffer | undefined>()
  for (const p of paths) {
    const abs = resolve(cwd, p)
    out.set(p, existsSync(abs) ? readFileSync(abs) : undefined)
  }
  return out
}

export function removeFiles(cwd: string, paths: string[]): void {
  for (const p of paths) rmSync(resolve(cwd, p), { force: true })
}

export function text(data: Uint8Array): string {
  return Buffer.from(data).toString('latin1')
}
