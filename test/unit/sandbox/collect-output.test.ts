/**
 * Reading a job's outputs refuses what a hostile job could plant: a symlink to a host file (as
 * the output or as a directory on the way), `..` and absolute paths, FIFOs, directories and
 * files over the cap. A plain file is read whole.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { readJobOutput } from '../../../src/sandbox/collect-output.ts'

describe('reading job outputs', () => {
  let job: string
  let secret: string
  before(async () => {
    const base = await mkdtemp(join(tmpdir(), 'meshcc-out-'))
    secret = join(base, 'secret')
    await writeFile(secret, 'host secret')
    job = join(base, 'job')
    await mkdir(join(job, 'obj'), { recursive: true })
    await writeFile(join(job, 'obj', 'a.o'), 'object bytes')
    await writeFile(join(job, 'big.o'), Buffer.alloc(4096))
    await symlink(secret, join(job, 'link.o'))
    await symlink(join(base), join(job, 'up'))
    execFileSync('mkfifo', [join(job, 'fifo.o')])
  })
  after(() => rm(join(job, '..'), { recursive: true, force: true }))

  it('reads a regular file', async () => {
    const b = await readJobOutput(job, 'obj/a.o', { maxBytes: 1024 })
    assert.equal(b.toString(), 'object bytes')
  })

  it('refuses links, escapes, special files and oversized files', async () => {
    for (const rel of [
      'link.o',
      'up/secret',
      '../secret',
      '/etc/passwd',
      'obj/../obj/a.o',
      'fifo.o',
      'obj',
      'big.o',
      'missing.o',
      '',
    ]) {
      await assert.rejects(
        readJobOutput(job, rel, { maxBytes: 1024 }),
        { code: 'ERR_MESHCC_UNSAFE_JOB_OUTPUT' },
        rel,
      )
    }
  })
})
