/**
 * Sandbox, the positive case: the system gcc, mounted read-only at its own paths, compiles a
 * C file in a job directory mounted at the same absolute path as a local compile's, and the
 * object is byte-identical to the local one, `-g` included (DW_AT_comp_dir, file names and
 * `__FILE__` all carry the path). Control: the same compile at another path differs, so the
 * comparison can fail. A compile error comes back with the compiler's exit code and message.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runSandboxed } from '../../src/sandbox/run-sandboxed.ts'
import { systemToolchainMounts } from '../../src/sandbox/toolchain-mounts.ts'
import type { SandboxMount } from '../../src/sandbox/types.ts'
import { isLinux } from './sandbox-fixture.ts'

const HEADER = '#define GREETING "hello from " __FILE__\n'
const SOURCE = `#include <stdio.h>
#include "greet.h"
static const char *where(void) { return __FILE__; }
int main(void) { printf("%s %s\\n", GREETING, where()); return 0; }
`
const ARGS = ['-g', '-O2', '-Wall', '-c', 'src/hello.c', '-o', 'hello.o', '-Iinclude']
const ENV = { PATH: '/usr/bin:/bin', LANG: 'C' }

async function writeProject(dir: string): Promise<void> {
  await mkdir(join(dir, 'src'), { recursive: true })
  await mkdir(join(dir, 'include'), { recursive: true })
  await writeFile(join(dir, 'src', 'hello.c'), SOURCE)
  await writeFile(join(dir, 'include', 'greet.h'), HEADER)
}

describe('sandbox: compiling with the system gcc', {
  skip: !isLinux && 'sandbox is Linux-only',
}, () => {
  let work: string
  let local: string
  let toolchain: SandboxMount[]
  before(async () => {
    execFileSync('make', ['-s', '-C', join(import.meta.dirname, '..', '..', 'native-sandbox')])
    work = await mkdtemp(join(tmpdir(), 'meshcc-sbx-cc-'))
    local = join(work, 'client', 'proj', 'build') // the client's working directory
    await writeProject(local)
    execFileSync('gcc', ARGS, { cwd: local, env: ENV })
    toolchain = await systemToolchainMounts()
  })
  after(() => rm(work, { recursive: true, force: true }))

  async function remote(name: string, at: string, args = ARGS) {
    const job = join(work, name)
    await writeProject(job)
    const r = await runSandboxed({
      program: 'gcc',
      args,
      mounts: [...toolchain, { kind: 'rw', source: job, path: at }],
      cwd: at,
      env: ENV,
      limits: { timeoutMs: 60_000 },
    })
    return { r, job }
  }

  it('the object is byte-identical to a local compile at the same path, -g included', async () => {
    const { r, job } = await remote('job1', local)
    assert.equal(r.exitCode, 0, r.stderr.toString())
    assert.equal(r.timedOut, false)
    assert.equal(r.sandboxLevel >= 2, true)
    const mine = await readFile(join(local, 'hello.o'))
    const theirs = await readFile(join(job, 'hello.o'))
    assert.ok(mine.includes(Buffer.from(local)), 'the local object names its directory')
    assert.ok(mine.equals(theirs), 'sandboxed object differs from the local one')
  })

  it('control: at another path the object differs', async () => {
    const { r, job } = await remote('job2', '/somewhere/else/build')
    assert.equal(r.exitCode, 0, r.stderr.toString())
    const theirs = await readFile(join(job, 'hello.o'))
    assert.ok(theirs.includes(Buffer.from('/somewhere/else/build')))
    assert.ok(!theirs.equals(await readFile(join(local, 'hello.o'))))
  })

  it("a compile error returns the compiler's exit code and message", async () => {
    const job = join(work, 'job3')
    await mkdir(job)
    await writeFile(join(job, 'bad.c'), 'int f(void) { return undeclared_thing; }\n')
    const r = await runSandboxed({
      program: 'gcc',
      args: ['-c', 'bad.c', '-o', 'bad.o'],
      mounts: [...toolchain, { kind: 'rw', source: job, path: local }],
      cwd: local,
      env: ENV,
    })
    assert.equal(r.exitCode, 1)
    assert.match(r.stderr.toString(), /bad\.c:1:\d+: error: 'undeclared_thing' undeclared/)
  })
})
