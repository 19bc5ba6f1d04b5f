/**
 * The real C project of the benchmark: Zstandard as Debian ships it (source package `libzstd`,
 * pinned version), which nobody on the team wrote. Its plain Makefile build (`make`, default
 * target = static + shared library + the `zstd` program) compiles ~110 translation units with
 * -O3 and `-MMD -MP` dependency files, needs no build dependency beyond gcc and make once the
 * optional zlib/lzma/lz4 support is switched off, and takes well under a minute on 2 cores.
 *
 * The source comes from `apt-get source --download-only` into a download cache kept under
 * bench/work/ (re-used by later runs), and is unpacked fresh for every benchmark run.
 */
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, rm } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { run } from './proc.ts'
import { ensureDebSrc } from './system.ts'

export const zstdPackage = { name: 'libzstd', version: '1.5.4+dfsg2-5' } as const
const dscName = 'libzstd_1.5.4+dfsg2-5.dsc'

/** Make variables: no optional libraries, so the build is the same on every machine. */
export const zstdMakeVars = ['HAVE_ZLIB=0', 'HAVE_LZMA=0', 'HAVE_LZ4=0']

/**
 * The translation unit of the cache-hit benchmark: `programs/benchzstd.c` (~250 ms at -O3,
 * ~135 headers) with the flags zstd's own Makefile passes, dependency file included.
 */
export const hitUnit = {
  dir: 'programs',
  source: 'benchzstd.c',
  flags: [
    '-O3',
    '-Wall',
    '-Wextra',
    '-Wcast-qual',
    '-Wcast-align',
    '-Wshadow',
    '-Wstrict-aliasing=1',
    '-Wswitch-enum',
    '-Wdeclaration-after-statement',
    '-Wstrict-prototypes',
    '-Wundef',
    '-Wpointer-arith',
    '-Wvla',
    '-Wformat=2',
    '-Winit-self',
    '-Wfloat-equal',
    '-Wwrite-strings',
    '-Wredundant-decls',
    '-Wmissing-prototypes',
    '-Wc++-compat',
    '-Wa,--noexecstack',
    '-DXXH_NAMESPACE=ZSTD_',
    '-DDEBUGLEVEL=0',
    '-DZSTD_LEGACY_SUPPORT=5',
    '-DZSTD_MULTITHREAD',
  ],
} as const

/** How the unit asks for a dependency file: like zstd's Makefile (`-MMD -MP`), `-MD`, or not. */
export type DepMode = 'MMD' | 'MD' | 'none'

/** `[...prefix, 'gcc', …flags, -c, …, -o out.o, benchzstd.c]`, run in `hitUnit.dir`. */
export function unitArgv(prefix: readonly string[], out: string, dep: DepMode): string[] {
  const depArgs =
    dep === 'none'
      ? []
      : ['-MT', 'obj/benchzstd.o', dep === 'MMD' ? '-MMD' : '-MD', '-MP', '-MF', `${out}.d`]
  return [...prefix, 'gcc', ...hitUnit.flags, '-c', ...depArgs, '-o', `${out}.o`, hitUnit.source]
}

/** Downloads the pinned source package once; returns the path of its .dsc. */
export async function fetchZstd(
  downloads: string,
  { signal, log }: { signal?: AbortSignal; log: (s: string) => void },
): Promise<string> {
  const dsc = join(downloads, dscName)
  if (existsSync(dsc)) return dsc
  await ensureDebSrc({ ...(signal ? { signal } : {}), log })
  await mkdir(downloads, { recursive: true })
  log(`apt-get source ${zstdPackage.name}=${zstdPackage.version}`)
  await run(
    'apt-get',
    ['source', '-qq', '--download-only', `${zstdPackage.name}=${zstdPackage.version}`],
    {
      cwd: downloads,
      ...(signal ? { signal } : {}),
    },
  )
  if (!existsSync(dsc)) throw new Error(`apt-get source did not produce ${dsc}`)
  return dsc
}

/** Unpacks the upstream tree (Debian's patches skipped: they target Debian's CMake build). */
export async function unpackZstd(dsc: string, dest: string, signal?: AbortSignal): Promise<void> {
  await rm(dest, { recursive: true, force: true })
  await run(
    'dpkg-source',
    ['--skip-patches', '--no-copy', '-x', dsc, dest],
    signal ? { signal } : {},
  )
}

/** Object and dependency files of a build tree, path → SHA-256. The `conf_<md5>` build
 * directory name hashes $(CC), which differs per tool, so it is normalised away (in the paths,
 * and in the targets the .d files name). */
export async function objectHashes(tree: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  async function walk(dir: string): Promise<void> {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name)
      if (e.isDirectory()) await walk(p)
      else if (e.isFile() && /\.[od]$/.test(e.name)) {
        const key = relative(tree, p).replace(/conf_[0-9a-f]+/, 'conf_*')
        let data = await readFile(p)
        if (e.name.endsWith('.d')) {
          data = Buffer.from(data.toString('latin1').replace(/conf_[0-9a-f]+/g, 'conf_*'), 'latin1')
        }
        out.set(key, createHash('sha256').update(data).digest('hex'))
      }
    }
  }
  await walk(tree)
  return out
}

/** How many of those are objects (one per compile). */
export function objectCount(hashes: Map<string, string>): number {
  let n = 0
  for (const k of hashes.keys()) if (k.endsWith('.o')) n++
  return n
}

/** Differences between two object sets, as readable lines (empty when identical). */
export function compareObjects(a: Map<string, string>, b: Map<string, string>): string[] {
  const diffs: string[] = []
  for (const [k, v] of a) {
    if (!b.has(k)) diffs.push(`missing ${k}`)
    else if (b.get(k) !== v) diffs.push(`differs ${k}`)
  }
  for (const k of b.keys()) if (!a.has(k)) diffs.push(`extra ${k}`)
  return diffs
}
