/**
 * The real C++ project: yaml-cpp as Debian ships it (source package `yaml-cpp`, pinned
 * version), which nobody on the team wrote. Its CMake build of the library (tests and tools
 * off) compiles ~30 C++ translation units at -O2; `CMAKE_CXX_COMPILER_LAUNCHER` puts each
 * tool in front of the compiler. Downloaded once into bench/work/downloads with
 * `apt-get source --download-only`, unpacked fresh (upstream tree, Debian's patches skipped).
 */
import { existsSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { run } from '../lib/proc.ts'
import { ensureDebSrc } from '../lib/system.ts'

export const yamlPackage = { name: 'yaml-cpp', version: '0.7.0+dfsg-8' } as const
const dscName = 'yaml-cpp_0.7.0+dfsg-8.dsc'

export async function fetchYamlCpp(
  downloads: string,
  { signal, log }: { signal?: AbortSignal; log: (s: string) => void },
): Promise<string> {
  const dsc = join(downloads, dscName)
  if (existsSync(dsc)) return dsc
  await ensureDebSrc({ ...(signal ? { signal } : {}), log })
  await mkdir(downloads, { recursive: true })
  log(`apt-get source ${yamlPackage.name}=${yamlPackage.version}`)
  await run(
    'apt-get',
    ['source', '-qq', '--download-only', `${yamlPackage.name}=${yamlPackage.version}`],
    {
      cwd: downloads,
      ...(signal ? { signal } : {}),
    },
  )
  if (!existsSync(dsc)) throw new Error(`apt-get source did not produce ${dsc}`)
  return dsc
}

export async function unpackYamlCpp(
  dsc: string,
  dest: string,
  signal?: AbortSignal,
): Promise<void> {
  await rm(dest, { recursive: true, force: true })
  await run(
    'dpkg-source',
    ['--skip-patches', '--no-copy', '-x', dsc, dest],
    signal ? { signal } : {},
  )
}

/** CMake options of the benchmark build: the library only, optimised, no tests or tools. */
export const yamlCmakeOptions = [
  '-DCMAKE_BUILD_TYPE=Release',
  '-DYAML_CPP_BUILD_TESTS=OFF',
  '-DYAML_CPP_BUILD_TOOLS=OFF',
  '-DYAML_CPP_BUILD_CONTRIB=ON',
  '-DYAML_BUILD_SHARED_LIBS=OFF',
]
