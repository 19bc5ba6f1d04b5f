/**
 * Sandbox + toolchain store, the way remote compiles will run: the local gcc is packaged into
 * the store, materialised as a root-like tree, mounted entry by entry at its own paths
 * (`toolchainMounts`), and compiles a preprocessed file in a job directory mounted at the
 * client's absolute path. The object is byte-identical to the host gcc's at that path, `-g`
 * included — with nothing of the host visible but the tree.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runSandboxed } from '../../src/sandbox/run-sandboxed.ts'
import { toolchainMounts } from '../../src/sandbox/toolchain-mounts.ts'
import { ingestToolchain } from '../../src/toolchain/ingest.ts'
import { packageLocalCompiler } from '../../src/toolchain/package-local.ts'
import { ToolchainStore } from '../../src/toolchain/store.ts'
import { isLinux } from './sandbox-fixture.ts'

const SOURCE = `#include <stdio.h>
static int twice(int x) { return 2 * x; }
int main(int argc, char **argv) { printf("%s %d %s\\n", __FILE__, twice(argc), argv[0]); return 0; }
`

describe('sandbox with a toolchain tree from the store', { skip: !isLinux && 'Linux only' }, () => {
  let base: string
  before(async () => {
    execFileSync('make', ['-s', '-C', join(import.meta.dirname, '..', '..', 'native-sandbox')])
    base = await mkdtemp(join(tmpdir(), 'meshcc-sbx-tc-'))
  })
  after(() => rm(base, { recursive: true, force: true }))

  it('the packaged gcc compiles in the sandbox, byte-identical to the host at the same path', async () => {
    const store = new ToolchainStore(join(base, 'toolchains'))
    const t = await packageLocalCompiler('gcc', { languages: ['c'] })
    await ingestToolchain(store, t)
    const tree = await store.materialize(t.id)
    const driver = t.manifest.drivers.c
    assert.ok(driver, 'the toolchain has a C driver')

    const cwd = join(base, 'client', 'src') // the client's working directory
    await mkdir(cwd, { recursive: true })
    await writeFile(join(cwd, 'a.c'), SOURCE)
    execFileSync('gcc', ['-E', 'a.c', '-o', 'a.i'], { cwd })
    const flags = ['-O2', '-g', '-c', 'a.i']
    execFileSync('gcc', [...flags, '-o', 'host.o'], { cwd })

    const job = join(base, 'job')
    await mkdir(job)
    await writeFile(join(job, 'a.i'), await readFile(join(cwd, 'a.i')))
    const mounts = await toolchainMounts(tree)
    assert.ok(!mounts.some((m) => m.path === '/etc' || m.path === '/home'))
    const r = await runSandboxed({
      program: `/${driver}`,
      args: [...flags, '-o', 'host.o'],
      mounts: [...mounts, { kind: 'rw', source: job, path: cwd }],
      cwd,
      env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' },
      limits: { timeoutMs: 60_000, nproc: 16 },
    })
    assert.equal(r.exitCode, 0, r.stderr.toString())
    const host = await readFile(join(cwd, 'host.o'))
    const sandboxed = await readFile(join(job, 'host.o'))
    assert.ok(host.includes(Buffer.from(cwd)))
    assert.ok(host.equals(sandboxed), 'objects differ')
  })
})
