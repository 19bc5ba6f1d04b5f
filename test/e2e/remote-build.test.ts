/**
 * Distributed compilation end to end: three real daemons (separate processes, each with its own
 * `MESHCC_HOME`) joined into one organisation with `meshcc join` / `org invite`, mDNS off, each
 * in its own network namespace on a bridge the test makes (`test/helpers/netns-lan.ts`; loopback
 * when the test cannot make namespaces, or with `MESHCC_E2E_LOOPBACK=1`). The client (A) builds
 * two real projects nobody on the team wrote (part of Zstandard in C, TinyXML-2 in C++:
 * `test/fixtures/real/`) with `make` and `MESHCC_MODE=remote`, so every distributable compile goes
 * to builder B or C; every object (and depfile) must equal, byte for byte, what a plain local
 * build (no meshcc) makes at the same path, `-g` included.
 *
 * Also: the builders start without any toolchain and pull A's from the mesh (their logs say so);
 * `auto` compiles here first; compile errors come back exactly as the compiler printed them; a
 * builder killed (SIGKILL) in the middle of a job costs a retry elsewhere or a local compile,
 * never a failed build or a different object. Prints the figures it sees (wall times, per-job
 * overhead, toolchain transfer). Needs the build (`node scripts/build.mjs`) and, for namespaces,
 * root and iproute2.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import type { DirectorySnapshot } from '../../src/mesh/types.ts'
import type { StatsSnapshot } from '../../src/stats/types.ts'
import { sees } from '../helpers/joined-node.ts'
import {
  type CommandResult,
  daemonPid,
  isAlive,
  makeHome,
  meshccBin,
  repoRoot,
  runCommand,
  type TestHome,
} from '../helpers/meshcc-home.ts'
import { type Lan, makeLan, netnsUnavailable } from '../helpers/netns-lan.ts'

const FIXTURES = join(repoRoot, 'test', 'fixtures', 'real')

/** zstd's own way of building: -MMD -MP dependency files, warnings on, -O2 with debug info. */
const ZSTD_MAKEFILE = `CC ?= cc
CFLAGS = -O2 -g -Wall -Wextra -DXXH_NAMESPACE=ZSTD_ -DZSTD_MULTITHREAD
SRCS = $(wildcard lib/common/*.c) $(wildcard lib/compress/*.c)
OBJS = $(patsubst lib/%.c,obj/%.o,$(SRCS))
all: $(OBJS)
obj/%.o: lib/%.c
\t@mkdir -p $(dir $@)
\t$(CC) $(CFLAGS) -MMD -MP -c $< -o $@
-include $(OBJS:.o=.d)
`

/** TinyXML-2's library and test program, C++, no dependency files. */
const TINYXML_MAKEFILE = `CXX ?= c++
CXXFLAGS = -O1 -g -Wall -DTINYXML2_DEBUG
all: obj/tinyxml2.o obj/xmltest.o
obj/%.o: %.cpp
\t@mkdir -p obj
\t$(CXX) $(CXXFLAGS) -c $< -o $@
`

async function objects(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>()
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) await walk(p)
      else if (e.name.endsWith('.o') || e.name.endsWith('.d')) out.set(p, await readFile(p))
    }
  }
  await walk(dir)
  return out
}

/** Network namespaces when this machine can make them (root); loopback otherwise or if asked. */
const LOOPBACK_ONLY = process.env['MESHCC_E2E_LOOPBACK'] === '1' || netnsUnavailable() !== undefined

interface Node {
  h: TestHome
  peerId: string
  /** Runs a program on this node's host (in its namespace). */
  run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<CommandResult>
  cli(args: string[]): Promise<CommandResult>
  waitPeers(pred: (s: DirectorySnapshot) => boolean, timeoutMs?: number): Promise<void>
}

/** A fresh home on host `i` that ran `meshcc join [--invite TOKEN]` there, mDNS off. */
async function startNode(lan: Lan | undefined, i: number, invite?: string): Promise<Node> {
  const h = await makeHome('meshcc-rb-')
  const prefix = lan?.exec(i) ?? []
  const baseEnv = { ...h.env, MESHCC_LOG_LEVEL: 'debug' }
  const run = (cmd: string, args: string[], env: NodeJS.ProcessEnv = baseEnv) =>
    prefix.length === 0
      ? runCommand(cmd, args, { cwd: h.dir, env, timeoutMs: 240_000 })
      : runCommand(prefix[0] as string, [...prefix.slice(1), cmd, ...args], {
          cwd: h.dir,
          env,
          timeoutMs: 240_000,
        })
  const cli = (args: string[]) => run(meshccBin, args)
  const listen = `/ip4/${lan?.addr(i) ?? '127.0.0.1'}/tcp/0`
  const args = ['join', '--listen', listen, '--no-mdns', '--json']
  if (invite !== undefined) args.push('--invite', invite)
  const r = await cli(args)
  if (r.code !== 0) {
    await h.cleanup()
    assert.fail(`meshcc ${args.join(' ')} → ${r.code}: ${r.stdout}${r.stderr}`)
  }
  const { peerId } = JSON.parse(r.stdout.toString()) as { peerId: string }
  return {
    h,
    peerId,
    run,
    cli,
    waitPeers: async (pred, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs
      let last = ''
      for (;;) {
        const p = await cli(['peers', '--json'])
        last = p.stdout.toString()
        if (p.code === 0 && pred(JSON.parse(last) as DirectorySnapshot)) return
        if (Date.now() > deadline) assert.fail(`peers of ${peerId} never matched: ${last}`)
        await sleep(250)
      }
    },
  }
}

function assertSame(local: Map<string, Buffer>, remote: Map<string, Buffer>): void {
  assert.deepEqual([...remote.keys()].sort(), [...local.keys()].sort())
  for (const [path, data] of local) {
    assert.ok(remote.get(path)?.equals(data), `${path} differs from the local build`)
  }
}

const where = LOOPBACK_ONLY ? 'on loopback' : 'in network namespaces'

describe(`remote builds across three daemons ${where}`, {
  skip: process.platform !== 'linux' && 'Linux only',
  timeout: 300_000,
}, () => {
  let lan: Lan | undefined
  let a: Node
  let b: Node
  let c: Node
  let work: string
  let zstdPlainMs = Number.NaN

  before(async () => {
    assert.ok(existsSync(join(repoRoot, 'dist', 'daemon', 'main.js')), 'run the build first')
    if (!LOOPBACK_ONLY) lan = makeLan(3)
    a = await startNode(lan, 0)
    const r = await a.cli(['org', 'invite', '--uses', '3'])
    assert.equal(r.code, 0, r.stderr.toString())
    const token = r.stdout.toString().trim()
    b = await startNode(lan, 1, token)
    c = await startNode(lan, 2, token)
    // Everyone sees everyone, with a live advert.
    for (const [n, want] of [
      [a, [b, c]],
      [b, [a, c]],
      [c, [a, b]],
    ] as const)
      await n.waitPeers((s) => want.every((w) => sees(s, w.peerId)))
    work = await mkdtemp('/tmp/meshcc-e2e-remote-')
  })
  after(async () => {
    await Promise.all([a, b, c].filter(Boolean).map((n) => n.h.cleanup()))
    lan?.destroy()
    if (work) await rm(work, { recursive: true, force: true })
  })

  const stats = async (n: Node = a): Promise<StatsSnapshot> => {
    const r = await n.cli(['stats', '--json'])
    assert.equal(r.code, 0, r.stderr.toString())
    return JSON.parse(r.stdout.toString()) as StatsSnapshot
  }
  /** Jobs the builders B and C compiled for members, by their own `meshcc stats`. */
  const builtForMembers = async () => {
    let n = 0
    for (const s of [await stats(b), await stats(c)]) {
      assert.ok((s.builder_slots ?? 0) > 0, `a builder that offers no slot: ${JSON.stringify(s)}`)
      n += s.builder_jobs_compiled ?? 0
    }
    return n
  }
  const log = (n: Node) => readFile(join(n.h.home, 'logs', 'daemon.log'), 'utf8')

  /** Unpacks a fixture at `dir` with its Makefile. */
  async function unpack(name: string, dir: string, makefile: string): Promise<void> {
    await rm(dir, { recursive: true, force: true })
    await cp(join(FIXTURES, name), dir, { recursive: true })
    await writeFile(join(dir, 'Makefile'), makefile)
  }

  /** `make -j4` with `vars`; returns the wall time. */
  async function make(dir: string, vars: string[], env: NodeJS.ProcessEnv): Promise<number> {
    const t0 = performance.now()
    const r = await a.run('make', ['-C', dir, '-j4', ...vars], env)
    assert.equal(r.code, 0, `make ${vars.join(' ')}: ${r.stdout}${r.stderr}`)
    return performance.now() - t0
  }

  /** A plain local build, then the remote build at the same path: objects must be identical. */
  async function localThenRemote(
    name: string,
    makefile: string,
    compilerVar: 'CC' | 'CXX',
    compiler: string,
    extraEnv: NodeJS.ProcessEnv = {},
  ) {
    const dir = join(work, name)
    await unpack(name, dir, makefile)
    const plain = await make(dir, [`${compilerVar}=${compiler}`], process.env)
    const local = await objects(join(dir, 'obj'))
    assert.ok(local.size > 0)
    await rm(join(dir, 'obj'), { recursive: true, force: true })
    const remoteEnv = { ...a.h.env, MESHCC_MODE: 'remote', ...extraEnv }
    const remote = await make(dir, [`${compilerVar}=${meshccBin} ${compiler}`], remoteEnv)
    assertSame(local, await objects(join(dir, 'obj')))
    return { plainMs: plain, remoteMs: remote, objects: local.size, dir }
  }

  it('builds Zstandard (C) remotely with objects identical to a local build', async () => {
    const before = await stats()
    const builtBefore = await builtForMembers()
    const r = await localThenRemote('zstd-1.5.4', ZSTD_MAKEFILE, 'CC', 'gcc')
    zstdPlainMs = r.plainMs
    const after = await stats()
    const remote = after.remote_compiles - before.remote_compiles
    const built = (await builtForMembers()) - builtBefore
    process.stderr.write(
      `zstd: ${r.objects} files, local ${r.plainMs.toFixed(0)} ms, remote ${r.remoteMs.toFixed(0)} ms, ${remote} remote compiles, fallbacks ${JSON.stringify(after.remote_fallback_reasons)}, built by B and C ${built}\n`,
    )
    assert.ok(remote > 0, `no remote compile: ${JSON.stringify(after)}`)
    // The builders' side of `meshcc stats`: every remote compile of A was a job B or C compiled.
    assert.ok(built >= remote, `builders counted ${built} jobs for ${remote} remote compiles`)
    const granted = (after.remote_reservations ?? 0) - (before.remote_reservations ?? 0)
    assert.ok(granted >= remote, `${granted} reservations granted for ${remote} remote compiles`)
    const text = (await b.cli(['stats'])).stdout.toString()
    assert.match(text, /Builder \(jobs for members\)\s+\d+ slots/)
  })

  it('builds TinyXML-2 (C++) remotely with objects identical to a local build', async () => {
    const before = await stats()
    const r = await localThenRemote('tinyxml2-9.0.0', TINYXML_MAKEFILE, 'CXX', 'g++')
    const after = await stats()
    const remote = after.remote_compiles - before.remote_compiles
    process.stderr.write(
      `tinyxml2: ${r.objects} files, local ${r.plainMs.toFixed(0)} ms, remote ${r.remoteMs.toFixed(0)} ms, ${remote} remote compiles\n`,
    )
    assert.ok(remote > 0, `no remote compile of C++: ${JSON.stringify(after)}`)
  })

  it('builders that lacked the toolchains pulled them from members', async () => {
    const logs = [await log(b), await log(c)]
    const fetched = logs.filter((l) => l.includes('toolchain fetched from members'))
    for (const l of logs.join('\n').split('\n'))
      if (l.includes('toolchain fetched from members')) {
        const j = JSON.parse(l) as Record<string, unknown>
        process.stderr.write(
          `toolchain ${String(j['id']).slice(0, 12)} fetched: ${JSON.stringify({ ...j, ts: undefined, msg: undefined, id: undefined, level: undefined, component: undefined, from: undefined })}\n`,
        )
      }
    assert.ok(fetched.length >= 1, 'no builder logged a toolchain fetch')
    for (const l of logs) assert.match(l, /building for the mesh/)
  })

  it('the client logged each remote job with its timings', async () => {
    const jobs = (await log(a))
      .split('\n')
      .filter((l) => l.includes('"compiled remotely"'))
      .map((l) => JSON.parse(l) as Record<string, number>)
    assert.ok(jobs.length > 0)
    for (const l of (await log(a)).split('\n'))
      if (l.includes('local toolchain ready')) {
        const j = JSON.parse(l) as { compiler: string; ms: number }
        process.stderr.write(`client packaged ${j.compiler} in ${j.ms} ms\n`)
      }
    const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? NaN
    const overhead = jobs.map((j) => (j['wallMs'] ?? 0) - (j['builderWallMs'] ?? 0))
    process.stderr.write(
      `per job (n=${jobs.length}): median client wall ${median(jobs.map((j) => j['wallMs'] ?? 0))} ms, builder wall ${median(jobs.map((j) => j['builderWallMs'] ?? 0))} ms, wall minus builder ${median(overhead)} ms, preprocess ${median(jobs.map((j) => j['preprocessMs'] ?? 0))} ms, request ${median(jobs.map((j) => j['wireBytes'] ?? 0))} bytes\n`,
    )
    for (const o of overhead) assert.ok(o >= 0, 'the client saw a job end before the builder did')
    // Both builds preprocessed most units with cc1 alone (its command learnt from gcc's
    // driver and checked), so the byte-equality above covers that path too.
    const learnt = (await log(a))
      .split('\n')
      .filter((l) => l.includes('"gcc preprocessing command learnt"'))
      .map((l) => (JSON.parse(l) as { outcome: string }).outcome)
    assert.ok(learnt.includes('ready'), `learnt: ${learnt.join(', ')}`)
    assert.ok(!learnt.includes('driver-only'), `learnt: ${learnt.join(', ')}`)
  })

  it('a warm remote rebuild (toolchains in place) gives the same objects', async () => {
    const dir = join(work, 'zstd-1.5.4')
    const plain = await objects(join(dir, 'obj'))
    await rm(join(dir, 'obj'), { recursive: true, force: true })
    const before = await stats()
    const ms = await make(dir, [`CC=${meshccBin} gcc`], {
      ...a.h.env,
      MESHCC_MODE: 'remote',
      MESHCC_RECACHE: '1',
    })
    assertSame(plain, await objects(join(dir, 'obj')))
    const after = await stats()
    process.stderr.write(
      `warm zstd rebuild: remote ${ms.toFixed(0)} ms (${after.remote_compiles - before.remote_compiles} remote, ${after.local_compiles - before.local_compiles} local) vs plain local ${zstdPlainMs.toFixed(0)} ms\n`,
    )
    assert.ok(after.remote_compiles - before.remote_compiles > 0)
  })

  it('remote results are in the cache: a clean rebuild is all hits, same objects', async () => {
    const dir = join(work, 'zstd-1.5.4')
    const plain = await objects(join(dir, 'obj'))
    await rm(join(dir, 'obj'), { recursive: true, force: true })
    const before = await stats()
    await make(dir, [`CC=${meshccBin} gcc`], { ...a.h.env, MESHCC_MODE: 'remote' })
    assertSame(plain, await objects(join(dir, 'obj')))
    const after = await stats()
    assert.equal(after.cache_hits - before.cache_hits, 11)
    assert.equal(after.remote_compiles, before.remote_compiles)
  })

  it('auto keeps local slots busy first and sends the rest', async () => {
    const dir = join(work, 'zstd-1.5.4')
    const plain = await objects(join(dir, 'obj'))
    await rm(join(dir, 'obj'), { recursive: true, force: true })
    const before = await stats()
    const ms = await make(dir, [`CC=${meshccBin} gcc`, '-j8'], {
      ...a.h.env,
      MESHCC_MODE: 'auto',
      MESHCC_RECACHE: '1',
    })
    assertSame(plain, await objects(join(dir, 'obj')))
    const after = await stats()
    const local = after.local_compiles - before.local_compiles
    const remote = after.remote_compiles - before.remote_compiles
    process.stderr.write(`auto -j8: ${ms.toFixed(0)} ms, ${local} local, ${remote} remote\n`)
    assert.ok(local > 0, 'auto compiled nothing here')
    assert.equal(local + remote, 11)
  })

  it('one job: remote against local through the daemon, alternating', async () => {
    const dir = join(work, 'zstd-1.5.4')
    const args = ['gcc', '-O2', '-g', '-c', 'lib/common/entropy_common.c', '-o', 'one.o']
    const time = async (mode: string) => {
      const env = { ...a.h.env, MESHCC_MODE: mode, MESHCC_RECACHE: '1' }
      const t0 = performance.now()
      const r = await a.run('sh', ['-c', `cd '${dir}' && exec "$@"`, 'sh', meshccBin, ...args], env)
      assert.equal(r.code, 0, r.stderr.toString())
      return performance.now() - t0
    }
    const before = await stats()
    const local: number[] = []
    const remote: number[] = []
    for (let i = 0; i < 5; i++) {
      local.push(await time('local'))
      remote.push(await time('remote'))
    }
    const after = await stats()
    const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? NaN
    process.stderr.write(
      `one job (entropy_common.c): median local ${median(local).toFixed(0)} ms, remote ${median(remote).toFixed(0)} ms, overhead ${(median(remote) - median(local)).toFixed(0)} ms\n`,
    )
    assert.equal(after.remote_compiles - before.remote_compiles, 5)
    assert.equal(after.local_compiles - before.local_compiles, 5)
  })

  it("compile errors come back with the compiler's exact output", async () => {
    const dir = join(work, 'errors')
    await mkdir(dir, { recursive: true })
    await writeFile(
      join(dir, 'bad.c'),
      '#include <stdio.h>\nint f(void) { return undeclared + 1; }\nint g(int x) { return x }\n',
    )
    const before = await stats()
    for (const cc of ['gcc', 'clang']) {
      const args = [cc, '-O1', '-c', 'bad.c', '-o', 'bad.o']
      const plain = await a.run('sh', ['-c', `cd '${dir}' && exec "$@"`, 'sh', ...args])
      const viaMesh = await a.run(
        'sh',
        ['-c', `cd '${dir}' && exec "$@"`, 'sh', meshccBin, ...args],
        { ...a.h.env, MESHCC_MODE: 'remote' },
      )
      assert.notEqual(plain.code, 0)
      assert.equal(viaMesh.code, plain.code, cc)
      assert.equal(viaMesh.stderr.toString(), plain.stderr.toString(), cc)
      assert.equal(viaMesh.stdout.toString(), plain.stdout.toString(), cc)
      assert.equal(existsSync(join(dir, 'bad.o')), false)
    }
    const after = await stats()
    // Both compilers' diagnostics are exact remotely (gcc jobs ship the source they quote).
    assert.equal(after.remote_compiles - before.remote_compiles, 2, 'errors not compiled remotely')
    assert.equal(
      after.remote_fallback_reasons?.['suspect-result'] ?? 0,
      before.remote_fallback_reasons?.['suspect-result'] ?? 0,
      'an error was recompiled locally',
    )
  })

  it('a missing header under a learnt gcc preprocessing command fails exactly as gcc does', async () => {
    const dir = join(work, 'missing-header')
    await mkdir(dir, { recursive: true })
    await writeFile(join(dir, 'ok.c'), 'int ok(void) { return 1; }\n')
    await writeFile(join(dir, 'bad.c'), '#include "nope.h"\nint bad(void) { return 2; }\n')
    const inDir = (args: string[], env?: NodeJS.ProcessEnv) =>
      a.run('sh', ['-c', `cd '${dir}' && exec "$@"`, 'sh', ...args], env)
    const flags = ['-O2', '-Wall', '-c']
    // The first job of this flag set teaches the daemon cc1's command; the next ones use it.
    const ok = await inDir([meshccBin, 'gcc', ...flags, 'ok.c', '-o', 'ok.o'], {
      ...a.h.env,
      MESHCC_MODE: 'remote',
    })
    assert.equal(ok.code, 0, ok.stderr.toString())
    let learnt = false
    for (let i = 0; i < 100 && !learnt; i++) {
      learnt = (await log(a))
        .split('\n')
        .some((l) => l.includes('"gcc preprocessing command learnt"') && l.includes(dir))
      if (!learnt) await sleep(100)
    }
    assert.ok(learnt, 'the flag set was not learnt')
    const plain = await inDir(['gcc', ...flags, 'bad.c', '-o', 'bad.o'])
    const viaMesh = await inDir([meshccBin, 'gcc', ...flags, 'bad.c', '-o', 'bad.o'], {
      ...a.h.env,
      MESHCC_MODE: 'remote',
    })
    assert.notEqual(plain.code, 0)
    assert.equal(viaMesh.code, plain.code)
    assert.equal(viaMesh.stderr.toString(), plain.stderr.toString())
    assert.equal(viaMesh.stdout.toString(), plain.stdout.toString())
    assert.equal(existsSync(join(dir, 'bad.o')), false)
  })

  it('gcc warnings (main file, header, macro, colour, -Werror) compile remotely, exactly', async () => {
    const dir = join(work, 'warnings')
    await mkdir(join(dir, 'inc'), { recursive: true })
    await writeFile(
      join(dir, 'inc', 'w.h'),
      '#define SHIFT(x) ((x) << 40)\nstatic inline int hw(int a) { int unused_h; return a; }\n',
    )
    await writeFile(
      join(dir, 'w.c'),
      '#include <stdio.h>\n#include "w.h"\nint f(int x)\n{\n\tint y;\treturn SHIFT(x) + hw(x);\n}\n',
    )
    const cases = [
      ['gcc', '-g', '-O2', '-Wall', '-Iinc'],
      ['gcc', '-O1', '-Wall', '-Wextra', '-fdiagnostics-color=always', '-Iinc'],
      ['gcc', '-O2', '-Wall', '-Werror', '-Iinc'],
      ['g++', '-g', '-O1', '-Wall', '-Iinc', '-x', 'c++'],
    ]
    const before = await stats()
    for (const flags of cases) {
      const args = [...flags, '-c', 'w.c', '-o', 'w.o']
      await rm(join(dir, 'w.o'), { force: true })
      const plain = await a.run('sh', ['-c', `cd '${dir}' && exec "$@"`, 'sh', ...args])
      const plainObj = existsSync(join(dir, 'w.o')) ? await readFile(join(dir, 'w.o')) : undefined
      await rm(join(dir, 'w.o'), { force: true })
      const viaMesh = await a.run(
        'sh',
        ['-c', `cd '${dir}' && exec "$@"`, 'sh', meshccBin, ...args],
        { ...a.h.env, MESHCC_MODE: 'remote' },
      )
      const what = args.join(' ')
      assert.ok(plain.stderr.length > 0, `${what}: the plain compile warns`)
      assert.equal(viaMesh.code, plain.code, what)
      assert.equal(viaMesh.stderr.toString(), plain.stderr.toString(), what)
      assert.equal(viaMesh.stdout.toString(), plain.stdout.toString(), what)
      const meshObj = existsSync(join(dir, 'w.o')) ? await readFile(join(dir, 'w.o')) : undefined
      assert.equal(meshObj === undefined, plainObj === undefined, what)
      if (plainObj && meshObj) assert.ok(plainObj.equals(meshObj), `${what}: objects differ`)
    }
    const after = await stats()
    assert.equal(after.remote_compiles - before.remote_compiles, cases.length, 'not all remote')
    assert.equal(after.local_compiles, before.local_compiles, 'something compiled locally')
    assert.equal(
      after.remote_fallback_reasons?.['suspect-result'] ?? 0,
      before.remote_fallback_reasons?.['suspect-result'] ?? 0,
      'a warning result was recompiled locally',
    )
  })

  it('a builder killed mid-build costs a retry or a local compile, never the build', async () => {
    const before = await stats()
    const dir = join(work, 'zstd-1.5.4')
    const plain = await objects(join(dir, 'obj'))
    await rm(join(dir, 'obj'), { recursive: true, force: true })
    const victim = (await daemonPid(b.h.home))!
    assert.ok(victim !== undefined && isAlive(victim))
    // Kill B the moment it holds a job: a job directory is made at the reservation, and laid
    // out (its roots `m0`…) once the job itself has come.
    const jobs = join(b.h.home, 'jobs')
    await mkdir(jobs, { recursive: true })
    const laidOut = async (name: string) =>
      name.startsWith('job-') &&
      (await readdir(join(jobs, name)).catch(() => [])).some((n) => /^m\d+$/.test(n))
    let killedMidJob = false
    const killer = (async () => {
      const deadline = Date.now() + 60_000
      while (Date.now() < deadline) {
        const names = await readdir(jobs).catch(() => [])
        const running = (await Promise.all(names.map(laidOut))).some(Boolean)
        if (running) {
          process.kill(victim, 'SIGKILL')
          killedMidJob = true
          return
        }
        await sleep(5)
      }
    })()
    // MESHCC_RECACHE: compile again although A's cache has every object now.
    await make(dir, [`CC=${meshccBin} gcc`], {
      ...a.h.env,
      MESHCC_MODE: 'remote',
      MESHCC_RECACHE: '1',
    })
    await killer
    assert.ok(killedMidJob, 'B never ran a job of the second build')
    assert.ok(!isAlive(victim))
    assertSame(plain, await objects(join(dir, 'obj')))
    const after = await stats()
    const retries = (after.remote_retries ?? 0) - (before.remote_retries ?? 0)
    const fallbacks = (after.remote_fallbacks ?? 0) - (before.remote_fallbacks ?? 0)
    // A job whose head went with its reservation is laid out on B before the grant reaches A:
    // killed then, its reservation fails and the job goes to the next member.
    const unanswered =
      (after.remote_reservations_failed ?? 0) - (before.remote_reservations_failed ?? 0)
    process.stderr.write(
      `kill: retries ${retries}, fallbacks ${fallbacks} ${JSON.stringify(after.remote_fallback_reasons)}, reservations failed ${unanswered}, remote ${after.remote_compiles - before.remote_compiles}, local ${after.local_compiles - before.local_compiles}\n`,
    )
    assert.ok(
      retries + fallbacks + unanswered >= 1,
      'the killed job was neither retried, nor re-placed, nor compiled locally',
    )
    assert.ok(after.remote_compiles > before.remote_compiles)
  })
})
