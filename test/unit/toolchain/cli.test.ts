import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { runToolchainCommand } from '../../../src/cli/toolchain-command.ts'
import { parseToolchainMap, toolchainFor } from '../../../src/toolchain/toolchain-config.ts'
import { tar } from './tar-fixture.ts'

const base = mkdtempSync(join(tmpdir(), 'meshcc-tc-cli-'))
after(() => rm(base, { recursive: true, force: true }))
const env = { MESHCC_HOME: join(base, 'home'), PATH: process.env['PATH'] }

async function run(argv: string[], { tty = false } = {}) {
  let stdout = ''
  let stderr = ''
  const code = await runToolchainCommand(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s), isTTY: tty },
    env,
  })
  return { code, stdout, stderr }
}

describe('meshcc toolchain', () => {
  it('lists, adds, shows and removes toolchains', async () => {
    assert.match((await run(['list'])).stdout, /no toolchains/)
    const src = join(base, 'tc')
    await mkdir(join(src, 'usr/bin'), { recursive: true })
    await writeFile(join(src, 'usr/bin/aarch64-linux-gnu-gcc'), '#!/bin/sh\n', { mode: 0o755 })
    await writeFile(join(src, 'usr/bin/big'), Buffer.alloc(6 * 1024 * 1024, 7))
    const added = await run(['add', src, '--host', 'linux-x86_64', '--json'], { tty: true })
    assert.equal(added.code, 0, added.stderr)
    const { id } = JSON.parse(added.stdout) as { id: string }
    assert.match(id, /^[0-9a-f]{64}$/)
    assert.match(added.stderr, /\r.*MiB/, 'progress on a TTY')

    const list = JSON.parse((await run(['list', '--json'])).stdout) as {
      id: string
      targets: string[]
    }[]
    assert.deepEqual(
      list.map((t) => [t.id, t.targets]),
      [[id, ['aarch64-linux-gnu']]],
    )
    assert.match(
      (await run(['list'])).stdout,
      new RegExp(`^ID .*\\n${id.slice(0, 16)}  linux-x86_64  aarch64-linux-gnu`, 'm'),
    )
    const shown = JSON.parse((await run(['show', id.slice(0, 8), '--json'])).stdout) as {
      id: string
      drivers: Record<string, string>
      files: { path: string; chunks?: string[] }[]
    }
    assert.equal(shown.id, id)
    assert.equal(shown.drivers['c'], 'usr/bin/aarch64-linux-gnu-gcc')
    assert.equal(shown.files.find((f) => f.path === 'usr/bin/big')?.chunks?.length, 6)
    assert.match((await run(['show', id])).stdout, /driver: +c = \/usr\/bin\/aarch64-linux-gnu-gcc/)
    const mat = await run(['materialize', id, '--json'])
    assert.equal(JSON.parse(mat.stdout).root, join(env.MESHCC_HOME, 'toolchains', 'trees', id))
    const removed = await run(['remove', id])
    assert.match(removed.stdout, /removed .* \(6\.0 MiB freed\)/)
    assert.match((await run(['list'])).stdout, /no toolchains/)
  })

  it('reports refusals and usage errors with codes and exit status', async () => {
    const evil = join(base, 'evil.tar')
    await writeFile(evil, tar([{ name: '../../etc/cron.d/x', body: 'x' }]))
    const r = await run(['add', evil, '--host', 'linux-x86_64'])
    assert.equal(r.code, 1)
    assert.match(
      r.stderr,
      /^error\[ERR_MESHCC_UNSAFE_ARCHIVE_ENTRY\]: '\.\.\/\.\.\/etc\/cron\.d\/x'/,
    )
    assert.match(r.stderr, /^hint: /m)
    const j = await run(['add', evil, '--host', 'linux-x86_64', '--json'])
    assert.equal(JSON.parse(j.stdout).code, 'ERR_MESHCC_UNSAFE_ARCHIVE_ENTRY')
    assert.equal((await run(['add', evil])).code, 2) // no --host
    assert.equal((await run(['frobnicate'])).code, 2)
    assert.equal((await run(['list', '--bogus'])).code, 2)
    const missing = await run(['show', 'abcdef12'])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /ERR_MESHCC_TOOLCHAIN_NOT_FOUND/)
    assert.match((await run(['add', '--help'])).stdout, /--host PLATFORM/)
    assert.match((await run(['--help'])).stdout, /meshcc toolchain list/)
  })

  it('maps compilers to toolchains from config.toml', () => {
    const id = 'a'.repeat(64)
    const map = parseToolchainMap(
      `cache_size = "1G"\n[toolchains]\n"x86_64-w64-mingw32-gcc" = "${id}"\n`,
    )
    assert.equal(toolchainFor(map, '/usr/bin/x86_64-w64-mingw32-gcc'), id)
    assert.equal(toolchainFor(map, 'gcc'), undefined)
    assert.throws(() => parseToolchainMap('[toolchains]\ngcc = "nope"\n'), /64-digit toolchain id/)
    assert.throws(() => parseToolchainMap('toolchains = 3\n'), /must be a table/)
  })
})
