/**
 * mDNS discovery between Linux network namespaces on a bridge this test makes: three nodes,
 * each alone in its namespace, with no bootstrap address, find each other by multicast DNS
 * (`_meshcc._udp.local`), dial, admit each other by certificate and exchange adverts.
 *
 * Needs root and iproute2; skipped otherwise. The bridge has no address and the namespaces no
 * default route, so no test traffic can leave the hosts the test made; everything is deleted in
 * `after`, and only the processes the test started are killed (by pid).
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { testOrg, waitFor } from '../helpers/mesh.ts'
import { MeshProcess, prepareHome, removeHome } from '../helpers/mesh-process.ts'

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

function canMakeNamespaces(): string | undefined {
  if (process.getuid?.() !== 0) return 'SKIPPED: needs root'
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' })
  } catch {
    return 'SKIPPED: no iproute2'
  }
  return undefined
}

const skip = canMakeNamespaces()

describe('mDNS discovery between network namespaces', { skip }, () => {
  const tag = randomBytes(2).toString('hex')
  const bridge = `mccbr${tag}`
  const subnet = `10.213.${Number.parseInt(tag.slice(0, 2), 16)}`
  const names = ['a', 'b', 'c']
  const namespaces = names.map((n) => `mcc-${tag}-${n}`)
  const hostVeths = names.map((n) => `mcc${tag}${n}`)
  const homes: string[] = []
  const ids: string[] = []
  const procs: MeshProcess[] = []

  before(async () => {
    ip('link', 'add', bridge, 'type', 'bridge')
    ip('link', 'set', bridge, 'up')
    for (const [i, ns] of namespaces.entries()) {
      const veth = hostVeths[i] as string
      ip('netns', 'add', ns)
      ip('link', 'add', veth, 'type', 'veth', 'peer', 'name', `${veth}p`)
      ip('link', 'set', veth, 'master', bridge)
      ip('link', 'set', veth, 'up')
      ip('link', 'set', `${veth}p`, 'netns', ns)
      ip('-n', ns, 'link', 'set', `${veth}p`, 'name', 'eth0')
      ip('-n', ns, 'addr', 'add', `${subnet}.${i + 1}/24`, 'dev', 'eth0')
      ip('-n', ns, 'link', 'set', 'eth0', 'up')
      ip('-n', ns, 'link', 'set', 'lo', 'up')
      // Without a route covering multicast, mDNS sends fail with ENETUNREACH (silently).
      ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0')
    }
    const org = testOrg('lan')
    for (const n of names) {
      const { home, peerId } = await prepareHome(org, `host-${n}`)
      homes.push(home)
      ids.push(peerId)
    }
  })

  after(async () => {
    await Promise.all(procs.map((p) => p.kill('SIGKILL')))
    for (const ns of namespaces) {
      try {
        ip('netns', 'del', ns)
      } catch {}
    }
    for (const veth of hostVeths) {
      try {
        ip('link', 'del', veth)
      } catch {}
    }
    try {
      ip('link', 'del', bridge)
    } catch {}
    await Promise.all(homes.map((h) => removeHome(h)))
  })

  it('nodes find, admit and see each other with no bootstrap address', async () => {
    const t0 = Date.now()
    for (const [i, ns] of namespaces.entries()) {
      const p = new MeshProcess(
        homes[i] as string,
        { MESH_MDNS: '1', MESH_LISTEN: `/ip4/${subnet}.${i + 1}/tcp/0` },
        ['ip', 'netns', 'exec', ns],
      )
      procs.push(p)
      assert.equal((await p.ready()).peerId, ids[i])
    }
    for (const [i, p] of procs.entries()) {
      await waitFor(
        async () => {
          const s = await p.snapshot()
          return s.peers.length === 2 && s.peers.every((x) => x.connected && x.cores !== null)
        },
        { timeoutMs: 30_000, intervalMs: 300, what: `directory in namespace ${namespaces[i]}` },
      )
      const s = await p.snapshot()
      assert.deepEqual(s.peers.map((x) => x.peerId).sort(), ids.filter((_, j) => j !== i).sort())
      for (const row of s.peers) assert.ok(row.addrs.every((x) => x.startsWith(`/ip4/${subnet}.`)))
    }
    console.log(`# 3 namespaces discovered each other by mDNS in ${Date.now() - t0} ms`)
  })
})
