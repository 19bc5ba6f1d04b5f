/**
 * Mesh scale benchmark (issue 4): N members of one organisation in this process, on libp2p's
 * memory transport, each running the real mesh (admission, discovery, gossip adverts, DHT) with
 * its production timings. Measures:
 * - convergence: time from the last node's start until every node holds a live advert of every
 *   other (also from the first node's start);
 * - gossip traffic in steady state: bytes received on gossipsub streams (`/meshsub/…`, payload
 *   before yamux/Noise framing) per node per second, and all bytes on the connections (every
 *   protocol, encrypted) for scale;
 * - resident memory per node: growth of the process RSS over the empty process ÷ N; and CPU in
 *   steady state as a share of one core per node.
 *
 * Each node bootstraps to up to three earlier ones (a connected but sparse start); discovery
 * then dials every member it hears of. Only the memory transport is used: nothing leaves the
 * process.
 *
 * Certificate verdicts: every real member verifies each other member's certificate once (≈ 99
 * Ed25519 verifications at 100 members, a fraction of a second). In one process that becomes
 * N × (N − 1) verifications on one event loop (9 900 at 100 nodes, 1.5–12 ms each in the
 * pure-JS Ed25519 the identity module uses, depending on the machine's load): a cost of the
 * simulation, not of the protocol. By default (`--cert-memo shared`) the simulated nodes share
 * one memo of verified certificates (`VerifiedCerts`: same bytes, peer, keys and revocation list
 * give the same verdict); `--cert-memo own` gives each node its own, as in production.
 *
 * Run: node bench/mesh/mesh-scale.ts [--nodes 100] [--advert-ms 5000] [--measure-s 20]
 * [--timeout-s 240] [--cert-memo shared|own] [--json]
 * (the project's Node 24; `--expose-gc` makes the memory figure steadier).
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { AbstractMessageStream, AbstractMultiaddrConnection } from '@libp2p/utils'
import { decodeCertificate, issueCertificate } from '../../src/identity/certificate.ts'
import { orgFromSecretKey } from '../../src/identity/org-key.ts'
import { identityCredentials } from '../../src/mesh/identity-credentials.ts'
import { type Mesh, startMesh } from '../../src/mesh/mesh-service.ts'
import type { AdvertFields, MemberCertificate } from '../../src/mesh/types.ts'
import { VerifiedCerts } from '../../src/mesh/verified-certs.ts'

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '100' },
    'measure-s': { type: 'string', default: '20' },
    /** Wait this long after convergence before the window, so it measures the steady state. */
    'settle-s': { type: 'string', default: '20' },
    'timeout-s': { type: 'string', default: '240' },
    /** Advert period in a small mesh (production default 5 s; it grows with the mesh). */
    'advert-ms': { type: 'string', default: '5000' },
    /** `shared`: one memo of verified certificates for all nodes; `own`: one per node. */
    'cert-memo': { type: 'string', default: 'shared' },
    /** Delay of every buffer on the memory transport, ms (0: same microtask; see README). */
    'latency-ms': { type: 'string', default: '0' },
    json: { type: 'boolean', default: false },
  },
})
const N = Number(values.nodes)
const measureS = Number(values['measure-s'])
const timeoutMs = Number(values['timeout-s']) * 1000

// Byte counters: patched into the shared stream base classes (one copy of @libp2p/utils).
const counts = { gossip: 0, wire: 0 }
const proto = AbstractMessageStream.prototype as unknown as {
  onData(this: { protocol?: string }, data: { byteLength: number }): void
}
const onData = proto.onData
proto.onData = function (data) {
  if (this instanceof AbstractMultiaddrConnection) counts.wire += data.byteLength
  else if (this.protocol?.startsWith('/meshsub/')) counts.gossip += data.byteLength
  onData.call(this, data)
}

const gc = (globalThis as { gc?: () => void }).gc
const rss = (): number => {
  gc?.()
  return process.memoryUsage().rss
}
/** Progress on stderr (also with `--json`, whose one line goes to stdout). */
const log = (msg: string) => {
  process.stderr.write(`${msg}\n`)
}

const sharedMemo =
  values['cert-memo'] === 'own' ? undefined : new VerifiedCerts<MemberCertificate>()
const org = orgFromSecretKey('bench', new Uint8Array(randomBytes(32)))
const trusted = [{ org: org.org, publicKey: org.publicKey }]
const home = await mkdtemp(join(tmpdir(), 'meshcc-bench-mesh-'))
const baseline = rss()
const loadStart = loadavg().map((x) => round(x))
const meshes: Mesh[] = []
/** Churn during the run (refusals by reason, departures, expired adverts). */
const events = new Map<string, number>()
const addrs: string[] = []
const t0 = performance.now()
for (let i = 0; i < N; i++) {
  const key = await generateKeyPair('Ed25519')
  const peerId = peerIdFromPrivateKey(key)
  const certificate = issueCertificate(org, { peerId, name: `n${i}`, roles: ['builder', 'client'] })
  const cert = decodeCertificate(certificate)
  if (cert === undefined) throw new Error('certificate does not decode')
  const fields: AdvertFields = {
    host: `n${i}`,
    platform: 'linux',
    arch: 'x64',
    cores: 8,
    freeSlots: 8,
    load: 0.1,
    queuedJobs: 0,
    speed: 1,
    toolchains: ['gcc-12-x86_64-linux-gnu'],
  }
  const bootstrap = [...new Set([0, Math.floor(i / 2), i - 1].filter((j) => j >= 0 && j < i))].map(
    (j) => addrs[j] as string,
  )
  const addr = `/memory/${peerId.toString()}`
  const mesh = await startMesh({
    home: join(home, String(i)),
    privateKey: key,
    credentials: identityCredentials({
      identity: () => ({ certificate, cert }),
      trustedOrgKeys: () => trusted,
      ...(sharedMemo === undefined ? {} : { verified: sharedMemo }),
    }),
    advertSource: () => fields,
    transport: 'memory',
    listen: [addr],
    bootstrap,
    persist: false,
    advertIntervalMs: Number(values['advert-ms']),
    memoryLatencyMs: Number(values['latency-ms']),
  })
  for (const type of ['member:refused', 'member:left', 'advert:expired', 'advert:rejected']) {
    mesh.addEventListener(type, (e) => {
      const reason = (e as CustomEvent<{ reason?: string }>).detail.reason
      const k = reason === undefined ? type : `${type}: ${reason.replace(/\d+/g, 'N')}`
      events.set(k, (events.get(k) ?? 0) + 1)
    })
  }
  meshes.push(mesh)
  addrs.push(`${addr}/p2p/${peerId.toString()}`)
}
const started = performance.now()
const cpuAtStart = process.cpuUsage()
let cpuToConverge: NodeJS.CpuUsage | undefined
log(`${N} nodes started in ${((started - t0) / 1000).toFixed(1)} s`)

const seen = () => meshes.reduce((a, m) => a + m.adverts.peers().length, 0)
const want = N * (N - 1)
let converged: number | undefined
let lastLog = 0
let lastCpu = process.cpuUsage()
let lastAt = performance.now()
while (performance.now() - started < timeoutMs) {
  const s = seen()
  if (s === want) {
    converged = performance.now()
    cpuToConverge = process.cpuUsage(cpuAtStart)
    break
  }
  if (performance.now() - lastLog > 5_000) {
    lastLog = performance.now()
    const conns = meshes.reduce((a, m) => a + m.node.getConnections().length, 0) / 2
    // CPU of this process over wall time since the last line: near 100 % means the event loop
    // is the bottleneck, much less means other work on the machine got the cores.
    const cpu = process.cpuUsage(lastCpu)
    const pct = ((cpu.user + cpu.system) / 1e3 / (performance.now() - lastAt)) * 100
    lastCpu = process.cpuUsage()
    lastAt = performance.now()
    log(
      `  ${((performance.now() - started) / 1000).toFixed(0)} s: ${s}/${want} adverts held, ${conns} connections, CPU ${pct.toFixed(0)} % of a core`,
    )
  }
  await new Promise((r) => setTimeout(r, 100))
}
const partial = seen()

// Steady state: traffic, CPU and memory over the measurement window, after the start-up traffic
// (greetings, certificates to newcomers, DHT walks) has died down.
if (converged !== undefined) {
  await new Promise((r) => setTimeout(r, Number(values['settle-s']) * 1000))
}
counts.gossip = 0
counts.wire = 0
const sum = () =>
  meshes.reduce(
    (a, m) => {
      const x = m.adverts.stats()
      return {
        published: a.published + x.published,
        withCert: a.withCert + x.withCert,
        needCerts: a.needCerts + x.needCerts,
      }
    },
    { published: 0, withCert: 0, needCerts: 0 },
  )
const adverts0 = sum()
const cpu0 = process.cpuUsage()
const w0 = performance.now()
await new Promise((r) => setTimeout(r, measureS * 1000))
const windowS = (performance.now() - w0) / 1000
const cpu = process.cpuUsage(cpu0)
const adverts1 = sum()
const minSeen = Math.min(...meshes.map((m) => m.adverts.peers().length))
const connections = meshes.reduce((a, m) => a + m.node.getConnections().length, 0) / 2
const memory = rss()

const result = {
  nodes: N,
  advertMs: Number(values['advert-ms']),
  certMemo: sharedMemo === undefined ? 'own' : 'shared',
  latencyMs: Number(values['latency-ms']),
  advertPeriodMsAtEnd: Math.round(
    meshes.reduce((a, m) => a + m.adverts.periodMs, 0) / Math.max(1, meshes.length),
  ),
  startS: round((started - t0) / 1000),
  convergedS: converged === undefined ? null : round((converged - started) / 1000),
  convergedFromFirstStartS: converged === undefined ? null : round((converged - t0) / 1000),
  /** CPU this process used from the last start to convergence: the work, whatever the load. */
  cpuToConvergeS:
    cpuToConverge === undefined ? null : round((cpuToConverge.user + cpuToConverge.system) / 1e6),
  advertsHeldAtEnd: partial,
  advertsWanted: want,
  minAdvertsPerNodeInWindow: minSeen,
  connections,
  /** Adverts published in the window, and how many carried a certificate or asked for them. */
  advertsInWindow: {
    published: adverts1.published - adverts0.published,
    withCert: adverts1.withCert - adverts0.withCert,
    needCerts: adverts1.needCerts - adverts0.needCerts,
  },
  gossipBytesPerNodePerS: Math.round(counts.gossip / N / windowS),
  wireBytesPerNodePerS: Math.round(counts.wire / N / windowS),
  rssPerNodeMiB: round((memory - baseline) / N / 1024 ** 2),
  rssTotalMiB: round(memory / 1024 ** 2),
  cpuPerNodePctOfCore: round(((cpu.user + cpu.system) / 1e6 / windowS / N) * 100),
  measureS: round(windowS),
  settleS: Number(values['settle-s']),
  /** The machine's load average (1, 5, 15 min) at start and end: other work shares the cores. */
  loadavgStart: loadStart,
  loadavgEnd: loadavg().map((x) => round(x)),
  events: Object.fromEntries(events),
  node: process.version,
}
if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`)
else {
  const { events: churn, ...figures } = result
  console.table(figures)
  console.table(churn)
}

await Promise.all(meshes.map((m) => m.stop().catch(() => {})))
await rm(home, { recursive: true, force: true })
process.exit(converged === undefined ? 1 : 0)

function round(x: number): number {
  return Math.round(x * 100) / 100
}
