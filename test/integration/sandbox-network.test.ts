/**
 * Sandbox, network: no IP sockets at all (seccomp answers EAFNOSUPPORT, as a kernel without IP
 * would), so a listener on the host's 127.0.0.1 is never reached; the host's abstract unix
 * sockets live in the host's network namespace and are unreachable; the host's path sockets are
 * invisible. Each case has a host-side control proving the listener is really there.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { connect, createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { isLinux, type ProbeFixture, probeFixture, runProbe } from './sandbox-fixture.ts'

async function listen(server: Server, where: number | string): Promise<void> {
  if (typeof where === 'number') server.listen(where, '127.0.0.1')
  else server.listen(where)
  await once(server, 'listening')
}

async function hostCanConnect(opts: { port: number; host: string } | { path: string }) {
  const s = connect(opts as never)
  await once(s, 'connect')
  s.destroy()
}

describe('sandbox: no network', { skip: !isLinux && 'sandbox is Linux-only' }, () => {
  let f: ProbeFixture
  let dir: string
  const servers: Server[] = []
  let accepted = 0
  const server = () => {
    const s = createServer((c) => {
      accepted++
      c.destroy()
    })
    servers.push(s)
    return s
  }
  before(async () => {
    f = await probeFixture()
    dir = await mkdtemp(join(tmpdir(), 'meshcc-sbx-net-'))
  })
  after(async () => {
    for (const s of servers) s.close()
    await rm(dir, { recursive: true, force: true })
    await f.cleanup()
  })

  it('cannot open IPv4, IPv6 or netlink sockets', async () => {
    for (const kind of ['inet', 'inet6', 'netlink']) {
      const r = await runProbe(f, [kind])
      assert.equal(r.exitCode, 1, kind)
      assert.deepEqual(r.lines, ['fail socket EAFNOSUPPORT'], kind)
    }
  })

  it("cannot reach a listener on the host's 127.0.0.1", async () => {
    const s = server()
    await listen(s, 0)
    const port = (s.address() as { port: number }).port
    await hostCanConnect({ port, host: '127.0.0.1' }) // control
    const before = accepted
    const r = await runProbe(f, ['tcp', '127.0.0.1', String(port)])
    assert.equal(r.exitCode, 1)
    assert.match(r.lines.at(-1) ?? '', /^fail (socket|connect) /)
    await new Promise((res) => setTimeout(res, 50))
    assert.equal(accepted, before, 'no connection reached the host listener')
  })

  it('cannot reach a host abstract unix socket', async () => {
    const name = `meshcc-test-${process.pid}-${Math.random().toString(36).slice(2)}`
    const s = server()
    await listen(s, `\0${name}`)
    await hostCanConnect({ path: `\0${name}` }) // control
    const before = accepted
    const r = await runProbe(f, ['abstract', name])
    assert.equal(r.exitCode, 1)
    assert.match(r.lines.at(-1) ?? '', /^fail connect (ECONNREFUSED|EPERM|ENOENT)$/)
    await new Promise((res) => setTimeout(res, 50))
    assert.equal(accepted, before)
  })

  it('cannot see a host unix socket file that is not mounted in', async () => {
    const path = join(dir, 'host.sock')
    const s = server()
    await listen(s, path)
    await hostCanConnect({ path }) // control
    const r = await runProbe(f, ['unix', path])
    assert.equal(r.exitCode, 1)
    assert.equal(r.lines.at(-1), 'fail connect ENOENT')
  })
})
