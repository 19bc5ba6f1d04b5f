/**
 * A builder process killed (SIGKILL) in the middle of a job: the client, over real TCP on
 * loopback, gets a BuilderFailedError (`cut-off`) within a couple of seconds — not a hang, not a
 * wrong result — so the scheduler can retry elsewhere or compile locally.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { after, before, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { BuilderFailedError } from '../../src/errors.ts'
import { startMesh, type Mesh } from '../../src/mesh/mesh-service.ts'
import { RemoteExecutor } from '../../src/remote/remote-executor.ts'
import { prepareHome } from '../helpers/mesh-process.ts'
import { advertFields, memberCredentials, testOrg, waitFor } from '../helpers/mesh.ts'
import {
  buildSandboxHelper,
  ENV,
  packageToolchains,
  parse,
  type Toolchains,
  writeTree,
} from './remote-fixture.ts'

const runner = join(import.meta.dirname, 'remote-builder-runner.ts')

describe('a builder killed mid-job', { skip: process.platform !== 'linux' && 'Linux only' }, () => {
  const org = testOrg('acme')
  let tc: Toolchains
  let builderHome: string
  let clientHome: string
  let child: ChildProcess | undefined
  let client: Mesh | undefined
  const events: Array<Record<string, unknown>> = []

  before(async () => {
    buildSandboxHelper()
    tc = await packageToolchains(['gcc'])
    builderHome = (await prepareHome(org, 'builder')).home
    clientHome = await mkdtemp(join(tmpdir(), 'meshcc-remote-kill-'))
    child = spawn(process.execPath, [runner], {
      env: {
        ...process.env,
        MESHCC_HOME: builderHome,
        RUNNER_STORE: tc.store.root,
        RUNNER_SLOW_MS: '60000',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    createInterface({ input: child.stdout! }).on('line', (l) => {
      try {
        events.push(JSON.parse(l) as Record<string, unknown>)
      } catch {
        // not an event
      }
    })
  })
  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await client?.stop()
    await rm(tc.dir, { recursive: true, force: true })
    await rm(builderHome, { recursive: true, force: true })
    await rm(clientHome, { recursive: true, force: true })
  })

  it('the client learns at once (BuilderFailedError cut-off), not after a timeout', async (t) => {
    const ready = await waitFor(() => events.find((e) => e['event'] === 'ready'), {
      what: 'runner ready',
    })
    const key = await generateKeyPair('Ed25519')
    client = await startMesh({
      home: clientHome,
      privateKey: key,
      credentials: memberCredentials(org, key, { name: 'client', roles: ['client'] }),
      advertSource: () => advertFields(),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      bootstrap: ready['addrs'] as string[],
      mdns: false,
      persist: false,
      allow: ['/ip4/127.0.0.0/ipcidr/8'],
    })
    const builderId = ready['peerId'] as string
    await waitFor(() => client!.admission.isMember(builderId), { what: 'builder admitted' })

    const cwd = join(clientHome, 'proj')
    await writeTree(cwd, { 'a.c': 'int one(void) { return 1; }\n' })
    const args = ['-O2', '-c', 'a.c', '-o', 'a.o']
    // Stall detection is far away (60 s): only the dead connection can end this quickly.
    const exec = new RemoteExecutor({ node: client.node, tempDir: clientHome, stallMs: 60_000 })
    const job = await exec.prepare({
      compiler: 'gcc',
      inv: parse('gcc', args, cwd),
      cwd,
      env: ENV,
      toolchain: tc.ids['gcc']!,
    })
    const sent = exec.send(job, builderId).then(
      () => undefined,
      (e: unknown) => e,
    )
    await waitFor(() => events.some((e) => e['event'] === 'running'), { what: 'job running' })
    const t0 = performance.now()
    child!.kill('SIGKILL')
    const err = await sent
    const ms = performance.now() - t0
    t.diagnostic(`client saw the builder die after ${Math.round(ms)} ms: ${String(err)}`)
    assert.ok(err instanceof BuilderFailedError, String(err))
    assert.equal(err.failure, 'cut-off')
    assert.ok(ms < 3_000, `took ${ms} ms`)
  })
})
