/**
 * The first job on a builder that lacks the toolchain, phase by phase, over loopback TCP: a
 * holder process packages the local gcc's C set (and packs its pieces at rest, as a client
 * does), then a fresh store here pulls it (manifest, pieces, each verified), materialises the
 * tree (hard links) and compiles `tiny.c` in the sandbox with that tree as its root. Prints the
 * phases (`# first job …`) with and without zstd on the wire; asserts only that it works, and
 * that the pull wrote each byte once (the tree shares the blobs' inodes).
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { lstat, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { after, before, describe, it } from 'node:test'
import type { Mesh } from '../../src/mesh/mesh-service.ts'
import { startMeshFromHome } from '../../src/mesh/start-from-home.ts'
import { runSandboxed } from '../../src/sandbox/run-sandboxed.ts'
import { toolchainMounts } from '../../src/sandbox/toolchain-mounts.ts'
import { ToolchainStore } from '../../src/toolchain/store.ts'
import { ToolchainFetcher } from '../../src/toolchain-transfer/fetcher.ts'
import { testOrg, waitFor } from '../helpers/mesh.ts'
import { prepareHome, removeHome } from '../helpers/mesh-process.ts'
import { buildSandboxHelper } from './remote-fixture.ts'

const hasGcc = spawnSync('sh', ['-c', 'command -v gcc']).status === 0
const runner = fileURLToPath(new URL('../helpers/toolchain-holder-runner.ts', import.meta.url))
const MiB = 1024 * 1024

describe('first job on a builder lacking the toolchain, over loopback', {
  skip: (process.platform !== 'linux' || !hasGcc) && 'Linux with gcc only',
}, () => {
  const homes: string[] = []
  let holder: ChildProcess
  let ready: { peerId: string; addrs: string[]; toolchains: Record<string, { id: string }> }
  let mesh: Mesh
  let work: string

  before(async () => {
    buildSandboxHelper()
    const org = testOrg('first-job')
    const h = await prepareHome(org, 'holder')
    const f = await prepareHome(org, 'builder')
    homes.push(h.home, f.home)
    holder = spawn(process.execPath, [runner], {
      env: { ...process.env, MESHCC_HOME: h.home, TC_SETS: 'c' },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    ready = await new Promise((resolve, reject) => {
      holder.once('exit', (code) => reject(new Error(`holder exited with ${code}`)))
      createInterface({ input: holder.stdout! }).on('line', (line) => {
        const e = JSON.parse(line) as { event: string } & typeof ready
        if (e.event === 'ready') resolve(e)
      })
    })
    mesh = await startMeshFromHome({
      home: f.home,
      advertSource: () => ({
        host: 'builder',
        platform: 'linux',
        arch: 'x64',
        cores: 2,
        freeSlots: 2,
        load: 0,
        queuedJobs: 0,
        speed: 1,
        toolchains: [],
      }),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      bootstrap: ready.addrs,
      mdns: false,
      persist: false,
      allow: ['/ip4/127.0.0.0/ipcidr/8'],
    })
    await waitFor(() => mesh.admission.isMember(ready.peerId), { what: 'holder admitted' })
    work = await mkdtemp('/tmp/meshcc-first-job-')
    await writeFile(join(work, 'tiny.c'), 'int f(int x) { return x * 3 + 1; }\n')
    // Let the holder pack its pieces at rest, as a client does after packaging.
    await new Promise((r) => setTimeout(r, 2_000))
  })

  after(async () => {
    await mesh?.stop()
    if (holder && holder.exitCode === null) {
      const exited = new Promise((r) => holder.once('exit', r))
      holder.kill('SIGTERM')
      await exited
    }
    for (const h of homes) await removeHome(h)
    if (work) await rm(work, { recursive: true, force: true })
  })

  for (const compress of [false, true]) {
    it(`pulls the C set, materialises and compiles${compress ? ' (zstd)' : ''}`, async () => {
      const { id } = ready.toolchains['c']!
      const root = await mkdtemp('/tmp/meshcc-first-job-store-')
      try {
        const store = new ToolchainStore(join(root, 'toolchains'))
        const cpu0 = process.cpuUsage()
        const t0 = performance.now()
        const r = await new ToolchainFetcher({ mesh, store, compress }).ensureToolchain(id, {
          hintPeers: [ready.peerId],
          adverts: false,
          dht: false,
        })
        const t1 = performance.now()
        const cpu = process.cpuUsage(cpu0)
        const mounts = await toolchainMounts(r.root)
        const res = await runSandboxed({
          program: `/${r.manifest.drivers.c}`,
          args: ['-O2', '-c', 'tiny.c', '-o', `tiny-${compress}.o`],
          cwd: work,
          mounts: [...mounts, { kind: 'rw', source: work, path: work }],
          env: { PATH: '/usr/bin:/bin' },
          limits: { timeoutMs: 60_000, nproc: 64 },
        })
        const t2 = performance.now()
        assert.equal(res.exitCode, 0, res.stderr.toString())
        assert.ok((await lstat(join(work, `tiny-${compress}.o`))).size > 0)
        const cc1 = r.manifest.files.find((f) => f.path.endsWith('/cc1'))!
        assert.equal(
          (await lstat(join(r.root, cc1.path))).ino,
          (await lstat(store.blobPath(cc1.sha256))).ino,
          'the tree links the blob',
        )
        const t = r.transfer!
        console.log(
          `# first job${compress ? ' zstd' : ''}: ${(t.bytes / MiB).toFixed(1)} MiB ` +
            `(${(t.wireBytes / MiB).toFixed(1)} on the wire), ${t.chunks} pieces; manifest ` +
            `${Math.round(t.marksMs.manifest)} ms, pieces until ${Math.round(t.marksMs.fetched)} ms, ` +
            `materialised at ${Math.round(t1 - t0)} ms, compiled at ${Math.round(t2 - t0)} ms; ` +
            `builder CPU for the pull ${Math.round((cpu.user + cpu.system) / 1000)} ms`,
        )
      } finally {
        await rm(root, { recursive: true, force: true })
      }
    })
  }
})
