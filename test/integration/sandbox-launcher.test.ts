/**
 * The sandbox launcher (`src/sandbox/launcher.ts`, `native-sandbox/launcher.c`): a run started
 * through it reports exactly what a directly spawned helper reports (output, exit status, the
 * sandbox's own status), an abort stops it, and it serves a job's main source through a FIFO —
 * the text first, then the original at the same path — without ever following a link the job
 * planted under its root to a host file.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { access, chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { serveFifoSource } from '../../src/sandbox/fifo-source.ts'
import { sandboxLauncher } from '../../src/sandbox/launcher.ts'
import { runSandboxed } from '../../src/sandbox/run-sandboxed.ts'
import { systemToolchainMounts } from '../../src/sandbox/toolchain-mounts.ts'
import type { SandboxMount, SandboxSpec } from '../../src/sandbox/types.ts'
import { helper, hostProcessesWith, isLinux, probeFixture } from './sandbox-fixture.ts'

describe('sandbox launcher', { skip: !isLinux && 'sandbox is Linux-only' }, () => {
  let dir: string
  let toolchain: SandboxMount[]
  before(async () => {
    await (await probeFixture()).cleanup() // builds the helper
    dir = await mkdtemp(join(tmpdir(), 'meshcc-launch-'))
    await chmod(dir, 0o755)
    toolchain = await systemToolchainMounts()
  })
  after(() => rm(dir, { recursive: true, force: true }))

  const sh = (script: string, job: string): SandboxSpec => ({
    program: '/bin/sh',
    args: ['-c', script],
    mounts: [...toolchain, { kind: 'rw', source: job, path: '/job' }],
    cwd: '/job',
    env: { PATH: '/usr/bin:/bin' },
    limits: { timeoutMs: 20_000 },
  })

  /** A fresh job directory anyone in the sandbox may write. */
  const jobDir = async () => {
    const job = await mkdtemp(join(dir, 'job-'))
    await chmod(job, 0o777)
    return job
  }

  /** The same run through the launcher, then through a directly spawned helper. */
  const bothWays = async (spec: SandboxSpec) => {
    const viaLauncher = await runSandboxed(spec, { helper })
    process.env['MESHCC_SANDBOX_LAUNCHER'] = '0'
    const spawned = await runSandboxed(spec, { helper }).finally(() => {
      delete process.env['MESHCC_SANDBOX_LAUNCHER']
    })
    return { viaLauncher, spawned }
  }

  it('is used for the helper, and a run reports what a spawned helper reports', async () => {
    const launcher = await sandboxLauncher(helper)
    assert.ok(launcher !== undefined, 'the helper answers as a launcher')
    assert.ok(typeof launcher.pid === 'number')
    const job = await jobDir()
    const { viaLauncher, spawned } = await bothWays(
      sh('echo out; echo err >&2; echo data > f; exit 3', job),
    )
    for (const r of [viaLauncher, spawned]) {
      assert.equal(r.exitCode, 3)
      assert.equal(r.stdout.toString(), 'out\n')
      assert.equal(r.stderr.toString(), 'err\n')
      assert.ok(r.sandboxLevel >= 2)
    }
    assert.equal(await readFile(join(job, 'f'), 'utf8'), 'data\n')
  })

  it("a run's job sees what a spawned helper's sees: environment, descriptors, signal state", async () => {
    // /proc/self is the shell: its open descriptors, ignored and blocked signals.
    const { viaLauncher, spawned } = await bothWays(
      sh(
        'env | sort; ls /proc/self/fd 2>&1; grep -E "^Sig(Ign|Blk|Pnd)|^NoNewPrivs" /proc/self/status 2>&1',
        await jobDir(),
      ),
    )
    assert.equal(viaLauncher.exitCode, 0, viaLauncher.stderr.toString())
    assert.equal(viaLauncher.stdout.toString(), spawned.stdout.toString())
    assert.match(viaLauncher.stdout.toString(), /^PATH=\/usr\/bin:\/bin$/m)
  })

  it('many runs at once each get their own output', async () => {
    const job = await mkdtemp(join(dir, 'job-'))
    const rs = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        runSandboxed(sh(`head -c ${100_000 + i} /dev/zero | tr '\\0' ${i}; exit ${i}`, job), {
          helper,
        }),
      ),
    )
    rs.forEach((r, i) => {
      assert.equal(r.exitCode, i)
      assert.equal(r.stdout.length, 100_000 + i)
      assert.equal(r.stdout.toString().replaceAll(String(i), ''), '')
    })
  })

  it('an abort stops the run and rejects with the reason', async () => {
    const job = await mkdtemp(join(dir, 'job-'))
    const ac = new AbortController()
    const t0 = performance.now()
    setTimeout(() => ac.abort(new Error('stop it')), 300)
    await assert.rejects(runSandboxed(sh('sleep 30', job), { helper, signal: ac.signal }), {
      message: 'stop it',
    })
    assert.ok(performance.now() - t0 < 5_000)
  })

  it('a daemon that dies takes its runs with it (the launcher stops them)', async () => {
    // A number sleep(1) accepts (it adds its arguments), unique to this test run.
    const token = `0.${process.pid}${Math.floor(Math.random() * 1e8)}`
    const job = await mkdtemp(join(dir, 'job-'))
    const script = [
      `import { runSandboxed } from ${JSON.stringify(new URL('../../src/sandbox/run-sandboxed.ts', import.meta.url).href)}`,
      `const spec = ${JSON.stringify(sh(`exec sleep 1000 ${token}`, job))}`,
      `runSandboxed(spec, { helper: ${JSON.stringify(helper)} })`,
      'setInterval(() => {}, 1000)',
    ].join('\n')
    const daemon = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: 'ignore',
    })
    const until = async (cond: () => Promise<boolean>) => {
      for (let i = 0; i < 200 && !(await cond()); i++) await new Promise((r) => setTimeout(r, 50))
      return cond()
    }
    assert.ok(await until(async () => (await hostProcessesWith('sleep', token)).length > 0))
    daemon.kill('SIGKILL')
    assert.ok(
      await until(async () => (await hostProcessesWith('sleep', token)).length === 0),
      'the sandboxed sleeper is gone',
    )
  })

  it('a launcher killed under its runs stops them, fails them, and is replaced', async () => {
    const token = `0.${process.pid}${Math.floor(Math.random() * 1e8)}`
    const job = await mkdtemp(join(dir, 'job-'))
    const launcher = await sandboxLauncher(helper)
    assert.ok(launcher?.pid !== undefined)
    const run = runSandboxed(sh(`exec sleep 1000 ${token}`, job), { helper })
    const until = async (cond: () => Promise<boolean>) => {
      for (let i = 0; i < 200 && !(await cond()); i++) await new Promise((r) => setTimeout(r, 50))
      return cond()
    }
    assert.ok(await until(async () => (await hostProcessesWith('sleep', token)).length > 0))
    process.kill(launcher.pid, 'SIGKILL')
    await assert.rejects(run, { code: 'ERR_MESHCC_SANDBOX_SETUP' })
    assert.ok(
      await until(async () => (await hostProcessesWith('sleep', token)).length === 0),
      'the sandboxed sleeper is gone',
    )
    const next = await runSandboxed(sh('echo again', job), { helper })
    assert.equal(next.stdout.toString(), 'again\n')
    assert.notEqual((await sandboxLauncher(helper))?.pid, launcher.pid)
  })

  /** A job root with `sub/main.c` to be served, the original and the text in private files. */
  async function fifoJob() {
    const base = await mkdtemp(join(dir, 'fifo-'))
    const root = join(base, 'm0')
    const priv = join(base, 'src')
    const outside = join(base, 'outside')
    await mkdir(join(root, 'sub'), { recursive: true })
    await mkdir(priv)
    await mkdir(outside)
    await chmod(root, 0o777)
    await chmod(join(root, 'sub'), 0o777)
    await writeFile(join(outside, 'main.c'), 'VICTIM\n')
    await writeFile(join(priv, 'main'), 'ORIGINAL\n')
    return { base, root, priv, outside }
  }

  const exists = (p: string) =>
    access(p).then(
      () => true,
      () => false,
    )
  const until = async (cond: () => Promise<boolean>) => {
    for (let i = 0; i < 200 && !(await cond()); i++) await new Promise((r) => setTimeout(r, 20))
    return cond()
  }

  /** Asks the launcher to serve a text at `sub/main.c` of the job, then ORIGINAL. */
  const serveLater = (j: { root: string; priv: string }) =>
    serveFifoSource(
      { root: j.root, rel: 'sub/main.c' },
      { textFile: join(j.priv, 'text'), original: join(j.priv, 'main') },
      { helper },
    )
  /** The same with TEXT supplied at once. */
  const serveText = async (j: { root: string; priv: string }) => {
    const serving = await serveLater(j)
    await serving?.supply(Buffer.from('TEXT\n'))
    return serving
  }

  it('serves the text through the FIFO, then the original at the same path', async () => {
    const j = await fifoJob()
    const serving = await serveText(j)
    // The run is started before the launcher's answer: it is handled after the request.
    const running = runSandboxed(sh('cat sub/main.c; cat sub/main.c', j.root), { helper })
    const writer = await serving?.answer
    assert.ok(writer !== undefined)
    const r = await running
    writer.kill()
    assert.equal(r.exitCode, 0)
    assert.equal(r.stdout.toString(), 'TEXT\nORIGINAL\n')
    assert.equal(await readFile(join(j.root, 'sub', 'main.c'), 'utf8'), 'ORIGINAL\n')
  })

  it('a compile started before its text blocks in its read until the text is supplied', async () => {
    const j = await fifoJob()
    const serving = await serveLater(j)
    assert.ok(serving !== undefined)
    // The job notes when it got past opening its input, then reads it.
    const started = Date.now()
    const running = runSandboxed(
      sh('exec 5<sub/main.c; : > opened; cat <&5; cat sub/main.c', j.root),
      { helper },
    )
    const writer = await serving.answer
    assert.ok(writer !== undefined)
    assert.ok(
      await until(() => exists(join(j.root, 'opened'))),
      'the job opened its input before the text came',
    )
    await new Promise((r) => setTimeout(r, 200))
    await serving.supply(Buffer.from('LATE TEXT\n'))
    const r = await running
    writer.kill()
    assert.equal(r.exitCode, 0)
    assert.equal(r.stdout.toString(), 'LATE TEXT\nORIGINAL\n')
    assert.ok(Date.now() - started >= 200)
  })

  it('a writer killed before its text came copies nothing, and the compile sees end of file', async () => {
    const j = await fifoJob()
    const serving = await serveLater(j)
    assert.ok(serving !== undefined)
    const running = runSandboxed(
      sh('exec 5<sub/main.c; : > opened; cat <&5; echo "[$?]"', j.root),
      {
        helper,
      },
    )
    const writer = await serving.answer
    assert.ok(writer !== undefined)
    await until(() => exists(join(j.root, 'opened')))
    writer.kill()
    const r = await running
    assert.equal(r.stdout.toString(), '[0]\n')
    // The original was never renamed over the FIFO: nothing of it reached the job.
    assert.equal(await readFile(join(j.priv, 'main'), 'utf8'), 'ORIGINAL\n')
  })

  for (const [what, script] of [
    ['the FIFO', 'rm sub/main.c; ln -s OUTSIDE/main.c sub/main.c; cat sub/main.c'],
    ['its directory', 'mv sub gone; ln -s OUTSIDE sub; cat gone/main.c; true'],
  ] as const) {
    it(`a job that swaps ${what} for a link to a host path gets nothing written there`, async () => {
      const j = await fifoJob()
      const serving = await serveText(j)
      const writer = await serving?.answer
      assert.ok(writer !== undefined)
      await runSandboxed(sh(script.replace('OUTSIDE', j.outside), j.root), { helper })
      // Give a (wrongly) redirected writer time to act before looking.
      await new Promise((r) => setTimeout(r, 300))
      writer.kill()
      assert.equal(await readFile(join(j.outside, 'main.c'), 'utf8'), 'VICTIM\n')
      assert.deepEqual(await readdir(j.outside), ['main.c'])
    })
  }
})
