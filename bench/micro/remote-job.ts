/**
 * Client-side cost of one remote job, small and reproducible: two real daemons on loopback
 * joined into one organisation (`meshcc join` / `org invite`, mDNS off), the client with
 * `MESHCC_MODE=remote MESHCC_RECACHE=1`, N compiles of the same unit through `bin/meshcc`.
 *
 * Prints, per unit: plain gcc wall per job, meshcc wall per job (and the difference), the client
 * daemon's CPU per job (`/proc/<pid>/stat`: utime + stime + the reaped children's cutime +
 * cstime, so the preprocessor is included), the wrapper's CPU per job (bash `times`: the loop's
 * children), and the builder daemon's CPU per job for reference. Both daemons share this
 * machine's cores, so wall includes the builder's compile.
 *
 * Run (after `node scripts/build.mjs`):
 *   node bench/micro/remote-job.ts [N=30] [--prof]   # --prof: the client's Node processes get
 *   --cpu-prof (and --heapsnapshot-signal=SIGUSR2), written under <home dir>/prof
 *   --prof-builder: the same for the builder's Node processes, under its home dir's prof/
 *   --daemon-flag=--trace-gc (repeatable): the client daemon is restarted with these Node flags,
 *   its stdout and stderr in <home dir>/daemon.out.
 * Env: MESHCC_BENCH_UNITS=tiny,huf,cxx (default tiny,huf), MESHCC_BENCH_KEEP=1 keeps the homes,
 * MESHCC_BENCH_LOG=debug sets both daemons' log level, MESHCC_BENCH_BUILDER_ENV="K=V,…" gives the
 * builder's daemon settings (side-by-side runs, e.g. MESHCC_INCLUDE_INPUT=0).
 */
import { spawn, spawnSync } from 'node:child_process'
import { openSync } from 'node:fs'
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { DAEMON_NODE_FLAGS } from '../../src/daemon/node-flags.ts'
import type { DirectorySnapshot } from '../../src/mesh/types.ts'
import type { StatsSnapshot } from '../../src/stats/types.ts'
import {
  daemonPid,
  makeHome,
  meshccBin,
  repoRoot,
  runCommand,
  stopDaemon,
  type TestHome,
} from '../../test/helpers/meshcc-home.ts'

const argv = process.argv.slice(2)
const USAGE =
  'usage: node bench/micro/remote-job.ts [N=30] [--prof] [--prof-builder] [--daemon-flag=FLAG]...\n' +
  'env: MESHCC_BENCH_UNITS=tiny,huf,cxx MESHCC_BENCH_KEEP=1 MESHCC_BENCH_LOG=debug\n' +
  '     MESHCC_BENCH_BUILDER_ENV="K=V,..." (settings for the builder daemon)\n'
const unknown = argv.find(
  (a) =>
    !/^\d+$/.test(a) &&
    !['--prof', '--prof-builder'].includes(a) &&
    !a.startsWith('--daemon-flag='),
)
if (unknown !== undefined) {
  const help = unknown === '--help' || unknown === '-h'
  process[help ? 'stdout' : 'stderr'].write(
    help ? USAGE : `remote-job: unknown argument ${unknown}\n${USAGE}`,
  )
  process.exit(help ? 0 : 2)
}
const N = Number(argv.find((a) => /^\d+$/.test(a)) ?? 30)
const PROF = argv.includes('--prof')
const PROF_BUILDER = argv.includes('--prof-builder')
/** Node flags for the client daemon (restarted with them after joining), e.g. --trace-gc. */
const DAEMON_FLAGS = argv.filter((a) => a.startsWith('--daemon-flag=')).map((a) => a.slice(14))
const TICK_MS = 1000 / 100

interface Unit {
  id: string
  cwd: string
  args: string[]
}

async function join2(h: TestHome, invite?: string, env: NodeJS.ProcessEnv = h.env) {
  const args = ['join', '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns', '--json']
  if (invite) args.push('--invite', invite)
  const r = await runCommand(meshccBin, args, { cwd: h.dir, env })
  if (r.code !== 0) throw new Error(`join: ${r.stdout}${r.stderr}`)
  return (JSON.parse(r.stdout.toString()) as { peerId: string }).peerId
}

async function waitSees(h: TestHome, peer: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const r = await runCommand(meshccBin, ['peers', '--json'], { cwd: h.dir, env: h.env })
    const s = JSON.parse(r.stdout.toString() || '{}') as Partial<DirectorySnapshot>
    if (s.peers?.some((p) => p.peerId === peer && p.connected && p.cores !== null)) return
    await sleep(250)
  }
  throw new Error(`never saw ${peer}`)
}

async function cpuTicks(pid: number): Promise<{ self: number; children: number }> {
  const s = await readFile(`/proc/${pid}/stat`, 'latin1')
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ')
  // fields after ')' start at field 3 (state): utime=14, stime=15, cutime=16, cstime=17
  const n = (i: number) => Number(f[i - 3])
  return { self: n(14) + n(15), children: n(16) + n(17) }
}

/** SIGUSR2 → a heap snapshot in `dir`; waits until the file count grows and settles. */
async function snapshot(pid: number, dir: string): Promise<void> {
  const count = async () =>
    (await readdir(dir).catch(() => [])).filter((f) => f.endsWith('.heapsnapshot')).length
  const n = await count()
  process.kill(pid, 'SIGUSR2')
  while ((await count()) === n) await sleep(200)
  await sleep(3000)
}

async function stats(h: TestHome): Promise<StatsSnapshot> {
  const r = await runCommand(meshccBin, ['stats', '--json'], { cwd: h.dir, env: h.env })
  return JSON.parse(r.stdout.toString()) as StatsSnapshot
}

/** Runs `cmd` n times in one bash loop; returns wall ms and the loop's children's CPU ms. */
function loop(cmd: string[], cwd: string, env: NodeJS.ProcessEnv, n: number) {
  const q = cmd.map((a) => `'${a}'`).join(' ')
  const script = `for i in $(seq ${n}); do ${q} >/dev/null || exit 1; done; times`
  const t0 = performance.now()
  const r = spawnSync('bash', ['-c', script], { cwd, env, encoding: 'utf8' })
  const wall = performance.now() - t0
  if (r.status !== 0) throw new Error(`${cmd.join(' ')}: ${r.stderr}`)
  // `times`: line 2 = children's user and sys, like 0m0.123s 0m0.045s
  const line = r.stdout.trim().split('\n')[1] ?? ''
  const secs = [...line.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]))
  return { wallMs: wall, cpuMs: (secs.reduce((a, b) => a + b, 0) * 1000) as number }
}

async function main(): Promise<void> {
  const a = await makeHome('meshcc-bj-')
  const b = await makeHome('meshcc-bj-')
  const level = process.env['MESHCC_BENCH_LOG']
  if (level !== undefined) for (const h of [a, b]) h.env['MESHCC_LOG_LEVEL'] = level
  const aEnv: NodeJS.ProcessEnv = { ...a.env }
  if (PROF) {
    // Every Node process of the client's home (the daemon that `join` starts included) writes a
    // CPU profile there; the daemon's is the largest. SIGUSR2 takes a heap snapshot.
    aEnv['NODE_OPTIONS'] =
      `--cpu-prof --cpu-prof-dir=${join(a.dir, 'prof')} --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${join(a.dir, 'prof')}`
  }
  try {
    const aPeer = await join2(a, undefined, aEnv)
    const inv = await runCommand(meshccBin, ['org', 'invite'], { cwd: a.dir, env: aEnv })
    const bEnv: NodeJS.ProcessEnv = { ...b.env }
    // MESHCC_BENCH_BUILDER_ENV="K=V,…": settings for the builder's daemon (side-by-side runs).
    for (const kv of (process.env['MESHCC_BENCH_BUILDER_ENV'] ?? '').split(',').filter(Boolean)) {
      const eq = kv.indexOf('=')
      if (eq > 0) bEnv[kv.slice(0, eq)] = kv.slice(eq + 1)
    }
    if (PROF_BUILDER) bEnv['NODE_OPTIONS'] = `--cpu-prof --cpu-prof-dir=${join(b.dir, 'prof')}`
    const bPeer = await join2(b, inv.stdout.toString().trim(), bEnv)
    await waitSees(a, bPeer)
    await waitSees(b, aPeer)
    if (DAEMON_FLAGS.length > 0) {
      // Restarted by hand with the flags (after the daemon's own, as the native client starts it;
      // its output in <dir>/daemon.out); it rejoins at once.
      await stopDaemon(a.home)
      const out = openSync(join(a.dir, 'daemon.out'), 'w')
      const node = join(repoRoot, 'node_modules', 'node', 'bin', 'node')
      const main = join(repoRoot, 'dist', 'daemon', 'main.js')
      spawn(node, [...DAEMON_NODE_FLAGS, ...DAEMON_FLAGS, main], {
        env: aEnv,
        stdio: ['ignore', out, out],
        detached: true,
      }).unref()
      await waitSees(a, bPeer)
      await waitSees(b, aPeer)
    }
    const work = join(a.dir, 'work')
    await mkdir(work, { recursive: true })
    await writeFile(join(work, 'tiny.c'), 'int tiny(int x) { return x + 1; }\n')
    // A C++ unit with the standard headers of a typical library source (like yaml-cpp's).
    await writeFile(
      join(work, 'cxx.cpp'),
      [
        '#include <algorithm>',
        '#include <iostream>',
        '#include <map>',
        '#include <memory>',
        '#include <sstream>',
        '#include <string>',
        '#include <vector>',
        'std::string cxx(const std::vector<std::string>& v) {',
        '  std::map<std::string, int> m; std::ostringstream o;',
        '  for (const auto& s : v) m[s]++;',
        '  for (const auto& [k, n] : m) o << k << n;',
        '  return o.str();',
        '}',
        '',
      ].join('\n'),
    )
    await cp(join(repoRoot, 'test', 'fixtures', 'real', 'zstd-1.5.4'), join(work, 'zstd'), {
      recursive: true,
    })
    const all: Unit[] = [
      { id: 'tiny', cwd: work, args: ['gcc', '-O2', '-c', 'tiny.c', '-o', 'tiny.o'] },
      { id: 'cxx', cwd: work, args: ['g++', '-O2', '-c', 'cxx.cpp', '-o', 'cxx.o'] },
      {
        id: 'huf',
        cwd: join(work, 'zstd'),
        args: ['gcc', '-O2', '-g', '-MMD', '-c', 'lib/compress/huf_compress.c', '-o', 'huf.o'],
      },
    ]
    const want = (process.env['MESHCC_BENCH_UNITS'] ?? 'tiny,huf').split(',')
    const units = all.filter((u) => want.includes(u.id))
    const env = { ...aEnv, MESHCC_MODE: 'remote', MESHCC_RECACHE: '1' }
    // Warm-up: the toolchain is packaged and pulled by the builder.
    for (const u of units) loop([meshccBin, ...u.args], u.cwd, env, 3)
    const pidA = (await daemonPid(a.home)) as number
    const pidB = (await daemonPid(b.home)) as number
    for (const u of units) {
      const plain = loop(u.args, u.cwd, a.env, N)
      const s0 = await stats(a)
      if (PROF) await snapshot(pidA, join(a.dir, 'prof'))
      const a0 = await cpuTicks(pidA)
      const b0 = await cpuTicks(pidB)
      const m = loop([meshccBin, ...u.args], u.cwd, env, N)
      const a1 = await cpuTicks(pidA)
      const b1 = await cpuTicks(pidB)
      if (PROF) await snapshot(pidA, join(a.dir, 'prof'))
      const s1 = await stats(a)
      const remote = s1.remote_compiles - s0.remote_compiles
      const per = (x: number) => (x / N).toFixed(1)
      console.log(
        `${u.id}: N=${N} remote=${remote} | plain ${per(plain.wallMs)} ms/job wall | meshcc ${per(m.wallMs)} ms/job wall (+${per(m.wallMs - plain.wallMs)}) | client CPU/job: daemon ${per((a1.self - a0.self) * TICK_MS)} + preprocess/children ${per((a1.children - a0.children) * TICK_MS)} + wrapper ${per(m.cpuMs)} = ${per((a1.self - a0.self + a1.children - a0.children) * TICK_MS + m.cpuMs)} ms | builder daemon ${per((b1.self - b0.self + b1.children - b0.children) * TICK_MS)} ms | plain gcc CPU ${per(plain.cpuMs)} ms`,
      )
    }
  } finally {
    if (process.env['MESHCC_BENCH_KEEP'] !== '1') {
      await b.cleanup()
      await a.cleanup()
    } else console.log(`kept ${a.dir} ${b.dir}`)
  }
}

await main()
