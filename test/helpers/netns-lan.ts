/**
 * A small LAN of Linux network namespaces for end-to-end tests: a bridge with no address, one
 * namespace per host with a veth `eth0` on it (`10.<x>.<y>.<i+1>/24`), loopback up, a route for
 * multicast and no default route, so no test traffic can leave the hosts the test made.
 * `destroy()` deletes everything it made (call it in `after`, on every path).
 *
 * @example
 * ```ts
 * const lan = netnsAvailable() === undefined ? makeLan(3) : undefined
 * spawn(...lan.exec(0), 'meshcc', 'join', '--listen', `/ip4/${lan.addr(0)}/tcp/0`)
 * after(() => lan?.destroy())
 * ```
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'

export interface Lan {
  /** Namespace names, by host index. */
  readonly namespaces: readonly string[]
  /** IPv4 address of host `i`. */
  addr(i: number): string
  /** Command prefix that runs a program on host `i`. */
  exec(i: number): string[]
  destroy(): void
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

/** Why namespaces cannot be made here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux'
  if (process.getuid?.() !== 0) return 'network namespaces need root'
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' })
  } catch {
    return 'no iproute2'
  }
  return undefined
}

export function makeLan(hosts: number): Lan {
  const tag = randomBytes(2).toString('hex')
  const bridge = `mclbr${tag}`
  const subnet = `10.${200 + (Number.parseInt(tag.slice(0, 2), 16) % 50)}.${Number.parseInt(tag.slice(2), 16)}`
  const namespaces = Array.from({ length: hosts }, (_, i) => `mcl-${tag}-${i}`)
  const veths = namespaces.map((_, i) => `mcl${tag}h${i}`)
  const lan: Lan = {
    namespaces,
    addr: (i) => `${subnet}.${i + 1}`,
    exec: (i) => ['ip', 'netns', 'exec', namespaces[i] as string],
    destroy: () => {
      for (const ns of namespaces) {
        try {
          ip('netns', 'del', ns)
        } catch {}
      }
      for (const v of veths) {
        try {
          ip('link', 'del', v)
        } catch {}
      }
      try {
        ip('link', 'del', bridge)
      } catch {}
    },
  }
  try {
    ip('link', 'add', bridge, 'type', 'bridge')
    ip('link', 'set', bridge, 'up')
    for (const [i, ns] of namespaces.entries()) {
      const veth = veths[i] as string
      ip('netns', 'add', ns)
      ip('link', 'add', veth, 'type', 'veth', 'peer', 'name', `${veth}p`)
      ip('link', 'set', veth, 'master', bridge)
      ip('link', 'set', veth, 'up')
      ip('link', 'set', `${veth}p`, 'netns', ns)
      ip('-n', ns, 'link', 'set', `${veth}p`, 'name', 'eth0')
      ip('-n', ns, 'addr', 'add', `${lan.addr(i)}/24`, 'dev', 'eth0')
      ip('-n', ns, 'link', 'set', 'eth0', 'up')
      ip('-n', ns, 'link', 'set', 'lo', 'up')
      ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0')
    }
  } catch (err) {
    lan.destroy()
    throw err
  }
  return lan
}
