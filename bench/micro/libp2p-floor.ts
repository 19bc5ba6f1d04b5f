/**
 * What the mandated network stack costs by itself per remote job, with no meshcc code on the
 * path: two bare libp2p nodes (TCP, Noise, yamux, with `mesh/create-node.ts`'s yamux window rule but
 * not its write batching) in two processes on loopback. The client sends a request of a tiny
 * job's size and reads a reply of a tiny object's size, sequentially, and reports the CPU its
 * own process spent per exchange (`process.cpuUsage`, all threads) and the wall time.
 *
 * Three ways of carrying one exchange:
 * - `stream`: a new stream per exchange (what `/meshcc/job` does), length-prefixed messages;
 * - `spare`: the same, with the next stream opened in the background while the exchange runs
 *   (`job-streams.ts`'s one-ahead), so only its CPU remains;
 * - `reuse`: one long-lived stream, request and reply per exchange: the least any design over
 *   js-libp2p can spend.
 *
 * It bounds what meshcc's client daemon can reach per job: everything else it does (parsing the
 * request, running the preprocessor through the native client, the cache key and store, writing
 * outputs) comes on top of this.
 *
 * `--grant=BYTES`: both ends first widen each new stream's receive window to BYTES, as the job
 * streams do (`mesh/stream-window.ts`); a long-lived stream's window has grown by itself.
 *
 * Run: node bench/micro/libp2p-floor.ts [N=2000] [--request=BYTES] [--reply=BYTES] [--grant=BYTES]
 */
import { fork } from 'node:child_process'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Libp2p, Stream } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { widenReceiveWindow } from '../../src/mesh/stream-window.ts'
import { sendFewerWindowUpdates } from '../../src/mesh/yamux-window-updates.ts'

const PROTOCOL = '/meshcc-bench/floor/1.0.0'
const MAX = 1 << 20
const argv = process.argv.slice(2)
const USAGE =
  'usage: node bench/micro/libp2p-floor.ts [N=2000] [--request=BYTES] [--reply=BYTES] [--grant=BYTES]\n'
const num = (flag: string, dflt: number) => {
  const a = argv.find((x) => x.startsWith(`--${flag}=`))
  return a === undefined ? dflt : Number(a.slice(flag.length + 3))
}
const bad = argv.find((a) => !/^\d+$/.test(a) && !/^--(request|reply|grant|role)=/.test(a))
if (bad !== undefined) {
  process.stderr.write(bad === '--help' ? USAGE : `libp2p-floor: unknown argument ${bad}\n${USAGE}`)
  process.exit(bad === '--help' ? 0 : 2)
}
const N = Number(argv.find((a) => /^\d+$/.test(a)) ?? 2000)
const REQUEST = num('request', 1400)
const REPLY = num('reply', 1100)
/** `--grant=BYTES`: both ends widen each stream's receive window first (`mesh/stream-window.ts`). */
const GRANT = num('grant', 0)
const role = argv.find((a) => a.startsWith('--role='))?.slice(7)

async function node(listen: string[]): Promise<Libp2p> {
  sendFewerWindowUpdates()
  return createLibp2p({
    addresses: { listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionMonitor: { enabled: false },
  })
}

const lp = (s: Stream) => lpStream(s, { maxDataLength: MAX, maxBufferSize: MAX + 64 })

/** Answers every request on a stream with a reply of `REPLY` bytes until the stream ends. */
async function serve(): Promise<void> {
  const n = await node(['/ip4/127.0.0.1/tcp/0'])
  const reply = new Uint8Array(REPLY).fill(7)
  await n.handle(
    PROTOCOL,
    async (stream) => {
      if (GRANT > 0) widenReceiveWindow(stream, GRANT)
      const s = lp(stream)
      try {
        for (;;) {
          await s.read()
          await s.write(reply)
        }
      } catch {
        await stream.close().catch(() => {})
      }
    },
    { maxInboundStreams: 64 },
  )
  process.send?.({ addr: n.getMultiaddrs()[0]?.toString() })
}

interface Row {
  mode: string
  cpuMs: number
  wallMs: number
}

async function client(addr: string): Promise<Row[]> {
  const n = await node([])
  const conn = await n.dial(multiaddr(addr))
  const request = new Uint8Array(REQUEST).fill(3)
  const open = async () => {
    const s = await conn.newStream(PROTOCOL)
    if (GRANT > 0) widenReceiveWindow(s, GRANT)
    return s
  }
  const perStream = async (stream: Stream) => {
    const s = lp(stream)
    await s.write(request)
    await s.read()
    await stream.close()
  }
  const modes: Record<string, () => Promise<() => Promise<void>>> = {
    stream: async () => async () => perStream(await open()),
    spare: async () => {
      let next = open()
      return async () => {
        const stream = await next
        next = open()
        await perStream(stream)
      }
    },
    reuse: async () => {
      const s = lp(await open())
      return async () => {
        await s.write(request)
        await s.read()
      }
    },
  }
  const rows: Row[] = []
  for (const [mode, make] of Object.entries(modes)) {
    const once = await make()
    for (let i = 0; i < Math.min(500, N); i++) await once() // warm-up: JIT, windows
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    for (let i = 0; i < N; i++) await once()
    const wall = performance.now() - t0
    const cpu = process.cpuUsage(cpu0)
    rows.push({ mode, cpuMs: (cpu.user + cpu.system) / 1000 / N, wallMs: wall / N })
  }
  await n.stop()
  return rows
}

if (role === 'server') {
  await serve()
} else if (role === 'client') {
  process.once('message', (m: { addr: string }) => {
    void client(m.addr).then((rows) => {
      process.send?.({ rows })
      process.exit(0)
    })
  })
} else {
  const here = new URL(import.meta.url).pathname
  const args = [...argv.filter((a) => !a.startsWith('--role=')), String(N)]
  const server = fork(here, [...args, '--role=server'])
  const addr = await new Promise<string>((res) =>
    server.once('message', (m: { addr: string }) => res(m.addr)),
  )
  const c = fork(here, [...args, '--role=client'])
  c.send({ addr })
  const { rows } = await new Promise<{ rows: Row[] }>((res) =>
    c.once('message', (m: { rows: Row[] }) => res(m)),
  )
  server.kill()
  process.stdout.write(
    `libp2p floor (TCP + Noise + yamux, loopback), ${N} sequential exchanges per mode, ` +
      `request ${REQUEST} B, reply ${REPLY} B, window grant ${GRANT > 0 ? `${GRANT} B` : 'none'}:\n`,
  )
  for (const r of rows)
    process.stdout.write(
      `  ${r.mode.padEnd(7)} client CPU ${r.cpuMs.toFixed(3)} ms/exchange, wall ${r.wallMs.toFixed(3)} ms/exchange\n`,
    )
}
