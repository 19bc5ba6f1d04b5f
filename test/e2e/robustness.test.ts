/**
 * End-to-end: meshcc's own trouble never breaks a build, and never slows it to a crawl.
 * - the daemon cannot start (cache path blocked, bad node setting): every compile still
 *   succeeds with plain's object, output and exit code, and a compile does not wait seconds for
 *   a daemon that will never come;
 * - a bad per-compile setting falls back to a local compile, counted as a local fallback;
 * - an option the compiler rejects gives the compiler's own error, exactly.
 */
import assert from 'node:assert/strict'
import { mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import {
  cleanEnv,
  compareWithPlain,
  copyExample,
  delta,
  eventually,
  makeNode,
  meshccBin,
  missingPrerequisite,
  run,
  type TestNode,
} from '../helpers/e2e.ts'

const prerequisite = missingPrerequisite()
/** A fallback must cost far less than a compile; generous for a loaded 2-core machine. */
const FALLBACK_BUDGET_MS = 1500

describe('robustness', { skip: prerequisite ?? false }, () => {
  const nodes: TestNode[] = []
  const fresh = (label: string) => {
    const n = makeNode(label)
    nodes.push(n)
    return n
  }
  after(async () => {
    for (const n of nodes) await n.stop()
  })

  const brokenStarts: Array<{ name: string; prepare: (node: TestNode) => NodeJS.ProcessEnv }> = [
    {
      name: 'the cache directory is blocked by a file',
      prepare: (node) => {
        mkdirSync(node.home, { recursive: true })
        writeFileSync(join(node.home, 'cache'), 'not a directory')
        return {}
      },
    },
    { name: 'MESHCC_CACHE_SIZE is not a size', prepare: () => ({ MESHCC_CACHE_SIZE: 'lots' }) },
  ]
  for (const broken of brokenStarts) {
    test(`daemon cannot start (${broken.name}): compiles work, exactly, without long waits`, async (t) => {
      const node = fresh('nostart')
      const extra = broken.prepare(node)
      const cwd = copyExample('hello', join(node.dir, 'w'))
      const args = ['-O2', '-c', 'hello.c', '-o', 'hello.o']
      const times: number[] = []
      for (let i = 0; i < 3; i++) {
        const r = await node.meshcc(['gcc', ...args], { cwd, env: extra })
        times.push(Math.round(r.ms))
        assert.equal(r.status, 0, r.stderr.toString())
        assert.equal(r.stderr.length, 0, 'no noise on stderr')
        assert.ok((await compareWithPlain('gcc', args, cwd, ['hello.o'])).allEqual)
      }
      writeFileSync(join(cwd, 'bad.c'), 'int f( {\n')
      const plainBad = await run('gcc', ['-c', 'bad.c'], { cwd, env: cleanEnv() })
      const viaBad = await node.meshcc(['gcc', '-c', 'bad.c'], { cwd, env: extra })
      assert.equal(viaBad.status, plainBad.status)
      assert.equal(viaBad.stderr.toString(), plainBad.stderr.toString())
      t.diagnostic(`wall ms per compile with no daemon: ${times.join(', ')}`)
      // The first call may spend a moment discovering that the daemon does not come up; the
      // following ones must not pay that again (a build of 1 000 files would lose an hour).
      const later = times.slice(1)
      assert.ok(
        later.every((ms) => ms < FALLBACK_BUDGET_MS),
        `compiles after the first fall back quickly (${later.join(', ')} ms ≥ ${FALLBACK_BUDGET_MS} ms)`,
      )
    })
  }

  test('a bad per-compile setting is a counted local fallback, never a failure', async () => {
    const node = fresh('badsetting')
    const cwd = copyExample('hello', join(node.dir, 'w'))
    const args = ['-O2', '-c', 'greet.c', '-o', 'greet.o']
    await node.meshcc(['gcc', ...args], { cwd }) // starts the daemon
    const s0 = await node.stats()
    const r = await node.meshcc(['gcc', ...args], { cwd, env: { MESHCC_CACHE_MODE: 'sideways' } })
    assert.equal(r.status, 0, r.stderr.toString())
    assert.equal(r.stderr.length, 0)
    assert.ok((await compareWithPlain('gcc', args, cwd, ['greet.o'])).allEqual)
    let d = delta(s0, s0)
    assert.ok(
      await eventually(async () => {
        d = delta(s0, await node.stats())
        return d.local_fallbacks === 1
      }),
      `one local fallback counted: ${JSON.stringify(d)}`,
    )
    assert.equal(d.cache_hits + d.cache_misses, 0)
  })

  test('an option the compiler rejects gives its own error, exactly', async () => {
    const node = fresh('badflag')
    const cwd = copyExample('hello', join(node.dir, 'w'))
    for (const args of [
      ['-fno-such-option-meshcc', '-c', 'hello.c', '-o', 'hello.o'],
      ['--no-such-long-option', '-c', 'hello.c'],
      ['-c', 'missing.c', '-o', 'missing.o'],
    ]) {
      const plain = await run('gcc', args, { cwd, env: cleanEnv() })
      const via = await node.meshcc(['gcc', ...args], { cwd })
      assert.notEqual(plain.status, 0)
      assert.equal(via.status, plain.status, args.join(' '))
      assert.equal(via.stderr.toString(), plain.stderr.toString(), args.join(' '))
      assert.equal(via.stdout.toString(), plain.stdout.toString())
    }
  })

  test("the daemon a compile starts holds none of the build's pipes (make/ninja never wait)", async () => {
    const node = fresh('detach')
    const cwd = copyExample('hello', join(node.dir, 'w'))
    // run() resolves only when every holder of the stdout/stderr pipes has closed them: if the
    // daemon had inherited them, this would wait until the daemon exits (an hour).
    const r = await run(meshccBin, ['gcc', '-c', 'hello.c', '-o', 'hello.o'], {
      cwd,
      env: node.env,
      signal: AbortSignal.timeout(30_000),
    })
    assert.equal(r.status, 0, r.stderr.toString())
    const pid = node.daemonPid()
    assert.ok(pid !== undefined, 'the compile started a daemon')
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const [ppid, , sid] = [Number(fields[1]), Number(fields[2]), Number(fields[3])]
    assert.notEqual(
      sid,
      Number(readFileSync('/proc/self/stat', 'latin1').split(') ')[1]!.split(' ')[3]),
      'own session',
    )
    assert.notEqual(ppid, process.pid, 'not our child')
    const links = (p: number | 'self') =>
      readdirSync(`/proc/${p}/fd`).map((fd) => {
        try {
          return [Number(fd), readlinkSync(`/proc/${p}/fd/${fd}`)] as const
        } catch {
          return [Number(fd), ''] as const
        }
      })
    const daemonFds = links(pid)
    for (const fd of [0, 1, 2]) {
      assert.equal(
        daemonFds.find(([n]) => n === fd)?.[1],
        '/dev/null',
        `daemon fd ${fd} is /dev/null`,
      )
    }
    // Pipes the test process holds (to the test runner, …) must not be shared with the daemon.
    const ours = new Set(
      links('self')
        .map(([, l]) => l)
        .filter((l) => l.startsWith('pipe:')),
    )
    const shared = daemonFds.filter(([, l]) => ours.has(l) || l.startsWith('/dev/pts'))
    assert.deepEqual(shared, [], 'the daemon inherited nothing of ours')
  })
})
