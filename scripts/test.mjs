#!/usr/bin/env node
// The whole test suite, as `npm test` and `.ci/run` run it on a fresh machine:
// installs the compilers the end-to-end tests use (Debian packages, when root and missing),
// builds meshcc, type-checks, lints, then runs every test with node's test runner.
import { execFileSync, spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts })
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0
const step = (name) => console.log(`\n== ${name}`)

// Compilers and tools the tests drive: package → a command it provides.
const systemPackages = {
  clang: 'clang',
  gobjc: 'gcc-12', // gobjc provides cc1obj; checked below
  'gobjc++': 'gcc-12',
  ccache: 'ccache',
  iproute2: 'ip',
  cmake: 'cmake',
  'ninja-build': 'ninja',
  make: 'make',
  tmux: 'tmux',
  // Not needed by a test: the wrapper is built on musl when it is there (scripts/build.mjs), so
  // the suite checks the wrapper users get after following README's setup.
  'musl-tools': 'musl-gcc',
}
const missing = Object.entries(systemPackages)
  .filter(([pkg, cmd]) => !has(cmd) || (pkg.startsWith('gobjc') && !hasObjc(pkg)))
  .map(([pkg]) => pkg)
function hasObjc(pkg) {
  const prog = pkg === 'gobjc' ? 'cc1obj' : 'cc1objplus'
  const out = spawnSync('gcc', [`-print-prog-name=${prog}`], { encoding: 'utf8' }).stdout.trim()
  return out.startsWith('/')
}
if (missing.length > 0) {
  if (process.getuid?.() === 0 && has('apt-get')) {
    step(`installing ${missing.join(' ')}`)
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    run('apt-get', ['update', '-qq'], { env })
    run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env })
  } else {
    console.log(`note: ${missing.join(' ')} missing and not root: tests that need them will skip`)
  }
}

step('build')
run(process.execPath, [join(root, 'scripts', 'build.mjs')])
step('type-check')
run(join(root, 'node_modules', '.bin', 'tsc'), ['--noEmit', '-p', 'tsconfig.test.json'])
step('lint')
run(join(root, 'node_modules', '.bin', 'biome'), ['lint', 'src', 'test', 'scripts', 'bench'])
step('tests')
const filter = process.argv.slice(2)
const patterns = filter.length > 0 ? filter : ['test/**/*.test.ts']
const res = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-timeout=900000', '--test-reporter=spec', ...patterns],
  { cwd: root, stdio: 'inherit' },
)
process.exit(res.status ?? 1)
