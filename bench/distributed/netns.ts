/**
 * The benchmark's own little network: one client and two builders, each alone in a Linux network
 * namespace, joined by a bridge through veth pairs. The bridge has no address and the namespaces
 * no default route, so nothing a tool sends can leave these three hosts (icecream's daemons
 * broadcast on every interface they see: here they see only `eth0` of their namespace).
 *
 * This kernel has no `netem`; every veth end gets a `tbf` qdisc instead (a 1 Gbit/s link, like a
 * wired office LAN), which shapes bandwidth and adds no fixed latency.
 *
 * Everything made here is recorded as it is made, so `destroy()` removes exactly that, on every
 * exit path, even after a half-finished `create`.
 */
import { randomBytes } from 'node:crypto'
import { run } from '../lib/proc.ts'

export interface Host {
  /** Short role name: `client`, `b1`, `b2`. */
  name: string
  /** Network namespace name. */
  ns: string
  ip: string
  /** Words that run a command inside the namespace. */
  exec: readonly string[]
}

export interface Farm {
  tag: string
  subnet: string
  client: Host
  builders: readonly Host[]
  /** e.g. `rate 1gbit`, or `none`. */
  shaping: string
  destroy(): Promise<void>
}

export interface FarmOptions {
  /** tbf rate on every link (e.g. `1gbit`); undefined: no shaping. */
  rate?: string
  signal?: AbortSignal
}

async function ip(args: string[], signal?: AbortSignal): Promise<void> {
  await run('ip', args, signal ? { signal } : {})
}

/** Makes the namespaces; on failure removes what it made and rethrows. Needs root. */
export async function createFarm({ rate, signal }: FarmOptions = {}): Promise<Farm> {
  if (process.getuid?.() !== 0) throw new Error('the distributed benchmark needs root (ip netns)')
  const tag = randomBytes(2).toString('hex')
  const subnet = `10.215.${Number.parseInt(tag.slice(0, 2), 16)}`
  const bridge = `mdbr${tag}`
  const made = { bridge: false, ns: [] as string[], veth: [] as string[] }
  const destroy = async () => {
    for (const ns of made.ns) await run('ip', ['netns', 'del', ns], { allowFailure: true })
    for (const v of made.veth) await run('ip', ['link', 'del', v], { allowFailure: true })
    if (made.bridge) await run('ip', ['link', 'del', bridge], { allowFailure: true })
    made.ns = []
    made.veth = []
    made.bridge = false
  }
  try {
    await ip(['link', 'add', bridge, 'type', 'bridge'], signal)
    made.bridge = true
    await ip(['link', 'set', bridge, 'up'], signal)
    const hosts: Host[] = []
    for (const [i, name] of ['client', 'b1', 'b2'].entries()) {
      const ns = `mdist-${tag}-${name}`
      const veth = `md${tag}${name}`.slice(0, 15)
      const addr = `${subnet}.${i + 1}`
      await ip(['netns', 'add', ns], signal)
      made.ns.push(ns)
      await ip(['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns], signal)
      made.veth.push(veth)
      await ip(['link', 'set', veth, 'master', bridge], signal)
      await ip(['link', 'set', veth, 'up'], signal)
      await ip(['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0'], signal)
      await ip(['-n', ns, 'link', 'set', 'eth0', 'up'], signal)
      await ip(['-n', ns, 'link', 'set', 'lo', 'up'], signal)
      // Multicast (mDNS, icecream's broadcasts) needs a route; there is no default route.
      await ip(['-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0'], signal)
      if (rate) {
        // Both directions: the namespace's end and the bridge's end of the pair.
        const shape = ['root', 'tbf', 'rate', rate, 'burst', '256kb', 'latency', '20ms']
        const sig = signal ? { signal } : {}
        await run('tc', ['-n', ns, 'qdisc', 'add', 'dev', 'eth0', ...shape], sig)
        await run('tc', ['qdisc', 'add', 'dev', veth, ...shape], sig)
      }
      hosts.push({ name, ns, ip: addr, exec: ['ip', 'netns', 'exec', ns] })
    }
    const [client, ...builders] = hosts as [Host, Host, Host]
    return {
      tag,
      subnet,
      client,
      builders,
      shaping: rate ? `tbf rate ${rate} on every link, no added latency` : 'none',
      destroy,
    }
  } catch (err) {
    await destroy()
    throw err
  }
}
