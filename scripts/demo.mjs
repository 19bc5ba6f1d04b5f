#!/usr/bin/env node
// `npm start`: meshcc's main job on its embedded default. Compiles examples/hello through the
// wrapper (`bin/meshcc gcc …`) with a local cache in a fresh state directory: a miss, then a hit,
// `meshcc stats` after each, the timings against plain gcc, and a check that the cached objects
// are byte-identical to plain gcc's. Stops the demo's daemon at the end, whatever happens.
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const meshcc = join(root, 'bin', 'meshcc')
const demo = join(root, '.meshcc-demo')
const home = join(demo, 'home')
const work = join(demo, 'hello')
const sources = ['hello.c', 'greet.c']
const cflags = ['-O2', '-Wall', '-Wextra']
const hitRuns = 20

if (!existsSync(meshcc)) {
  console.error('meshcc: bin/meshcc is missing; run `npm ci` (or `node scripts/build.mjs`) first')
  process.exit(1)
}
const gcc = which('gcc')
if (gcc === undefined) {
  console.error('meshcc demo: gcc is not on PATH; install it (Debian: apt-get install gcc)')
  process.exit(1)
}

// A fresh node: its own state directory, nothing inherited that changes meshcc's behaviour.
rmSync(demo, { recursive: true, force: true })
mkdirSync(home, { recursive: true })
cpSync(join(root, 'examples', 'hello'), work, { recursive: true })
const env = { ...process.env, MESHCC_HOME: home }
for (const key of Object.keys(env)) {
  if (key.startsWith('MESHCC_') && key !== 'MESHCC_HOME') delete env[key]
}

let failed = false
try {
  heading(`meshcc demo: compiling examples/hello with MESHCC_HOME=${rel(home)}`)

  // Reference: the plain compiler, for timings and for the byte-identity check.
  mkdirSync(join(work, 'plain'))
  const plainMs = sources.map((src) =>
    timed(gcc, [...cflags, '-c', src, '-o', join('plain', obj(src))]),
  )
  console.log(`plain gcc:        ${sources.map((s, i) => `${s} ${fmt(plainMs[i])}`).join(', ')}`)

  heading(
    '1. first compile through the wrapper: cache miss (the first call also starts the daemon)',
  )
  const missMs = sources.map((src) => wrapped(src))
  console.log(`meshcc gcc, miss: ${sources.map((s, i) => `${s} ${fmt(missMs[i])}`).join(', ')}`)
  run(meshcc, ['stats'])

  heading('2. same compile again (objects deleted first): cache hit')
  for (const src of sources) rmSync(join(work, obj(src)))
  const hitMs = sources.map((src) => wrapped(src))
  console.log(`meshcc gcc, hit:  ${sources.map((s, i) => `${s} ${fmt(hitMs[i])}`).join(', ')}`)
  run(meshcc, ['stats'])

  heading('3. checks')
  const same = sources.every((src) =>
    readFileSync(join(work, obj(src))).equals(readFileSync(join(work, 'plain', obj(src)))),
  )
  console.log(`objects from the cache byte-identical to plain gcc's: ${same ? 'yes' : 'NO'}`)
  if (!same) failed = true
  run(gcc, [...sources.map(obj), '-o', 'hello'])
  const out = spawnSync(join(work, 'hello'), ['meshcc'], { encoding: 'utf8' })
  console.log(`linked program says: ${out.stdout.trim()}`)

  // Timing over many runs: single runs are noisy on a shared machine.
  const hits = []
  const plains = []
  for (let i = 0; i < hitRuns; i++) {
    rmSync(join(work, 'hello.o'))
    hits.push(wrapped('hello.c'))
    plains.push(timed(gcc, [...cflags, '-c', 'hello.c', '-o', join('plain', 'hello.o')]))
  }
  const hitMedian = median(hits)
  const plainMedian = median(plains)
  heading(
    `4. timing, median of ${hitRuns} alternating runs of hello.c (includes spawning from Node)`,
  )
  console.log(`plain gcc ${fmt(plainMedian)}   meshcc hit ${fmt(hitMedian)}`)
  console.log(`a hit takes ${((100 * hitMedian) / plainMedian).toFixed(0)}% of a plain compile`)
} catch (err) {
  failed = true
  console.error(`meshcc demo failed: ${err instanceof Error ? err.message : String(err)}`)
} finally {
  heading('stopping the demo daemon')
  stopDaemon()
}
process.exit(failed ? 1 : 0)

/** Compiles one source through the wrapper; fails the demo if the compile fails. */
function wrapped(src) {
  return timed(meshcc, ['gcc', ...cflags, '-c', src, '-o', obj(src)])
}

/** Runs a command in the work dir, output shown only on failure; returns wall milliseconds. */
function timed(cmd, args) {
  const start = process.hrtime.bigint()
  const res = spawnSync(cmd, args, { cwd: work, env, encoding: 'utf8' })
  const ms = Number(process.hrtime.bigint() - start) / 1e6
  if (res.status !== 0) {
    process.stderr.write(res.stdout ?? '')
    process.stderr.write(res.stderr ?? '')
    throw new Error(`${[cmd, ...args].join(' ')} exited with ${res.status ?? res.signal}`)
  }
  return ms
}

/** Runs a command in the work dir with its output shown. */
function run(cmd, args) {
  const res = spawnSync(cmd, args, { cwd: work, env, stdio: 'inherit' })
  if (res.status !== 0) throw new Error(`${[cmd, ...args].join(' ')} exited with ${res.status}`)
}

function stopDaemon() {
  const res = spawnSync(meshcc, ['daemon', 'stop'], { cwd: work, env, stdio: 'inherit' })
  if (res.status === 0) return
  // The CLI failed: stop the daemon this demo started by its pid, and nothing else.
  const pidFile = join(home, 'run', 'daemon.pid')
  const pid = existsSync(pidFile) ? Number.parseInt(readFileSync(pidFile, 'utf8'), 10) : Number.NaN
  if (Number.isSafeInteger(pid) && pid > 0) {
    try {
      process.kill(pid, 'SIGTERM')
      console.log(`sent SIGTERM to daemon pid ${pid}`)
    } catch {
      // Already gone.
    }
  }
}

function which(cmd) {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir !== '' && existsSync(join(dir, cmd))) return join(dir, cmd)
  }
  return undefined
}

function obj(src) {
  return src.replace(/\.c$/, '.o')
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

function fmt(ms) {
  return `${ms.toFixed(1)} ms`
}

function rel(p) {
  return p.startsWith(`${root}/`) ? p.slice(root.length + 1) : p
}

function heading(text) {
  console.log(`\n== ${text}`)
}
