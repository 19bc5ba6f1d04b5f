/**
 * Pulls the real packaged gcc toolchains (C, then C and C++) between two processes over loopback
 * TCP, and prints the figures: MiB, seconds, MiB/s (the goal: the first job on a builder
 * that lacks a ~31 MiB toolchain has it within 1.5 s). The holder packages the local gcc in its
 * own process; the fetcher is this process. Skipped when gcc is not installed.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { after, before, describe, it } from 'node:test'
import { startMeshFromHome } from '../../src/mesh/start-from-home.ts'
import type { Mesh } from '../../src/mesh/mesh-service.ts'
import { ToolchainStore } from '../../src/toolchain/store.ts'
import { ToolchainFetcher } from '../../src/toolchain-transfer/fetcher.ts'
import { testOrg, waitFor } from '../helpers/mesh.ts'
import { prepareHome, removeHome } from '../helpers/mesh-process.ts'
import { treeMatches } from '../helpers/toolchain-fixture.ts'

const hasGcc = spawnSync('sh', ['-c', 'command -v gcc']).status === 0
const runner = fileURLToPath(new URL('../helpers/toolchain-holder-runner.ts', import.meta.url))
const MiB = 1024 * 1024

interface Ready {
  peerId: string
  addrs: string[]
  toolchains: Record<string, { id: string; bytes: number }>
}

describe('toolchain transfer over loopback TCP (real gcc)', { skip: !hasGcc }, () => {
  const homes: string[] = []
  let holder: ChildProcess
  let ready: Ready
  let mesh: Mesh
  let store: ToolchainStore

  before(async () => {
    const org = testOrg('loop-tc')
    const h = await prepareHome(org, 'holder')
    const f = await prepareHome(org, 'fetcher')
    homes.push(h.home, f.home)
    holder = spawn(process.execPath, [runner], {
      env: { ...process.env, MESHCC_HOME: h.home, TC_SETS: 'c;c,c++' },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    ready = await new Promise<Ready>((resolve, reject) => {
      holder.once('exit', (code) => reject(new Error(`holder exited with ${code}`)))
      setTimeout(() => reject(new Error('holder not ready after 120 s')), 120_000).unref()
      createInterface({ input: holder.stdout! }).on('line', (line) => {
        const e = JSON.parse(line) as { event: string } & Ready
        if (e.event === 'ready') resolve(e)
      })
    })
    mesh = await startMeshFromHome({
      home: f.home,
      advertSource: () => ({
        host: 'fetcher',
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
    store = new ToolchainStore(join(f.home, 'toolchains'))
    await waitFor(() => mesh.admission.isMember(ready.peerId), { what: 'holder admitted' })
  })

  after(async () => {
    await mesh?.stop()
    if (holder && holder.exitCode === null) {
      const exited = new Promise((r) => holder.once('exit', r))
      holder.kill('SIGTERM')
      await exited
    }
    for (const h of homes) await removeHome(h)
  })

  for (const [set, compress] of [
    ['c', false],
    ['c,c++', false],
    ['c', true],
    ['c,c++', true],
  ] as const) {
    it(`pulls the gcc ${set} toolchain${compress ? ' with zstd' : ''}`, async () => {
      const { id, bytes } = ready.toolchains[set]!
      const fetcher = new ToolchainFetcher({ mesh, store, compress })
      const r = await fetcher.ensureToolchain(id, { hintPeers: [ready.peerId] })
      assert.ok(r.transfer)
      assert.equal(r.transfer.bytes, bytes)
      assert.ok(await treeMatches(r.root, r.manifest))
      const t = r.transfer
      const mib = bytes / MiB
      console.log(
        `# gcc ${set}${compress ? ' zstd' : ''}: ${mib.toFixed(1)} MiB (${(t.wireBytes / MiB).toFixed(1)} MiB on the wire), ` +
          `${r.manifest.files.length} files, ${t.chunks} pieces; fetched in ${t.fetchSeconds.toFixed(2)} s ` +
          `(${(mib / t.fetchSeconds).toFixed(0)} MiB/s), materialised, total ${t.seconds.toFixed(2)} s ` +
          `(${(mib / t.seconds).toFixed(0)} MiB/s); marks ${JSON.stringify(t.marksMs, (_, v) => (typeof v === 'number' ? Math.round(v) : v))}`,
      )
      await store.remove(id)
      assert.equal((await store.usage()).blobs, 0)
    })
  }
})
