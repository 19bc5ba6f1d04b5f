/**
 * sccache and sccache-dist, built by the benchmark from the crates.io registry (Debian ships no
 * sccache): `cargo install sccache --locked --version <pinned> --no-default-features --features
 * dist-client,dist-server` into `bench/work/tools/sccache`, reused while both binaries are there
 * and report the pinned version. Without default features the cloud storage back-ends (S3, Redis,
 * GCS…) are left out: the benchmark uses only the local disk cache and the distributed mode, and
 * the build is much shorter.
 *
 * The version is pinned so that every run measures the same sccache; `--locked` builds it with
 * the dependency versions sccache's own Cargo.lock names. The first build takes a while (20 min
 * here with one job at nice 19 on a shared machine); CARGO_BUILD_JOBS bounds its parallelism.
 */
import { existsSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { run } from '../proc.ts'

/** The sccache release the benchmark measures (needs rustc ≥ 1.91, see its `rust-version`). */
export const sccacheVersion = '0.19.0'
export const sccacheFeatures = ['dist-client', 'dist-server'] as const

export interface SccacheBinaries {
  /** The client (`sccache`): compiler wrapper and local server. */
  sccache: string
  /** `sccache-dist`: scheduler and build server. */
  dist: string
  version: string
  /** Seconds the build took in this run; undefined when an earlier build was reused. */
  builtIn?: number
}

/** Where the binaries live: `<root>/bench/work/tools/sccache/bin`. */
export function sccacheRoot(root: string): string {
  return join(root, 'bench', 'work', 'tools', 'sccache')
}

async function installedVersion(bin: string): Promise<string | undefined> {
  if (!existsSync(bin)) return undefined
  const r = await run(bin, ['--version'], { allowFailure: true })
  return r.code === 0 ? r.stdout.trim().split(/\s+/)[1] : undefined
}

/** Builds sccache (once) and returns its binaries. Needs cargo and network access to crates.io. */
export async function ensureSccache(
  root: string,
  { signal, log }: { signal?: AbortSignal; log(s: string): void },
): Promise<SccacheBinaries> {
  const dir = sccacheRoot(root)
  const bins = { sccache: join(dir, 'bin', 'sccache'), dist: join(dir, 'bin', 'sccache-dist') }
  // The marker records the features too: a build with other features is not reused.
  const marker = join(dir, 'meshcc-bench.json')
  const wanted = JSON.stringify({ version: sccacheVersion, features: sccacheFeatures })
  const markerText = await readFile(marker, 'utf8').catch(() => '')
  if (
    markerText.trim() === wanted &&
    (await installedVersion(bins.sccache)) === sccacheVersion &&
    existsSync(bins.dist)
  ) {
    return { ...bins, version: sccacheVersion }
  }
  const cargo = await run('cargo', ['--version'], { allowFailure: true }).catch(() => undefined)
  if (cargo?.code !== 0) throw new Error('cargo is not installed: cannot build sccache')
  await mkdir(dir, { recursive: true })
  const target = join(dir, '..', 'sccache-target')
  const args = [
    'install',
    'sccache',
    '--locked',
    '--version',
    sccacheVersion,
    '--no-default-features',
    '--features',
    sccacheFeatures.join(','),
    '--root',
    dir,
    '--force',
  ]
  log(`building sccache ${sccacheVersion} from crates.io: cargo ${args.join(' ')} (takes a while)`)
  const t0 = Date.now()
  const r = await run('cargo', args, {
    env: { ...process.env, CARGO_TARGET_DIR: target },
    allowFailure: true,
    ...(signal ? { signal } : {}),
  })
  if (r.code !== 0) {
    const tail = r.stderr.trim().split('\n').slice(-20).join('\n')
    throw new Error(`cargo install sccache ${sccacheVersion} failed (exit ${r.code}):\n${tail}`)
  }
  const version = await installedVersion(bins.sccache)
  if (version !== sccacheVersion || !existsSync(bins.dist))
    throw new Error(`cargo install left no sccache ${sccacheVersion} / sccache-dist in ${dir}`)
  await writeFile(marker, `${wanted}\n`)
  // The target directory (over 1 GB) is only a build cache.
  await rm(target, { recursive: true, force: true })
  const builtIn = (Date.now() - t0) / 1000
  log(`sccache ${version} built in ${Math.round(builtIn)} s`)
  return { ...bins, version, builtIn }
}
