/**
 * The native client runs commands for the daemon (`RUN` frames, `protocol/client-run-wire.ts`):
 * a daemon whose handler asks the waiting `bin/meshcc` to run programs gets their exact stdout,
 * stderr and status, in the client's cwd with the recursion guard set, large outputs included;
 * a program that cannot be started is reported as such; a client that does not offer it (no
 * flag) gets no `runOnClient`.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { connect } from 'node:net'
import { after, describe, it } from 'node:test'
import type { ClientRunner, CompileHandler, CompileRequest } from '../../src/compile/types.ts'
import { nodePaths } from '../../src/config/paths.ts'
import { type RunningDaemon, startDaemon } from '../../src/daemon/daemon.ts'
import { silentLogger } from '../../src/daemon/logger.ts'
import { ClientRunFailedError } from '../../src/errors.ts'
import { decodeCompileReply, encodeCompileRequest } from '../../src/protocol/local-wire.ts'
import type { StatsSnapshot } from '../../src/stats/types.ts'
import { meshccBin, runCommand } from '../helpers/meshcc-home.ts'

const dirs: string[] = []
const daemons: RunningDaemon[] = []
after(async () => {
  await Promise.all(daemons.map((d) => d.stop()))
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
})

async function withDaemon(handler: CompileHandler) {
  const dir = await mkdtemp('/tmp/meshcc-cr-')
  dirs.push(dir)
  const paths = nodePaths({ MESHCC_HOME: `${dir}/home` })
  const stats = () => ({}) as unknown as StatsSnapshot
  const clear = () => ({ entries: 0, bytes: 0 })
  daemons.push(
    await startDaemon({
      paths,
      handler,
      log: silentLogger,
      control: { stats, zeroStats: stats, clearCache: clear },
    }),
  )
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' }
  env['MESHCC_HOME'] = paths.home
  return { dir, env }
}

describe('commands the native client runs for the daemon', () => {
  it('returns exact output and status, runs in the client cwd with the guard, splits large output', async () => {
    const seen: { offered: boolean; results: unknown[] } = { offered: false, results: [] }
    const { dir, env } = await withDaemon({
      async handle(_request, { signal, runOnClient }) {
        seen.offered = runOnClient !== undefined
        const run = runOnClient as ClientRunner
        const a = await run(
          [
            '/bin/sh',
            '-c',
            'printf "out\\0put"; printf "err:%s:" "$_MESHCC_SAFEGUARD" >&2; pwd >&2; exit 3',
          ],
          { signal },
        )
        // 3 MiB on stdout and 1 MiB on stderr, interleaved: more than one frame each.
        const b = await run(
          [
            '/bin/sh',
            '-c',
            'head -c 3145728 /dev/zero & head -c 1048576 /dev/zero | tr "\\0" e >&2; wait',
          ],
          { signal },
        )
        const c = await run(['/bin/sh', '-c', 'kill -9 $$'], { signal })
        const missing = await run([`${dir}/no-such-program`], { signal }).then(
          () => 'started',
          (err: unknown) => (err instanceof ClientRunFailedError ? 'not-started' : String(err)),
        )
        seen.results = [
          a.exitCode,
          a.stdout.toString('latin1'),
          a.stderr.toString(),
          b.exitCode,
          b.stdout.length,
          b.stdout.every((x) => x === 0),
          b.stderr.length,
          c.signal,
          missing,
        ]
        return {
          kind: 'done',
          exitCode: 0,
          stdout: Buffer.from('all ran\n'),
          stderr: Buffer.alloc(0),
        }
      },
    })
    const r = await runCommand(meshccBin, ['gcc', '-c', 'x.c'], { cwd: dir, env })
    assert.equal(r.code, 0, r.stderr.toString())
    assert.equal(r.stdout.toString(), 'all ran\n')
    assert.equal(seen.offered, true)
    assert.deepEqual(seen.results, [
      3,
      'out\0put',
      `err:1:${dir}\n`,
      0,
      3 * 1024 * 1024,
      true,
      1024 * 1024,
      'SIGKILL',
      'not-started',
    ])
  })

  it('offers the runner only to clients that set the flag', async () => {
    const offered: boolean[] = []
    const { dir, env } = await withDaemon({
      async handle(_request, { runOnClient }) {
        offered.push(runOnClient !== undefined)
        return { kind: 'exec-local', reason: 'test' }
      },
    })
    const ask = (clientRuns: boolean) =>
      new Promise<Buffer>((resolve, reject) => {
        const request: CompileRequest = {
          cwd: dir,
          compiler: '/usr/bin/true',
          args: [],
          env: {},
          stdoutIsTty: false,
          stderrIsTty: false,
          umask: 0o22,
          pid: 1,
          ...(clientRuns ? { clientRuns } : {}),
        }
        const s = connect(`${env['MESHCC_HOME']}/run/daemon.sock`)
        const got: Buffer[] = []
        s.on('data', (b) => got.push(b))
        s.on('error', reject)
        s.on('close', () => resolve(Buffer.concat(got)))
        s.write(encodeCompileRequest(request))
      })
    assert.equal(decodeCompileReply(await ask(false)).kind, 'exec-local')
    assert.equal(decodeCompileReply(await ask(true)).kind, 'exec-local')
    assert.deepEqual(offered, [false, true])
  })
})
