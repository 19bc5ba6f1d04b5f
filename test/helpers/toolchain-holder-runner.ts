/**
 * A toolchain holder as its own process, for loopback transfer measurements:
 * `node test/helpers/toolchain-holder-runner.ts`. It joins the mesh from `$MESHCC_HOME` (prepared
 * with `prepareHome`) on TCP, packages the local compiler once per language set, serves and
 * announces the toolchains, and prints one JSON line `{"event":"ready",peerId,addrs,toolchains}`
 * (`toolchains`: language set → { id, bytes }). SIGTERM stops it.
 *
 * Environment: MESHCC_HOME; MESH_BOOTSTRAP (comma list); TC_COMPILER (default gcc);
 * TC_SETS (`;`-separated comma lists of languages, default `c`).
 */
import { join } from 'node:path'
import { startMeshFromHome } from '../../src/mesh/start-from-home.ts'
import type { AdvertFields } from '../../src/mesh/types.ts'
import { ingestToolchain } from '../../src/toolchain/ingest.ts'
import type { ToolchainLanguage } from '../../src/toolchain/manifest.ts'
import { packageLocalCompiler } from '../../src/toolchain/package-local.ts'
import { ToolchainStore } from '../../src/toolchain/store.ts'
import { startToolchainTransfer } from '../../src/toolchain-transfer/service.ts'

const env = process.env
const home = env['MESHCC_HOME']
if (home === undefined) throw new Error('MESHCC_HOME is required')
const list = (v: string | undefined): string[] => (v ? v.split(',').filter(Boolean) : [])

const store = new ToolchainStore(join(home, 'toolchains'))
const toolchains: Record<string, { id: string; bytes: number }> = {}
for (const set of (env['TC_SETS'] ?? 'c').split(';')) {
  const languages = list(set) as ToolchainLanguage[]
  const t = await packageLocalCompiler(env['TC_COMPILER'] ?? 'gcc', { languages })
  const id = await ingestToolchain(store, t)
  toolchains[set] = { id, bytes: t.manifest.files.reduce((a, f) => a + f.size, 0) }
}

const fields: AdvertFields = {
  host: 'holder',
  platform: process.platform,
  arch: process.arch,
  cores: 2,
  freeSlots: 2,
  load: 0,
  queuedJobs: 0,
  speed: 1,
  toolchains: [],
}
const mesh = await startMeshFromHome({
  home,
  advertSource: () => fields,
  listen: ['/ip4/127.0.0.1/tcp/0'],
  bootstrap: list(env['MESH_BOOTSTRAP']),
  mdns: false,
  persist: false,
  advertIntervalMs: 500,
  allow: ['/ip4/127.0.0.0/ipcidr/8'],
})
const transfer = await startToolchainTransfer({
  mesh,
  store,
  onAdvertChange: () => {
    fields.toolchains = transfer.held()
    mesh.changed()
  },
})
for (const { id } of Object.values(toolchains)) void transfer.announce(id)

process.on('SIGTERM', () => {
  void transfer
    .stop()
    .then(() => mesh.stop())
    .then(() => process.exit(0))
})
process.stdout.write(
  `${JSON.stringify({ event: 'ready', peerId: mesh.peerId.toString(), addrs: mesh.addrs(), toolchains })}\n`,
)
