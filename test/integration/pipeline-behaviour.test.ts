/**
 * Pipeline behaviour beyond the plain miss/hit: invalidation (header edits, the racy-stat rule),
 * time macros, compile errors, uncacheable lines, settings, corrupt entries, extra outputs,
 * depfile regeneration for other targets, colors.
 */
import assert from 'node:assert/strict'
import { chmodSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import {
  COMPILERS,
  createFixture,
  type Fixture,
  plainCompile,
  removeFiles,
  snapshotFiles,
  text,
} from './pipeline-fixture.ts'

describe('pipeline behaviour', () => {
  let fx: Fixture
  let cwd: string
  before(async () => {
    fx = await createFixture()
    cwd = join(fx.root, 'w')
    fx.write({
      'w/main.c': '#include "conf.h"\nint value(void) { return CONF; }\n',
      'w/conf.h': '#define CONF 1\n',
      'w/warn.c': '#include "conf.h"\nint w(void) { int unused; return CONF; }\n',
      'w/bad.c': '#include "conf.h"\nint bad(void) { return undeclared_thing; }\n',
      'w/time.c': 'const char *when = __TIME__;\n',
      'w/date.c': 'const char *day = __DATE__;\n',
    })
  })
  after(() => fx.close())

  const done = (reply: Awaited<ReturnType<Fixture['compile']>>) => {
    assert.equal(reply.kind, 'done', JSON.stringify(reply))
    if (reply.kind !== 'done') throw new Error('unreachable')
    return reply
  }

  it('replays warnings on a hit', async () => {
    const args = ['-Wall', '-c', 'warn.c', '-o', 'warn.o']
    const plain = plainCompile(cwd, COMPILERS.gcc, args)
    assert.match(plain.stderr, /unused variable/)
    const miss = done(await fx.compile(cwd, COMPILERS.gcc, args))
    const hits = fx.counters().cache_hits
    const hit = done(await fx.compile(cwd, COMPILERS.gcc, args))
    assert.equal(fx.counters().cache_hits, hits + 1)
    assert.equal(text(miss.stderr), plain.stderr)
    assert.equal(text(hit.stderr), plain.stderr)
  })

  it('a header edit is a miss, and the edited result is then a hit', async () => {
    const args = ['-c', 'main.c', '-o', 'main.o']
    await fx.compile(cwd, COMPILERS.gcc, args)
    const first = readFileSync(join(cwd, 'main.o'))
    fx.write({ 'w/conf.h': '#define CONF 2\n' })
    const misses = fx.counters().cache_misses
    await fx.compile(cwd, COMPILERS.gcc, args)
    assert.equal(fx.counters().cache_misses, misses + 1)
    const second = readFileSync(join(cwd, 'main.o'))
    assert.ok(!first.equals(second), 'the object changed with the header')
    plainCompile(cwd, COMPILERS.gcc, ['-c', 'main.c', '-o', 'plain.o'])
    assert.ok(second.equals(readFileSync(join(cwd, 'plain.o'))))
    // Back to the first content: the old manifest entry matches again.
    fx.write({ 'w/conf.h': '#define CONF 1\n' })
    const hits = fx.counters().cache_hits
    await fx.compile(cwd, COMPILERS.gcc, args)
    assert.equal(fx.counters().cache_hits, hits + 1)
    assert.ok(readFileSync(join(cwd, 'main.o')).equals(first))
  })

  it('a same-size header edit with the same mtime is a miss (racy stat rule)', async () => {
    const args = ['-c', 'main.c', '-o', 'racy.o']
    fx.write({ 'w/conf.h': '#define CONF 3\n' })
    const header = join(cwd, 'conf.h')
    const pinned = new Date(Math.floor(Date.now() / 1000) * 1000)
    utimesSync(header, pinned, pinned)
    await fx.compile(cwd, COMPILERS.gcc, args)
    const before = statSync(header)
    writeFileSync(header, '#define CONF 4\n') // same size
    utimesSync(header, pinned, pinned) // same mtime: only content (and ctime) differ
    assert.equal(statSync(header).size, before.size)
    const misses = fx.counters().cache_misses
    await fx.compile(cwd, COMPILERS.gcc, args)
    assert.equal(fx.counters().cache_misses, misses + 1, 'recompiled')
    plainCompile(cwd, COMPILERS.gcc, ['-c', 'main.c', '-o', 'plain4.o'])
    assert.ok(readFileSync(join(cwd, 'racy.o')).equals(readFileSync(join(cwd, 'plain4.o'))))
  })

  it('does not store a result when a header changes while the compiler runs', async () => {
    // A "gcc" that compiles, then rewrites the header (a build step racing the compile).
    fx.write({
      'fake/gcc': `#!/bin/sh\n/usr/bin/gcc "$@"; rc=$?\nif [ -n "$RACE_HEADER" ]; then printf '#define CONF 77\\n' > "$RACE_HEADER"; fi\nexit $rc\n`,
      'w/race.h': '#define CONF 5\n',
      'w/race.c': '#include "race.h"\nint r(void) { return CONF; }\n',
    })
    const fake = join(fx.root, 'fake/gcc')
    chmodSync(fake, 0o755)
    const header = join(cwd, 'race.h')
    const args = ['-c', 'race.c', '-o', 'race.o']
    await fx.compile(cwd, fake, args, { env: { RACE_HEADER: header } })
    assert.equal(readFileSync(header, 'latin1'), '#define CONF 77\n')
    assert.equal(fx.counters().uncacheable_reasons['input-too-new'], 1)
    // The header now says 77: the next compile must not be served the object built from 5.
    await fx.compile(cwd, fake, args)
    plainCompile(cwd, COMPILERS.gcc, ['-c', 'race.c', '-o', 'race-plain.o'])
    assert.ok(readFileSync(join(cwd, 'race.o')).equals(readFileSync(join(cwd, 'race-plain.o'))))
  })

  it('does not cache __TIME__, caches __DATE__ only with SOURCE_DATE_EPOCH', async () => {
    const reply = await fx.compile(cwd, COMPILERS.gcc, ['-c', 'time.c', '-o', 'time.o'])
    assert.deepEqual(reply, { kind: 'exec-local', reason: 'time-macros' })
    assert.equal(fx.counters().uncacheable_reasons['time-macros'], 1)
    const env = { SOURCE_DATE_EPOCH: '1700000000' }
    const args = ['-c', 'date.c', '-o', 'date.o']
    done(await fx.compile(cwd, COMPILERS.gcc, args, { env }))
    const hits = fx.counters().cache_hits
    done(await fx.compile(cwd, COMPILERS.gcc, args, { env }))
    assert.equal(fx.counters().cache_hits, hits + 1)
    const plain = plainCompile(cwd, COMPILERS.gcc, ['-c', 'date.c', '-o', 'date-plain.o'], env)
    assert.equal(plain.exitCode, 0)
    assert.ok(readFileSync(join(cwd, 'date.o')).equals(readFileSync(join(cwd, 'date-plain.o'))))
  })

  it('passes a compile error through exactly and does not cache it', async () => {
    for (const compiler of [COMPILERS.gcc, COMPILERS.clang]) {
      const args = ['-c', 'bad.c', '-o', 'bad.o']
      const plain = plainCompile(cwd, compiler, args)
      assert.notEqual(plain.exitCode, 0)
      const failures = fx.counters().compile_failures
      for (let i = 0; i < 2; i++) {
        const reply = done(await fx.compile(cwd, compiler, args))
        assert.equal(reply.exitCode, plain.exitCode)
        assert.equal(text(reply.stderr), plain.stderr)
        assert.equal(text(reply.stdout), plain.stdout)
      }
      assert.equal(fx.counters().compile_failures, failures + 2)
    }
  })

  it('hands uncacheable lines back to the client with a reason', async () => {
    const link = await fx.compile(cwd, COMPILERS.gcc, ['main.c', '-o', 'prog'])
    assert.deepEqual(link, { kind: 'exec-local', reason: 'linking' })
    const pre = await fx.compile(cwd, COMPILERS.gcc, ['-E', 'main.c'])
    assert.deepEqual(pre, { kind: 'exec-local', reason: 'preprocess-only' })
    assert.equal(fx.counters().uncacheable_reasons['linking'], 1)
  })

  it('falls back on a bad setting and stands aside when disabled', async () => {
    const args = ['-c', 'main.c', '-o', 'main.o']
    const bad = await fx.compile(cwd, COMPILERS.gcc, args, { env: { MESHCC_CACHE_MODE: 'bogus' } })
    assert.equal(bad.kind, 'exec-local')
    assert.equal(fx.counters().local_fallbacks, 1)
    const off = await fx.compile(cwd, COMPILERS.gcc, args, { env: { MESHCC_DISABLE: '1' } })
    assert.deepEqual(off, { kind: 'exec-local', reason: 'disabled' })
  })

  it('recompiles when the entry is corrupt', async () => {
    const args = ['-c', 'warn.c', '-o', 'corrupt.o']
    await fx.compile(cwd, COMPILERS.gcc, args)
    // The entry is written after the reply: on disk once the writes have settled.
    await fx.handler.flushStores()
    // Damage every result entry on disk (flip a byte in the middle).
    const damaged = damageEntries(join(fx.root, '.cache'))
    assert.ok(damaged > 0)
    removeFiles(cwd, ['corrupt.o'])
    const misses = fx.counters().cache_misses
    const reply = done(await fx.compile(cwd, COMPILERS.gcc, args))
    assert.equal(reply.exitCode, 0)
    assert.equal(fx.counters().cache_misses, misses + 1)
    plainCompile(cwd, COMPILERS.gcc, ['-c', 'warn.c', '-o', 'corrupt-plain.o'])
    assert.ok(
      readFileSync(join(cwd, 'corrupt.o')).equals(readFileSync(join(cwd, 'corrupt-plain.o'))),
    )
  })

  for (const [name, compiler, flags, extras] of [
    ['gcc -gsplit-dwarf', COMPILERS.gcc, ['-g', '-gsplit-dwarf'], ['sd.dwo']],
    ['clang -gsplit-dwarf', COMPILERS.clang, ['-g', '-gsplit-dwarf'], ['sd.dwo']],
    // gcc stamps .gcno/.o pairs with the time unless -frandom-seed fixes it.
    ['gcc --coverage', COMPILERS.gcc, ['--coverage', '-frandom-seed=1'], ['sd.gcno']],
  ] as const) {
    it(`restores the extra outputs of ${name}`, async () => {
      const args = ['-c', 'main.c', '-o', 'sd.o', ...flags]
      const outputs = ['sd.o', ...extras]
      removeFiles(cwd, outputs)
      assert.equal(plainCompile(cwd, compiler, args).exitCode, 0)
      const expected = snapshotFiles(cwd, outputs)
      for (const round of ['miss', 'hit']) {
        removeFiles(cwd, outputs)
        done(await fx.compile(cwd, compiler, args))
        const got = snapshotFiles(cwd, outputs)
        for (const [p, data] of expected) {
          assert.ok(data !== undefined && got.get(p)?.equals(data), `${round}: ${p} restored`)
        }
      }
    })
  }

  for (const compiler of [COMPILERS.gcc, COMPILERS.clang]) {
    it(`regenerates the depfile for other targets exactly as ${compiler} writes it`, async () => {
      fx.write({
        'w/dir with space/h#1.h': '#define H1 1\n',
        'w/deps.c': '#include "dir with space/h#1.h"\n#include <stdio.h>\nint d = H1;\n',
      })
      const variants = [
        ['-MD', '-MF', 'x.d'],
        ['-MD', '-MF', 'x.d', '-MT', 'custom-target.o'],
        ['-MD', '-MF', 'x.d', '-MQ', 'a $weird #target', '-MT', 'raw$$t', '-MP'],
        ['-MD', '-MF', 'x.d', '-MQ', `long/${'d'.repeat(70)}/obj.o`, '-MT', 'short.o'],
      ]
      // Same key (depfile shape MD) for the first two; the object name changes too.
      for (const [i, dep] of variants.entries()) {
        const args = ['-c', 'deps.c', '-o', `out${i}.o`, ...dep]
        removeFiles(cwd, ['x.d'])
        assert.equal(plainCompile(cwd, compiler, args).exitCode, 0)
        const expected = readFileSync(join(cwd, 'x.d'))
        removeFiles(cwd, ['x.d'])
        done(await fx.compile(cwd, compiler, args))
        assert.equal(
          readFileSync(join(cwd, 'x.d'), 'latin1'),
          expected.toString('latin1'),
          dep.join(' '),
        )
      }
      const hits = fx.counters().cache_hits
      removeFiles(cwd, ['x.d'])
      const args = ['-c', 'deps.c', '-o', 'other.o', '-MD', '-MF', 'x.d', '-MT', 'zz.o']
      assert.equal(plainCompile(cwd, compiler, args).exitCode, 0)
      const expected = readFileSync(join(cwd, 'x.d'), 'latin1')
      removeFiles(cwd, ['x.d'])
      done(await fx.compile(cwd, compiler, args))
      assert.equal(fx.counters().cache_hits, hits + 1, 'served from the entry of other targets')
      assert.equal(readFileSync(join(cwd, 'x.d'), 'latin1'), expected)
    })
  }

  it('-MMD: an edit of a header it omits (-isystem) is still a miss', async () => {
    fx.write({ 'w/sys/s.h': '#define S 1\n', 'w/mmd.c': '#include <s.h>\nint s = S;\n' })
    const args = ['-isystem', 'sys', '-MMD', '-c', 'mmd.c', '-o', 'mmd.o']
    for (const compiler of [COMPILERS.gcc, COMPILERS.clang]) {
      fx.write({ 'w/sys/s.h': '#define S 1\n' })
      await fx.compile(cwd, compiler, args)
      assert.doesNotMatch(readFileSync(join(cwd, 'mmd.d'), 'latin1'), /s\.h/, 'omitted by -MMD')
      const hits = fx.counters().cache_hits
      await fx.compile(cwd, compiler, args)
      assert.equal(fx.counters().cache_hits, hits + 1)
      fx.write({ 'w/sys/s.h': '#define S 2\n' })
      const misses = fx.counters().cache_misses
      await fx.compile(cwd, compiler, args)
      assert.equal(fx.counters().cache_misses, misses + 1, `${compiler}: system header edit`)
    }
  })

  for (const [compiler, flag] of [
    [COMPILERS.gcc, '-frecord-gcc-switches'],
    [COMPILERS.clang, '-frecord-command-line'],
  ] as const) {
    it(`${flag}: the object equals a plain compile (no option added)`, async () => {
      const args = [flag, '-O1', '-c', 'main.c', '-o', 'rec.o']
      plainCompile(cwd, compiler, args)
      const expected = readFileSync(join(cwd, 'rec.o'))
      for (const round of ['miss', 'hit']) {
        removeFiles(cwd, ['rec.o'])
        const before = fx.counters()
        done(await fx.compile(cwd, compiler, args))
        assert.ok(readFileSync(join(cwd, 'rec.o')).equals(expected), round)
        const after = fx.counters()
        if (round === 'hit') assert.equal(after.cache_hits, before.cache_hits + 1)
      }
      const tty = await fx.compile(cwd, compiler, args, { stderrIsTty: true })
      if (compiler === COMPILERS.clang)
        assert.equal(tty.kind, 'exec-local', 'colors would be recorded')
    })
  }

  it('MESHCC_RECACHE compiles again, MESHCC_READONLY never writes', async () => {
    const args = ['-O3', '-c', 'main.c', '-o', 'recache.o']
    await fx.compile(cwd, COMPILERS.gcc, args)
    const c1 = fx.counters()
    await fx.compile(cwd, COMPILERS.gcc, args, { env: { MESHCC_RECACHE: '1' } })
    const c2 = fx.counters()
    assert.equal(c2.cache_misses, c1.cache_misses + 1)
    assert.equal(c2.cache_hits, c1.cache_hits)
    const ro = await fx.compile(cwd, COMPILERS.gcc, ['-O3', '-DRO', '-c', 'main.c', '-o', 'ro.o'], {
      env: { MESHCC_READONLY: '1' },
    })
    assert.deepEqual(ro, { kind: 'exec-local', reason: 'read-only-miss' })
    const again = await fx.compile(cwd, COMPILERS.gcc, args, { env: { MESHCC_READONLY: '1' } })
    assert.equal(again.kind, 'done', 'read-only still serves hits')
  })

  it('colors: a terminal gets colored diagnostics, a pipe gets them stripped', async () => {
    fx.write({ 'w/color.c': 'int c(void) { int unused; return 0; }\n' })
    const args = ['-Wall', '-c', 'color.c', '-o', 'color.o']
    const tty = done(await fx.compile(cwd, COMPILERS.gcc, args, { stderrIsTty: true }))
    assert.ok(text(tty.stderr).includes('\x1b['), 'colored')
    const plain = plainCompile(cwd, COMPILERS.gcc, args)
    const hits = fx.counters().cache_hits
    const pipe = done(await fx.compile(cwd, COMPILERS.gcc, args))
    assert.equal(fx.counters().cache_hits, hits + 1)
    assert.equal(text(pipe.stderr), plain.stderr)
    const tty2 = done(await fx.compile(cwd, COMPILERS.gcc, args, { stderrIsTty: true }))
    assert.equal(text(tty2.stderr), text(tty.stderr))
  })
})

/** Flips one byte in the middle of every result-sized file of the store. */
function damageEntries(dir: string): number {
  let n = 0
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name)
      if (entry.isDirectory()) walk(p)
      else if (entry.isFile() && statSync(p).size > 200) {
        const data = readFileSync(p)
        const mid = data.length >> 1
        data[mid] = (data[mid] ?? 0) ^ 0xff
        writeFileSync(p, data)
        n++
      }
    }
  }
  walk(dir)
  return n
}
