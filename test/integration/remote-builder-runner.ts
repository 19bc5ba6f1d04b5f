/**
 * A builder in its own process, for tests that kill it: `node remote-builder-runner.ts`. It joins
 * the mesh from `$MESHCC_HOME` over TCP on loopback and serves jobs from the toolchain store at
 * `$RUNNER_STORE`; every job's compile first waits `$RUNNER_SLOW_MS`, after printing
 * `{"event":"running"}`, so the test can kill it mid-job. Events are JSON lines on stdout.
 */
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { startMeshFromHome } from '../../src/mesh/start-from-home.ts'
import { BuilderService } from '../../src/remote/builder-service.ts'
import { runSandboxed } from '../../src/sandbox/run-sandboxed.ts'
import { ToolchainStore } from '../../src/toolchain/store.ts'

const env = process.env
const home = env['MESHCC_HOME']
const storeRoot = env['RUNNER_STORE']
if (home === undefined || storeRoot === undefined)
  throw new Error('MESHCC_HOME and RUNNER_STORE are required')
const slowMs = Number(env['RUNNER_SLOW_MS'] ?? 0)
const out = (obj: unknown): void => {
  process.stdout.write(`${JSON.stringify(obj)}\n`)
}

const builder = new BuilderService({
  store: new ToolchainStore(storeRoot),
  slots: 2,
  workDir: join(home, 'jobs'),
  run: async (spec, opts) => {
    out({ event: 'running' })
    await sleep(slowMs, undefined, opts.signal === undefined ? {} : { signal: opts.signal })
    return runSandboxed(spec, opts)
  },
})
const mesh = await startMeshFromHome({
  home,
  advertSource: () => ({
    host: 'runner',
    platform: process.platform,
    arch: process.arch,
    cores: 2,
    freeSlots: builder.freeSlots(),
    load: 0,
    queuedJobs: 0,
    speed: 1,
    toolchains: [],
  }),
  listen: ['/ip4/127.0.0.1/tcp/0'],
  mdns: false,
  allow: ['/ip4/127.0.0.0/ipcidr/8'],
})
await builder.register(mesh)
mesh.addEventListener('member:admitted', (e) =>
  out({ event: 'member:admitted', ...(e as CustomEvent<object>).detail }),
)
process.on('SIGTERM', () => void mesh.stop().then(() => process.exit(0)))
out({ event: 'ready', peerId: mesh.peerId.toString(), addrs: mesh.addrs() })
