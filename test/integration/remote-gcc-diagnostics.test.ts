/**
 * gcc compiles that print diagnostics, compiled remotely with the real sandbox and a toolchain
 * packaged from this machine's gcc: the client ships the main source with every job and, when
 * the stderr names other files (a header, a macro's `#define`), sends the job once more with
 * them. The result must be accepted (not `suspect`), with stderr byte-identical to a local
 * compile, the same exit code and a byte-identical object. Controls: a job sent without its
 * sources prints different excerpts (so the comparison can fail), and a note pointing into
 * `/usr/include` (which a builder cannot be given) stays `suspect`.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { RemoteIneligibleError } from '../../src/errors.ts'
import { encodeRequest } from '../../src/remote/job-codec.ts'
import { testOrg } from '../helpers/mesh.ts'
import {
  buildSandboxHelper,
  ENV,
  localCompile,
  type Pair,
  packageToolchains,
  parse,
  remoteCompile,
  startPair,
  type Toolchains,
  writeTree,
} from './remote-fixture.ts'

const isLinux = process.platform === 'linux'

const PROJECT: Record<string, string> = {
  'include/util.h': [
    '#ifndef UTIL_H',
    '#define UTIL_H',
    '#define BIG_SHIFT(x) ((x) << 40)',
    'static inline int helper(int a) {',
    '\tint unused_in_header;',
    '\treturn a;',
    '}',
    '#endif',
    '',
  ].join('\n'),
  'include/plain.h': ['#define SQ(x) ((x) * (x))', ''].join('\n'),
  'src/main-warn.c': [
    '#include "plain.h"',
    'int f(int x)',
    '{',
    '\tint y;\t/* tab */\tint z = 0;',
    '\treturn SQ(x);',
    '}',
    'static int g(void) { return 1; }',
    '',
  ].join('\n'),
  'src/header-warn.c': ['#include "util.h"', 'int h(int x) { return helper(x); }', ''].join('\n'),
  'src/macro-warn.c': [
    '#include <stdio.h>',
    '#include "util.h"',
    'int m(int x) { return BIG_SHIFT(x) + helper(1); }',
    'int main(void) { printf("%d\\n", m(1)); return 0; }',
    '',
  ].join('\n'),
  'src/sys-note.c': ['#include <string.h>', 'unsigned long n(void) { return strlen(5); }', ''].join(
    '\n',
  ),
}

describe('gcc diagnostics from a builder are exact', { skip: !isLinux && 'Linux only' }, () => {
  let tc: Toolchains
  let pair: Pair
  let cwd: string
  const org = testOrg('acme')

  before(async () => {
    buildSandboxHelper()
    tc = await packageToolchains(['gcc'])
    pair = await startPair(org, tc)
    cwd = join(await mkdtemp(join(tmpdir(), 'meshcc-diag-client-')), 'home', 'bob', 'proj')
    await writeTree(cwd, PROJECT)
  })
  after(async () => {
    await pair?.stop()
    await rm(tc.dir, { recursive: true, force: true })
    await rm(join(cwd, '..', '..', '..'), { recursive: true, force: true })
  })

  /** Local compile, object moved aside; then the remote compile to the same path. */
  async function compare(compiler: string, args: string[], out: string) {
    const local = localCompile(compiler, args, cwd)
    const localObj = await readFile(join(cwd, out)).catch(() => undefined)
    if (localObj !== undefined) await rename(join(cwd, out), join(cwd, `${out}.local`))
    const before = pair.builder.counters.compiled
    const remote = await remoteCompile(pair, compiler, args, cwd, tc.ids['gcc']!)
    const rounds = pair.builder.counters.compiled - before
    const remoteObj = await readFile(join(cwd, out)).catch(() => undefined)
    return { local, localObj, remote, remoteObj, rounds }
  }

  function assertExact(r: Awaited<ReturnType<typeof compare>>) {
    assert.ok(r.local.stderr.length > 0, 'the local compile prints diagnostics')
    assert.equal(r.remote.suspect, undefined, r.remote.stderr.toString())
    assert.equal(r.remote.exitCode, r.local.exitCode, r.remote.stderr.toString())
    assert.equal(r.remote.stderr.toString(), r.local.stderr.toString())
    assert.equal(r.remote.stdout.toString(), r.local.stdout.toString())
    if (r.local.exitCode === 0) {
      assert.ok(r.localObj !== undefined && r.remoteObj !== undefined)
      assert.ok(r.localObj.equals(r.remoteObj), 'objects differ')
    } else assert.equal(r.remoteObj, undefined, 'a failed compile leaves no object')
  }

  it('a warning in the main file (tabs, -g): one round, exact stderr and object', async () => {
    const r = await compare(
      'gcc',
      ['-g', '-O2', '-Wall', '-Wextra', '-Iinclude', '-c', 'src/main-warn.c', '-o', 'mw.o'],
      'mw.o',
    )
    assertExact(r)
    assert.match(r.local.stderr.toString(), /src\/main-warn\.c:4:\d+: warning: unused variable/)
    assert.equal(r.rounds, 1, 'the main source went with the first round')
  })

  it('a warning in a header: a second round with the header, exact', async () => {
    const r = await compare(
      'gcc',
      ['-g', '-O1', '-Wall', '-Iinclude', '-c', 'src/header-warn.c', '-o', 'hw.o'],
      'hw.o',
    )
    assertExact(r)
    assert.match(r.local.stderr.toString(), /In file included from src\/header-warn\.c:1:/)
    assert.equal(r.rounds, 2)
  })

  it('a warning inside a macro expanded from a header, with colours, exact', async () => {
    const args = ['-g', '-O2', '-Wall', '-fdiagnostics-color=always', '-Iinclude']
    const r = await compare('gcc', [...args, '-c', 'src/macro-warn.c', '-o', 'mac.o'], 'mac.o')
    assertExact(r)
    const text = r.local.stderr.toString()
    assert.ok(text.includes('\x1b['), 'colour escapes are there')
    assert.match(text, /in expansion of macro/)
  })

  it('-Werror: the error exit, the exact messages, no object', async () => {
    await rm(join(cwd, 'we.o'), { force: true })
    const r = await compare(
      'gcc',
      ['-O2', '-Wall', '-Werror', '-Iinclude', '-c', 'src/macro-warn.c', '-o', 'we.o'],
      'we.o',
    )
    assert.equal(r.local.exitCode, 1)
    assertExact(r)
    await assert.rejects(stat(join(cwd, 'we.o')), /ENOENT/)
  })

  it('g++ warnings in the main file and a header are exact too', async () => {
    await writeTree(cwd, {
      'src/w.cpp': [
        '#include "util.h"',
        'int k(int a) { int unused_here; return helper(a); }',
        '',
      ].join('\n'),
    })
    const r = await compare(
      'g++',
      ['-g', '-O2', '-Wall', '-Iinclude', '-c', 'src/w.cpp', '-o', 'w.o'],
      'w.o',
    )
    assertExact(r)
  })

  it('control: without its sources the same job prints other excerpts', async () => {
    const args = ['-O2', '-Wall', '-Wextra', '-Iinclude', '-c', 'src/main-warn.c', '-o', 'ctl.o']
    const local = localCompile('gcc', args, cwd)
    const job = await pair.exec.prepare({
      compiler: 'gcc',
      inv: parse('gcc', args, cwd),
      cwd,
      env: ENV,
      toolchain: tc.ids['gcc']!,
    })
    assert.ok(job.fields?.sources !== undefined, 'gcc jobs carry their main source')
    const bare = { ...job.fields, sources: undefined }
    const out = await pair.exec.send(
      { ...job, fields: bare, shipped: undefined, request: encodeRequest(bare) },
      pair.builderNode.mesh.peerId.toString(),
    )
    assert.equal(out.suspect, 'gcc-diagnostics')
    assert.notEqual(out.stderr.toString(), local.stderr.toString())
  })

  it('a UTF-8 locale: the builder quotes with U+2018/U+2019 as the local gcc does', {
    skip: !existsSync('/usr/lib/locale/C.utf8/LC_CTYPE') && 'no C.utf8 locale here',
  }, async () => {
    const env = { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' }
    const args = ['-g', '-O2', '-Wall', '-Iinclude', '-c', 'src/macro-warn.c', '-o', 'u8.o']
    const local = spawnSync('gcc', args, { cwd, env })
    assert.ok(local.stderr.toString().includes('\u2018'), 'the local gcc uses curly quotes')
    const localObj = await readFile(join(cwd, 'u8.o'))
    await rm(join(cwd, 'u8.o'))
    const inv = parse('gcc', args, cwd)
    const job = await pair.exec.prepare({
      compiler: 'gcc',
      inv,
      cwd,
      env,
      toolchain: tc.ids['gcc']!,
    })
    assert.equal(job.fields?.env['LC_ALL'], 'C.UTF-8')
    const out = await pair.exec.send(job, pair.builderNode.mesh.peerId.toString())
    await pair.exec.commit(job, out, { umask: 0o022 })
    assert.equal(out.suspect, undefined, out.stderr.toString())
    assert.equal(out.stderr.toString(), local.stderr.toString())
    assert.ok(localObj.equals(await readFile(join(cwd, 'u8.o'))), 'objects differ')
  })

  it('-pedantic -pedantic-errors without -g: compiled as preprocessed text, exact', async () => {
    await writeTree(cwd, {
      'src/ped.cpp': [
        '#include "util.h"',
        'int p(int a) { int shadow = a; { int shadow = 2; (void)shadow; } return helper(a); }',
        'struct Z { int z[0]; };',
        '',
      ].join('\n'),
    })
    const r = await compare(
      'g++',
      [
        '-O2',
        '-Wall',
        '-Wextra',
        '-Wshadow',
        '-pedantic',
        '-Iinclude',
        '-c',
        'src/ped.cpp',
        '-o',
        'ped.o',
      ],
      'ped.o',
    )
    assertExact(r)
    assert.match(r.local.stderr.toString(), /\[-Wpedantic\]/)
    const err = await compare(
      'g++',
      ['-O2', '-pedantic-errors', '-Iinclude', '-c', 'src/ped.cpp', '-o', 'pe.o'],
      'pe.o',
    )
    assert.equal(err.local.exitCode, 1)
    assertExact(err)
  })

  it('control: -pedantic with -g would make the builder warn about line markers: kept local', async () => {
    const args = ['-g', '-O2', '-pedantic', '-Iinclude', '-c', 'src/header-warn.c', '-o', 'ped.o']
    const local = localCompile('gcc', args, cwd)
    assert.equal(local.stderr.length, 0)
    // Its result would never be accepted, so it is not sent at all.
    await assert.rejects(
      remoteCompile(pair, 'gcc', args, cwd, tc.ids['gcc']!, { commit: false }),
      (err: unknown) =>
        err instanceof RemoteIneligibleError && err.reason === 'diagnostics-unreproducible',
    )
  })

  it('control: a note pointing into /usr/include cannot be exact and stays suspect', async () => {
    const args = ['-O2', '-c', 'src/sys-note.c', '-o', 'sys.o']
    const local = localCompile('gcc', args, cwd)
    assert.match(local.stderr.toString(), /\/usr\/include\/string\.h:\d+:\d+: note:/)
    const remote = await remoteCompile(pair, 'gcc', args, cwd, tc.ids['gcc']!, { commit: false })
    assert.equal(remote.suspect, 'gcc-diagnostics')
    assert.ok(remote.missingSources?.some((p) => p.startsWith('/usr/include/')))
  })
})
