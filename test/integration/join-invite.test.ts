/**
 * Several machines joining one organisation through the real CLI and daemons (separate
 * processes and homes, loopback TCP, mDNS off): `meshcc org invite` on the first node, `meshcc
 * join --invite` on the others, members seeing each other in `meshcc peers --json`, the
 * invitation's use limit and expiry enforced by the inviting node, `meshcc org revoke` cutting
 * a member off everywhere, and a member restarting and rejoining. Needs the build.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import { type JoinedNode, joinedNode, LOOPBACK, sees } from '../helpers/joined-node.ts'
import {
  daemonPid,
  isAlive,
  makeHome,
  meshccBin,
  repoRoot,
  runCommand,
} from '../helpers/meshcc-home.ts'

describe('joining with an invitation', () => {
  let a: JoinedNode
  let b: JoinedNode
  let c: JoinedNode
  let token: string
  const others: Array<{ cleanup(): Promise<void> }> = []
  before(async () => {
    assert.ok(existsSync(join(repoRoot, 'dist', 'daemon', 'main.js')), 'run `npm run build` first')
    a = await joinedNode()
  })
  after(async () => {
    await Promise.all([a, b, c].filter(Boolean).map((n) => n.h.cleanup()))
    await Promise.all(others.map((h) => h.cleanup()))
  })

  /** Runs `meshcc join --invite` on a fresh home that is expected to be refused. */
  const refusedJoin = async (t: string) => {
    const h = await makeHome('meshcc-jr-')
    others.push(h)
    const r = await runCommand(meshccBin, ['join', ...LOOPBACK, '--json', '--invite', t], {
      cwd: h.dir,
      env: h.env,
    })
    return { r, h, error: r.code === 0 ? undefined : JSON.parse(r.stdout.toString()) }
  }

  it('the invitation carries the running node as inviter', async () => {
    const r = await a.cli(['org', 'invite', '--uses', '2', '--json'])
    assert.equal(r.code, 0, r.stderr.toString())
    const inv = JSON.parse(r.stdout.toString())
    assert.equal(inv.inviter, a.peerId)
    assert.ok(
      inv.addrs.some((x: string) => a.join.addrs.includes(x)),
      JSON.stringify(inv.addrs),
    )
    token = inv.token
  })

  it('two machines join with it and every member lists the others within seconds', async () => {
    b = await joinedNode({ invite: token })
    c = await joinedNode({ invite: token })
    for (const n of [b, c]) {
      assert.equal(n.join.created, 'invitation')
      assert.equal(n.org, a.org)
    }
    const t0 = Date.now()
    for (const [n, want] of [
      [a, [b, c]],
      [b, [a, c]],
      [c, [a, b]],
    ] as const) {
      const s = await n.waitPeers((x) => want.every((w) => sees(x, w.peerId)))
      for (const w of want) {
        const p = s.peers.find((q) => q.peerId === w.peerId)!
        assert.equal(p.org, a.org)
        assert.equal(p.platform, process.platform)
        assert.ok(typeof p.cores === 'number' && p.cores > 0)
        assert.ok(typeof p.freeSlots === 'number' && p.freeSlots >= 0)
      }
    }
    assert.ok(Date.now() - t0 < 20_000)
    // The invited members' certificates carry the invitation's roles, not admin.
    const s = await a.peers()
    for (const w of [b, c]) {
      const p = s.peers.find((q) => q.peerId === w.peerId)!
      assert.deepEqual([...p.roles].sort(), ['builder', 'client'])
    }
  })

  it('a third use of the two-use invitation is refused, and the joiner stays out', async () => {
    const { error, h } = await refusedJoin(token)
    assert.equal(error?.code, 'ERR_MESHCC_ENROLLMENT')
    assert.match(error.message, /already been used/)
    assert.equal(existsSync(join(h.home, 'identity', 'node.cert')), false)
    assert.equal(existsSync(join(h.home, 'mesh.toml')), false)
    assert.equal(await daemonPid(h.home), undefined)
  })

  it('an expired invitation is refused by the inviting node', async () => {
    const short = await a.invite(['--ttl', '1s'])
    await sleep(2_100)
    const { error } = await refusedJoin(short)
    assert.equal(error?.code, 'ERR_MESHCC_ENROLLMENT')
    assert.match(error.message, /expired/)
  })

  it('a token whose secret was damaged is refused by the inviting node', async () => {
    const { error } = await refusedJoin(`${token.slice(0, -4)}AAAA`)
    assert.ok(error !== undefined)
    assert.match(error.code, /ERR_MESHCC_(ENROLLMENT|INVALID_INVITATION)/)
  })

  it('`org revoke` on the admin cuts the revoked member off on the other member', async () => {
    const r = await a.cli(['org', 'revoke', c.peerId])
    assert.equal(r.code, 0, r.stderr.toString())
    await b.waitPeers((x) => !x.peers.some((p) => p.peerId === c.peerId && p.connected), 20_000)
    await a.waitPeers((x) => !x.peers.some((p) => p.peerId === c.peerId && p.connected), 20_000)
    // The revoked node is left alone: nobody admits it any more.
    await c.waitPeers((x) => x.peers.every((p) => !p.connected), 20_000)
    // B got the list through the mesh and keeps it for later starts.
    assert.ok(existsSync(join(b.h.home, 'org', 'crl.bin')))
    // And it stays out (the gater and the list, not just a dropped connection).
    await sleep(3_000)
    const s = await b.peers()
    assert.ok(!s.peers.some((p) => p.peerId === c.peerId && p.connected))
    assert.ok(sees(s, a.peerId), 'B lost A while C was revoked')
  })

  it('a member stopped and restarted by a compile rejoins', async () => {
    const old = await daemonPid(b.h.home)
    const stop = await b.cli(['daemon', 'stop'])
    assert.equal(stop.code, 0, stop.stderr.toString())
    assert.ok(old !== undefined && !isAlive(old))
    await a.waitPeers((x) => !x.peers.some((p) => p.peerId === b.peerId && p.connected), 20_000)
    await writeFile(join(b.h.dir, 'b.c'), 'int b(void) { return 1; }\n')
    const cc = await b.cli(['gcc', '-c', 'b.c', '-o', 'b.o'])
    assert.equal(cc.code, 0, cc.stderr.toString())
    const fresh = await daemonPid(b.h.home)
    assert.ok(fresh !== undefined && fresh !== old)
    await a.waitPeers((x) => sees(x, b.peerId))
    await b.waitPeers((x) => sees(x, a.peerId))
  })
})
