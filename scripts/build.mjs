#!/usr/bin/env node
// Builds everything meshcc runs: the TypeScript sources (to dist/), the native wrapper client
// (bin/meshcc) and, when present, the native sandbox helper. Runs on `npm ci` (prepare) and
// before the tests, so a fresh clone needs no other step.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, renameSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const run = (cmd, args, opts = {}) =>
  execFileSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts })
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0

// dist/ is not deleted first: concurrent builds (tests, bench) must never see it missing.
run(join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'])

const chosenCc = process.env.CC_FOR_MESHCC
const cc = chosenCc || 'cc'
const cflags = [
  '-O2',
  '-Wall',
  '-Wextra',
  '-Werror',
  '-D_FORTIFY_SOURCE=2',
  '-fstack-protector-strong',
  '-fPIE',
  '-pie',
]
const noPie = cflags.filter((f) => f !== '-pie' && f !== '-fPIE')
const client = join(root, 'src', 'wrapper', 'native', 'meshcc.c')
if (existsSync(client)) {
  mkdirSync(join(root, 'bin'), { recursive: true })
  // Built aside then renamed: a wrapper running during the build never sees a half-written file.
  const tmp = join(root, 'bin', `.meshcc.${process.pid}`)
  // The wrapper runs once per compile, so its start-up counts. Static (no dynamic loader), and
  // on musl when musl-gcc is there: glibc's start-up asks the CPU for its cache sizes with
  // `cpuid`, which a virtual machine traps, and that cost a static glibc wrapper ~0.5 ms of
  // CPU per run on the test machine (musl: ~0.1 ms; bench/RESULTS.md). musl-gcc has no
  // static PIE, so that build is a plain static executable. Then glibc's static PIE, then a
  // dynamic PIE where the toolchain has no static libc.
  const attempts = [
    ...(chosenCc === undefined && has('musl-gcc') ? [['musl-gcc', [...noPie, '-static']]] : []),
    [cc, [...cflags.filter((f) => f !== '-pie'), '-static-pie']],
  ]
  let built = false
  for (const [compiler, flags] of attempts) {
    try {
      run(compiler, [...flags, '-o', tmp, client], { stdio: 'pipe' })
      built = true
      break
    } catch {}
  }
  if (!built) run(cc, [...cflags, '-o', tmp, client])
  renameSync(tmp, join(root, 'bin', 'meshcc'))
}
if (existsSync(join(root, 'native-sandbox', 'Makefile'))) {
  run('make', ['-s', '-C', join(root, 'native-sandbox')])
}
