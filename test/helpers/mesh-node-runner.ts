/**
 * A standalone mesh node for multi-process tests: `node test/helpers/mesh-node-runner.ts`.
 * It joins the mesh the way the daemon does (`startMeshFromHome`: peer key, certificate, trust
 * anchor and revocation list from `$MESHCC_HOME`, prepared by the test with the real identity
 * module) on TCP, and speaks JSON lines: events on stdout (`ready`, `member:*`,
 * `revocations:updated`, `snapshot`, `stopped`), commands on stdin (`snapshot`, `recheck`,
 * `stop`). SIGTERM stops it cleanly.
 *
 * Environment: MESHCC_HOME; MESH_LISTEN (comma list, default /ip4/127.0.0.1/tcp/0);
 * MESH_BOOTSTRAP (comma list); MESH_MDNS=1 to enable mDNS; MESH_ADVERT_MS; MESH_CORES.
 */
import { createInterface } from 'node:readline'
import { startMeshFromHome } from '../../src/mesh/start-from-home.ts'
import type { AdvertFields } from '../../src/mesh/types.ts'

const env = process.env
const home = env['MESHCC_HOME']
if (home === undefined) throw new Error('MESHCC_HOME is required')
const list = (v: string | undefined): string[] => (v ? v.split(',').filter(Boolean) : [])
const out = (obj: unknown): void => {
  process.stdout.write(`${JSON.stringify(obj)}\n`)
}

const fields: AdvertFields = {
  host: 'starting',
  platform: process.platform,
  arch: process.arch,
  cores: Number(env['MESH_CORES'] ?? 2),
  freeSlots: Number(env['MESH_CORES'] ?? 2),
  load: 0,
  queuedJobs: 0,
  speed: 1,
  toolchains: ['gcc-test'],
}

const listen = list(env['MESH_LISTEN'])
const mesh = await startMeshFromHome({
  home,
  advertSource: () => fields,
  listen: listen.length > 0 ? listen : ['/ip4/127.0.0.1/tcp/0'],
  bootstrap: list(env['MESH_BOOTSTRAP']),
  mdns: env['MESH_MDNS'] === '1',
  mdnsIntervalMs: 1_000,
  advertIntervalMs: Number(env['MESH_ADVERT_MS'] ?? 500),
  discoveryIntervalMs: 1_000,
  pingIntervalMs: 1_000,
  allow: ['/ip4/127.0.0.0/ipcidr/8'],
})
fields.host = mesh.identity().cert.name
mesh.changed()
for (const type of ['member:admitted', 'member:refused', 'member:left', 'revocations:updated']) {
  mesh.addEventListener(type, (e) => out({ event: type, ...(e as CustomEvent<object>).detail }))
}

let stopping = false
async function stop(): Promise<void> {
  if (stopping) return
  stopping = true
  await mesh.stop()
  out({ event: 'stopped' })
  process.exit(0)
}
process.on('SIGTERM', () => void stop())

createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = line.trim()
  if (cmd === 'snapshot') out({ event: 'snapshot', snapshot: mesh.snapshot() })
  else if (cmd === 'recheck') {
    void mesh.recheck().then((cut) => out({ event: 'rechecked', cut: cut.map(String) }))
  } else if (cmd === 'stop') void stop()
})

out({ event: 'ready', peerId: mesh.peerId.toString(), addrs: mesh.addrs() })
