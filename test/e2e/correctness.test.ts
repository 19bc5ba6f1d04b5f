/**
 * End-to-end correctness of the local cache through the native client and a real daemon:
 * - a header edit is a miss (also one that keeps the size and puts the old mtime back);
 * - a compile error gives exactly the plain compiler's stderr and exit code, twice in a row;
 * - warnings and dependency files (with -MT/-MQ/-MF targets) are replayed on a hit;
 * - a corrupted cache entry is detected, recompiled and counted, never served;
 * - with the daemon killed, compiles still work (and still give plain's output).
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  cleanEnv,
  compareWithPlain,
  copyExample,
  delta,
  listFiles,
  makeNode,
  meshccBin,
  missingPrerequisite,
  mustRun,
  run,
  type TestNode,
  waitGone,
} from '../helpers/e2e.ts'

const prerequisite = missingPrerequisite()

describe('cache correctness', { skip: prerequisite ?? false }, () => {
  let node: TestNode
  before(() => {
    node = makeNode('correct')
  })
  after(async () => {
    await node?.stop()
  })

  /** Compiles through meshcc, asserts success, returns the stats delta. */
  async function compile(cwd: string, args: string[]) {
    const s0 = await node.stats()
    const r = await node.meshcc(['gcc', ...args], { cwd })
    assert.equal(r.status, 0, `meshcc gcc ${args.join(' ')}: ${r.stderr}`)
    return { result: r, d: delta(s0, await node.stats()) }
  }

  test('a header edit is a miss, and the object matches the edited source', async () => {
    const cwd = copyExample('hello', join(node.dir, 'header-edit'))
    const args = ['-O2', '-DCASE_HEADER_EDIT', '-c', 'hello.c', '-o', 'hello.o']
    assert.equal((await compile(cwd, args)).d.cache_misses, 1)
    rmSync(join(cwd, 'hello.o'))
    assert.equal((await compile(cwd, args)).d.cache_hits, 1)

    const header = join(cwd, 'greet.h')
    writeFileSync(header, readFileSync(header, 'utf8').replace('"world"', '"there"'))
    rmSync(join(cwd, 'hello.o'))
    const edited = await compile(cwd, args)
    assert.deepEqual(
      { hits: edited.d.cache_hits, misses: edited.d.cache_misses },
      { hits: 0, misses: 1 },
    )
    assert.ok((await compareWithPlain('gcc', args, cwd, ['hello.o'])).allEqual)
    assert.ok(readFileSync(join(cwd, 'hello.o')).includes('there'), 'the edit is in the object')
  })

  test('an edit that keeps the size and restores the mtime is still a miss', async () => {
    const cwd = copyExample('hello', join(node.dir, 'header-same-stat'))
    const args = ['-O2', '-DCASE_SAME_STAT', '-c', 'hello.c', '-o', 'hello.o']
    const header = join(cwd, 'greet.h')
    // A reference file carrying the header's exact (nanosecond) mtime.
    const ref = join(cwd, 'greet.h.stamp')
    writeFileSync(ref, '')
    await mustRun('touch', ['-r', header, ref], { cwd })
    const old = statSync(header, { bigint: true })
    // Let the copy settle past the stat cache's racy window (2 s), so that the daemon trusts the
    // header's stat from now on and only a stat change can make it look again.
    await sleep(2500)
    assert.equal((await compile(cwd, args)).d.cache_misses, 1)
    rmSync(join(cwd, 'hello.o'))
    assert.equal((await compile(cwd, args)).d.cache_hits, 1, 'warm: the daemon has seen the header')

    // Same length, different bytes, and the old mtime put back (as tar -x, rsync -t, cp -p do).
    const text = readFileSync(header, 'utf8')
    writeFileSync(header, text.replace('"world"', '"WORLD"'))
    await mustRun('touch', ['-r', ref, header], { cwd })
    const now = statSync(header, { bigint: true })
    assert.equal(now.size, old.size)
    assert.equal(now.mtimeNs, old.mtimeNs)
    rmSync(join(cwd, 'hello.o'))
    const edited = await compile(cwd, args)
    assert.deepEqual(
      { hits: edited.d.cache_hits, misses: edited.d.cache_misses },
      { hits: 0, misses: 1 },
      'a changed header never gives a stale hit',
    )
    assert.ok((await compareWithPlain('gcc', args, cwd, ['hello.o'])).allEqual)
  })

  test('a source edit right after a compile (same second) is a miss', async () => {
    const cwd = copyExample('hello', join(node.dir, 'racy'))
    const args = ['-O2', '-DCASE_RACY', '-c', 'greet.c', '-o', 'greet.o']
    const src = join(cwd, 'greet.c')
    for (let i = 0; i < 3; i++) {
      writeFileSync(src, readFileSync(src, 'utf8').replace(/hello[^,]*,/, `hello${i},`))
      rmSync(join(cwd, 'greet.o'), { force: true })
      const r = await compile(cwd, args)
      assert.equal(r.d.cache_hits, 0, `edit ${i} is not served from the cache`)
      assert.ok((await compareWithPlain('gcc', args, cwd, ['greet.o'])).allEqual)
    }
  })

  test('a compile error gives plain stderr and exit code, never cached', async () => {
    const cwd = join(node.dir, 'error')
    copyExample('hello', cwd)
    writeFileSync(
      join(cwd, 'broken.c'),
      '#include "greet.h"\nint f(void) { return undeclared + 1 }\n',
    )
    const args = ['-Wall', '-c', 'broken.c', '-o', 'broken.o']
    const plain = await run('gcc', args, { cwd, env: cleanEnv() })
    assert.notEqual(plain.status, 0)
    for (let i = 0; i < 2; i++) {
      const s0 = await node.stats()
      const r = await node.meshcc(['gcc', ...args], { cwd })
      assert.equal(r.status, plain.status, 'same exit code')
      assert.equal(r.stderr.toString(), plain.stderr.toString(), 'same stderr, byte for byte')
      assert.equal(r.stdout.toString(), plain.stdout.toString())
      assert.equal(delta(s0, await node.stats()).cache_hits, 0, 'a failed compile is never a hit')
    }
  })

  test('warnings are replayed on a hit; -Werror failure passes through', async () => {
    const cwd = copyExample('hello', join(node.dir, 'warn'))
    writeFileSync(join(cwd, 'warn.c'), 'int f(int x) { int unused; return x; }\n')
    const args = ['-Wall', '-c', 'warn.c', '-o', 'warn.o']
    const plain = await run('gcc', args, { cwd, env: cleanEnv() })
    assert.match(plain.stderr.toString(), /unused/)
    rmSync(join(cwd, 'warn.o'))
    const miss = await compile(cwd, args)
    rmSync(join(cwd, 'warn.o'))
    const hit = await compile(cwd, args)
    assert.equal(hit.d.cache_hits, 1)
    assert.equal(miss.result.stderr.toString(), plain.stderr.toString(), 'warning on the miss')
    assert.equal(
      hit.result.stderr.toString(),
      plain.stderr.toString(),
      'warning replayed on the hit',
    )

    const werror = ['-Wall', '-Werror', '-c', 'warn.c', '-o', 'werror.o']
    const plainErr = await run('gcc', werror, { cwd, env: cleanEnv() })
    const viaErr = await node.meshcc(['gcc', ...werror], { cwd })
    assert.equal(viaErr.status, plainErr.status)
    assert.equal(viaErr.stderr.toString(), plainErr.stderr.toString())
  })

  test('dependency files are replayed with the targets this invocation asked for', async () => {
    const cwd = copyExample('hello', join(node.dir, 'depfile'))
    const variants = [
      ['-MD', '-c', 'hello.c', '-o', 'a/hello.o'],
      ['-MMD', '-MP', '-c', 'hello.c', '-o', 'b/hello.o'],
      [
        '-MMD',
        '-MF',
        'deps/h.d',
        '-MT',
        'custom-target',
        '-MQ',
        '$weird target',
        '-c',
        'hello.c',
        '-o',
        'c/hello.o',
      ],
    ]
    const depOf = (v: string[]) =>
      v.includes('-MF') ? v[v.indexOf('-MF') + 1]! : v[v.indexOf('-o') + 1]!.replace(/\.o$/, '.d')
    for (const dir of ['a', 'b', 'c', 'deps'])
      rmSync(join(cwd, dir), { recursive: true, force: true })
    for (const dir of ['a', 'b', 'c', 'deps']) {
      await run('mkdir', ['-p', join(cwd, dir)], { cwd })
    }
    // Prime the cache with one variant, then each other variant must still get its own depfile.
    for (const v of variants) {
      await compile(cwd, v)
      const obj = v[v.indexOf('-o') + 1]!
      rmSync(join(cwd, obj))
      rmSync(join(cwd, depOf(v)))
      await compile(cwd, v)
      const cmp = await compareWithPlain('gcc', v, cwd, [obj, depOf(v)])
      assert.deepEqual(cmp.differing, [], `${v.join(' ')}: object and depfile identical to plain`)
    }
  })

  test('a corrupted cache entry is detected, recompiled and counted', async () => {
    const cwd = copyExample('hello', join(node.dir, 'corrupt'))
    const args = ['-O2', '-DCASE_CORRUPT', '-c', 'greet.c', '-o', 'greet.o']
    const before = new Set(listFiles(join(node.home, 'cache')))
    assert.equal((await compile(cwd, args)).d.cache_misses, 1)
    const added = listFiles(join(node.home, 'cache')).filter((f) => !before.has(f))
    assert.ok(added.length > 0, 'the miss stored something under $MESHCC_HOME/cache')
    // Flip bytes in the middle of every file the miss added (result and manifest alike).
    for (const f of added) {
      const p = join(node.home, 'cache', f)
      const buf = readFileSync(p)
      if (buf.length === 0) continue
      for (const at of [Math.floor(buf.length / 2), buf.length - 1]) buf[at] = buf[at]! ^ 0xff
      writeFileSync(p, buf)
    }
    rmSync(join(cwd, 'greet.o'))
    const s0 = await node.stats()
    const again = await node.meshcc(['gcc', ...args], { cwd })
    assert.equal(again.status, 0, again.stderr.toString())
    assert.equal(again.stderr.length, 0, 'no noise on stderr')
    const s1 = await node.stats()
    const d = delta(s0, s1)
    assert.equal(d.cache_hits, 0, 'the corrupt entry was not served')
    assert.equal(d.cache_misses, 1, 'it was recompiled')
    assert.ok(
      Number(s1['corrupt_entries'] ?? 0) > Number(s0['corrupt_entries'] ?? 0),
      `corrupt_entries counted (${s0['corrupt_entries']} → ${s1['corrupt_entries']})`,
    )
    assert.ok((await compareWithPlain('gcc', args, cwd, ['greet.o'])).allEqual)
    // And the entry is good again.
    rmSync(join(cwd, 'greet.o'))
    assert.equal((await compile(cwd, args)).d.cache_hits, 1)
    assert.ok((await compareWithPlain('gcc', args, cwd, ['greet.o'])).allEqual)
  })

  test('entries and counters survive a daemon restart', async () => {
    const cwd = copyExample('hello', join(node.dir, 'restart'))
    const args = ['-O2', '-DCASE_RESTART', '-c', 'hello.c', '-o', 'hello.o']
    assert.equal((await compile(cwd, args)).d.cache_misses, 1)
    const before = await node.stats()
    const pid = node.daemonPid()
    const stop = await run(meshccBin, ['daemon', 'stop'], { cwd, env: node.env })
    assert.equal(stop.status, 0, stop.stderr.toString())
    if (pid !== undefined) assert.ok(await waitGone(pid), 'the old daemon is gone')
    rmSync(join(cwd, 'hello.o'))
    const s0 = await node.stats() // no daemon: read from stats.json
    assert.equal(s0.cache_misses, before.cache_misses, 'counters persisted')
    const again = await compile(cwd, args) // starts a new daemon
    assert.notEqual(node.daemonPid(), pid, 'a new daemon')
    assert.equal(again.d.cache_hits, 1, 'the entry written by the old daemon is a hit')
    assert.ok((await compareWithPlain('gcc', args, cwd, ['hello.o'])).allEqual)
  })

  test('with the daemon killed, compiles still work', async () => {
    const cwd = copyExample('hello', join(node.dir, 'killed'))
    const args = ['-O2', '-DCASE_KILLED', '-c', 'hello.c', '-o', 'hello.o']
    await compile(cwd, args)
    const pid = node.daemonPid()
    assert.ok(pid !== undefined, 'a daemon is running')
    process.kill(pid, 'SIGKILL')
    assert.ok(await waitGone(pid), 'daemon gone')
    // The socket file is left behind by the SIGKILL: the client must cope with it.
    rmSync(join(cwd, 'hello.o'))
    const r = await node.meshcc(['gcc', ...args], { cwd })
    assert.equal(r.status, 0, r.stderr.toString())
    assert.equal(r.stderr.length, 0, 'no noise on stderr')
    assert.ok((await compareWithPlain('gcc', args, cwd, ['hello.o'])).allEqual)
    // A compile error still passes through exactly.
    writeFileSync(join(cwd, 'bad.c'), 'int main( { }\n')
    const pid2 = node.daemonPid()
    if (pid2 !== undefined && pid2 !== pid) {
      process.kill(pid2, 'SIGKILL')
      await waitGone(pid2)
    }
    const plainBad = await run('gcc', ['-c', 'bad.c'], { cwd, env: cleanEnv() })
    const viaBad = await node.meshcc(['gcc', '-c', 'bad.c'], { cwd })
    assert.equal(viaBad.status, plainBad.status)
    assert.equal(viaBad.stderr.toString(), plainBad.stderr.toString())
  })

  test('MESHCC_DISABLE=1 runs the real compiler and counts nothing', async () => {
    const cwd = copyExample('hello', join(node.dir, 'disabled'))
    const s0 = await node.stats()
    const r = await node.meshcc(['gcc', '-c', 'greet.c', '-o', 'greet.o'], {
      cwd,
      env: { MESHCC_DISABLE: '1' },
    })
    assert.equal(r.status, 0)
    const d = delta(s0, await node.stats())
    assert.equal(d.cache_hits + d.cache_misses + d.uncacheable, 0)
    assert.ok(
      (await compareWithPlain('gcc', ['-c', 'greet.c', '-o', 'greet.o'], cwd, ['greet.o']))
        .allEqual,
    )
    assert.ok(readdirSync(cwd).includes('greet.o'))
  })

  test('MESHCC_DISABLE=0 / false / no / off leave meshcc on (as documented)', async () => {
    const cwd = copyExample('hello', join(node.dir, 'not-disabled'))
    for (const value of ['0', 'false', 'no', 'off']) {
      const args = ['-O2', `-DCASE_NOT_DISABLED_${value}`, '-c', 'greet.c', '-o', 'greet.o']
      const s0 = await node.stats()
      const r = await node.meshcc(['gcc', ...args], { cwd, env: { MESHCC_DISABLE: value } })
      assert.equal(r.status, 0)
      assert.equal(delta(s0, await node.stats()).cache_misses, 1, `MESHCC_DISABLE=${value}`)
    }
  })
})
