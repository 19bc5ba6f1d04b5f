/**
 * Packages the system gcc 12 (and clang, when installed) into the toolchain store, then runs the
 * packaged compiler with nothing but its tree as `/` (tmpfs root + read-only binds, as the
 * sandbox will) and requires objects byte-identical to the host's, `-g` included.
 */
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { ingestToolchain } from '../../src/toolchain/ingest.ts'
import { packageLocalCompiler } from '../../src/toolchain/package-local.ts'
import { ToolchainStore } from '../../src/toolchain/store.ts'

const base = mkdtempSync(join(tmpdir(), 'meshcc-tc-pkg-'))
after(() => rm(base, { recursive: true, force: true }))
const store = new ToolchainStore(join(base, 'home', 'toolchains'))
const isRoot = process.getuid?.() === 0
const has = (p: string) => spawnSync('sh', ['-c', `command -v ${p}`]).status === 0
const MiB = 1024 * 1024

/** Runs `argv` in `cwd` with `tree` as the root: tmpfs `/`, read-only binds, a private /tmp. */
function runInTree(tree: string, cwd: string, argv: string[]) {
  const root = join(base, 'root')
  const script = `
    set -e
    mount -t tmpfs none "$ROOT"
    for e in $(ls -A "$TREE"); do
      if [ -L "$TREE/$e" ]; then cp -P "$TREE/$e" "$ROOT/$e"
      else mkdir "$ROOT/$e"; mount --rbind "$TREE/$e" "$ROOT/$e"; mount -o remount,ro,bind "$ROOT/$e"; fi
    done
    mkdir -p "$ROOT/tmp"; mount -t tmpfs none "$ROOT/tmp"
    mkdir -p "$ROOT$JOB"; mount --bind "$JOB" "$ROOT$JOB"
    exec env -i PATH=/usr/bin:/bin LC_ALL=C unshare --root="$ROOT" --wd="$JOB" "$@"
  `
  execFileSync('mkdir', ['-p', root])
  return spawnSync(
    'unshare',
    ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', ...argv],
    {
      env: { ROOT: root, TREE: tree, JOB: cwd, PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
      encoding: 'utf8',
    },
  )
}

const C_SOURCE = `#include <stdio.h>
#include <string.h>
static int twice(int x) { return 2 * x; }
int main(int argc, char **argv) { printf("%s %d %zu\\n", __FILE__, twice(argc), strlen(argv[0])); return 0; }
`
const CXX_SOURCE = `#include <map>
#include <string>
#include <iostream>
template <typename T> T sum(const std::map<std::string, T>& m) { T s{}; for (auto& [k, v] : m) s += v; return s; }
int main() { std::map<std::string, int> m{{"a", 1}, {"b", 2}}; std::cout << sum(m) << __FILE__ << "\\n"; }
`

async function compileBoth(
  tree: string,
  driver: string,
  hostDriver: string,
  src: string,
  ext: string,
  flags: string[],
) {
  const job = join(base, `job-${ext}-${driver.split('/').at(-1)}`)
  await mkdir(job, { recursive: true })
  await writeFile(join(job, `a.${ext}`), src)
  const pre = ext === 'c' ? 'a.i' : 'a.ii'
  execFileSync(hostDriver, ['-E', `a.${ext}`, '-o', pre], { cwd: job })
  execFileSync(hostDriver, [...flags, '-c', pre, '-o', 'host.o'], { cwd: job })
  const r = runInTree(tree, job, [`/${driver}`, ...flags, '-c', pre, '-o', 'tree.o'])
  assert.equal(r.status, 0, `compile in the tree failed: ${r.stderr}`)
  const host = await readFile(join(job, 'host.o'))
  const remote = await readFile(join(job, 'tree.o'))
  assert.ok(host.length > 500)
  assert.ok(host.equals(remote), `objects differ (${driver} ${flags.join(' ')})`)
}

describe('packaging the local compiler', { skip: !has('gcc') && 'no gcc' }, () => {
  it('packages gcc reproducibly: same compiler, same id, whichever driver is named', async (t) => {
    const t0 = performance.now()
    const a = await packageLocalCompiler('gcc')
    const t1 = performance.now()
    const b = await packageLocalCompiler('g++')
    const c = await packageLocalCompiler('cc')
    assert.equal(a.id, b.id)
    assert.equal(a.id, c.id)
    assert.deepEqual(a.bytes, b.bytes)
    const paths = a.manifest.files.map((f) => f.path)
    for (const want of [
      /\/cc1$/,
      /\/cc1plus$/,
      /-as$/,
      /libc\.so\.6$/,
      /ld-linux-x86-64\.so\.2$/,
      /include\/stddef\.h$/,
    ])
      assert.ok(
        paths.some((p) => want.test(p)),
        `toolchain lacks ${want}`,
      )
    assert.ok(!paths.some((p) => p.startsWith('usr/include/')), 'system headers are not packaged')
    assert.ok(
      a.manifest.symlinks.some((s) => s.path === 'usr/bin/as'),
      'as is found on PATH as `as`',
    )
    const cOnly = await packageLocalCompiler('gcc', { languages: ['c', 'c++'] })
    assert.notEqual(cOnly.id, a.id)
    const bytes = a.manifest.files.reduce((s, f) => s + f.size, 0)
    t.diagnostic(
      `gcc toolchain ${a.id.slice(0, 16)}: ${a.manifest.files.length} files, ${(bytes / MiB).toFixed(1)} MiB, packaged (hashed) in ${Math.round(t1 - t0)} ms`,
    )
    t.diagnostic(
      `gcc c,c++ only: ${(cOnly.manifest.files.reduce((s, f) => s + f.size, 0) / MiB).toFixed(1)} MiB`,
    )
    const t2 = performance.now()
    assert.equal(await ingestToolchain(store, a), a.id)
    const t3 = performance.now()
    await store.materialize(a.id)
    t.diagnostic(
      `stored in ${Math.round(t3 - t2)} ms, materialised in ${Math.round(performance.now() - t3)} ms`,
    )
  })

  it('the packaged gcc and g++ compile -c with only their tree as root, byte-identical to the host', {
    skip: (!isRoot || !has('unshare')) && 'needs root and unshare',
  }, async () => {
    const t = await packageLocalCompiler('gcc')
    await ingestToolchain(store, t)
    const tree = await store.materialize(t.id)
    await compileBoth(tree, t.manifest.drivers.c!, 'gcc', C_SOURCE, 'c', ['-O2', '-g'])
    await compileBoth(tree, t.manifest.drivers['c++']!, 'g++', CXX_SOURCE, 'cc', [
      '-O1',
      '-g',
      '-std=c++17',
    ])
    // Without the tree's files the compile must fail: the test would notice a host leak.
    const job = join(base, 'job-c-x86_64-linux-gnu-gcc-12')
    const empty = join(base, 'empty-tree')
    await mkdir(join(empty, 'usr'), { recursive: true })
    assert.notEqual(runInTree(empty, job, [`/${t.manifest.drivers.c}`, '-c', 'a.i']).status, 0)
  })

  it('packages clang and runs it from its tree', {
    skip: (!has('clang') || !isRoot) && 'needs clang and root',
  }, async (t) => {
    const c = await packageLocalCompiler('clang')
    assert.equal((await packageLocalCompiler('clang++')).id, c.id)
    t.diagnostic(
      `clang toolchain: ${c.manifest.files.length} files, ${(c.manifest.files.reduce((s, f) => s + f.size, 0) / MiB).toFixed(1)} MiB`,
    )
    await ingestToolchain(store, c)
    const tree = await store.materialize(c.id)
    assert.ok(existsSync(join(tree, c.manifest.drivers['c++']!)))
    await compileBoth(tree, c.manifest.drivers.c!, 'clang', C_SOURCE, 'c', ['-O2', '-g'])
  })
})
