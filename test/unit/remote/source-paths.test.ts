/**
 * Which shipped source paths a builder may place (`source-paths.ts`), and the codec's refusal of
 * malformed or oversized `sources` (hostile paths, sizes that do not add up, too many files).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { JobCodecError } from '../../../src/errors.ts'
import {
  decodeRequest,
  encodeRequest,
  JOB_MESSAGE_VERSION,
  type JobRequest,
  MSG_REQUEST,
} from '../../../src/remote/job-codec.ts'
import { packBlob } from '../../../src/remote/job-compress.ts'
import { JOB_LIMITS } from '../../../src/remote/job-limits.ts'
import { sourcePathProblem } from '../../../src/remote/source-paths.ts'

const JOB = {
  cwd: '/home/a/proj/build',
  inputPath: '/home/a/proj/src/m.c',
  outputs: [{ path: '/home/a/proj/build/m.o' }],
}

describe('sourcePathProblem', () => {
  it('accepts the main file, headers beside or above the job, and /tmp', () => {
    for (const p of [
      JOB.inputPath,
      '/home/a/proj/include/x.h',
      '/home/a/proj/build/gen/c.h',
      '/tmp/t.h',
      '/opt/sdk/a.h',
    ])
      assert.equal(sourcePathProblem(p, JOB), undefined, p)
  })

  it('refuses hostile and unplaceable paths', () => {
    const hostile = [
      'relative/x.h',
      '../x.h',
      '/home/a/../../etc/shadow',
      '/home/a/./x.h',
      '/home//a/x.h',
      '/home/a/x.h/',
      '/',
      '/home/a/x\0.h',
      '/etc/passwd',
      '/usr/include/stdio.h',
      '/proc/self/environ',
      '/dev/null',
      '/lib/x.h',
      '/home/a/proj/build/m.o',
      '/home/a/proj/build/m.o/x',
      '/home/a/proj/build',
      '/home/a/proj',
      '/home/a/proj/src',
    ]
    for (const p of hostile)
      assert.notEqual(sourcePathProblem(p, JOB), undefined, JSON.stringify(p))
  })

  it("refuses the toolchain's own top-level entries on this builder", () => {
    assert.notEqual(sourcePathProblem('/opt/x.h', JOB, [], new Set(['opt'])), undefined)
  })

  it('refuses a file that is a directory of another shipped file', () => {
    assert.notEqual(sourcePathProblem('/home/a/inc', JOB, ['/home/a/inc/x.h']), undefined)
  })
})

async function request(files: { path: string; size: number }[], data: Buffer): Promise<JobRequest> {
  return {
    v: JOB_MESSAGE_VERSION,
    features: [],
    jobId: 'j1',
    toolchain: 'ab'.repeat(32),
    family: 'gcc',
    language: 'c',
    driver: 'c',
    args: ['-c', '../src/m.c', '-o', 'm.o'],
    cwd: JOB.cwd,
    inputPath: JOB.inputPath,
    input: await packBlob(Buffer.from('int x;\n')),
    outputs: [{ path: '/home/a/proj/build/m.o', role: 'object', optional: false }],
    deadlineMs: 60_000,
    env: {},
    sources: { files, data: await packBlob(data) },
  }
}

interface RawSources {
  files: { path: unknown; size: unknown }[]
  size?: unknown
  clen?: unknown
}
const src = (h: Record<string, unknown>) => h['sources'] as RawSources

/** Re-frames a request with a hand-edited header (what a hostile peer could send). */
function tamper(msg: Uint8Array, edit: (h: Record<string, unknown>) => void): Uint8Array {
  const len = new DataView(msg.buffer, msg.byteOffset).getUint32(1)
  const h = JSON.parse(Buffer.from(msg.subarray(5, 5 + len)).toString('utf8'))
  edit(h)
  const json = Buffer.from(JSON.stringify(h))
  const out = Buffer.alloc(5 + json.length + msg.byteLength - 5 - len)
  out[0] = MSG_REQUEST
  out.writeUInt32BE(json.length, 1)
  json.copy(out, 5)
  Buffer.from(msg.subarray(5 + len)).copy(out, 5 + json.length)
  return out
}

describe('job codec: sources', () => {
  it('round-trips the main source and headers', async () => {
    const r = await request(
      [
        { path: JOB.inputPath, size: 4 },
        { path: '/home/a/proj/include/x.h', size: 3 },
      ],
      Buffer.from('mainhhh'),
    )
    const back = decodeRequest(encodeRequest(r))
    assert.deepEqual(back.sources?.files, r.sources?.files)
    assert.equal(back.sources?.data.size, 7)
    assert.equal(decodeRequest(encodeRequest({ ...r, sources: undefined })).sources, undefined)
  })

  it('refuses hostile paths, bad sizes, duplicates and too many files', async () => {
    const good = encodeRequest(
      await request([{ path: '/home/a/proj/include/x.h', size: 3 }], Buffer.from('abc')),
    )
    const bad: [string, (h: Record<string, unknown>) => void][] = [
      ['dotdot', (h) => (src(h).files[0]!.path = '/home/a/../../etc/shadow')],
      ['relative', (h) => (src(h).files[0]!.path = 'x.h')],
      ['reserved', (h) => (src(h).files[0]!.path = '/etc/shadow')],
      ['proc', (h) => (src(h).files[0]!.path = '/proc/1/root')],
      ['nul', (h) => (src(h).files[0]!.path = '/home/a/x\0')],
      ['output', (h) => (src(h).files[0]!.path = '/home/a/proj/build/m.o')],
      ['size mismatch', (h) => (src(h).files[0]!.size = 4)],
      ['negative size', (h) => (src(h).files[0]!.size = -1)],
      ['blob oversized', (h) => (src(h).size = JOB_LIMITS.maxSourcesBytes + 1)],
      ['blob past end', (h) => (src(h).clen = 10_000)],
      ['no files', (h) => (src(h).files = [])],
      ['not an object', (h) => (h['sources'] = 'x')],
      [
        'duplicate',
        (h) => {
          const s = src(h)
          s.files = [
            { path: '/home/a/x.h', size: 1 },
            { path: '/home/a/x.h', size: 2 },
          ]
        },
      ],
      [
        'too many',
        (h) => {
          const s = src(h)
          s.files = Array.from({ length: JOB_LIMITS.maxSourceFiles + 1 }, (_, i) => ({
            path: `/home/a/f${i}.h`,
            size: i === 0 ? 3 : 0,
          }))
        },
      ],
    ]
    assert.ok(decodeRequest(good).sources)
    for (const [what, edit] of bad)
      assert.throws(() => decodeRequest(tamper(good, edit)), JobCodecError, what)
  })

  it('refuses to encode sources over the limit', async () => {
    const r = await request([{ path: '/home/a/x.h', size: 3 }], Buffer.from('abc'))
    const files = Array.from({ length: JOB_LIMITS.maxSourceFiles + 1 }, (_, i) => ({
      path: `/home/a/f${i}.h`,
      size: i === 0 ? 3 : 0,
    }))
    assert.throws(
      () => encodeRequest({ ...r, sources: { files, data: r.sources!.data } }),
      JobCodecError,
    )
  })
})
