/**
 * The job codec: requests and responses survive a round trip byte for byte, and every malformed,
 * oversized or out-of-range field is refused with JobCodecError (never a crash, never accepted).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { JobCodecError } from '../../../src/errors.ts'
import {
  decodeHead,
  decodeInput,
  decodeRequest,
  decodeResponse,
  emptyResponse,
  encodeHead,
  encodeInput,
  encodeKeepalive,
  encodeRequest,
  encodeResponse,
  JOB_MESSAGE_VERSION,
  type JobRequest,
  type JobResponse,
  MSG_HEAD,
  MSG_INPUT,
  MSG_KEEPALIVE,
  MSG_REQUEST,
  MSG_RESPONSE,
  messageType,
} from '../../../src/remote/job-codec.ts'
import { packBlob, SYNC_BYTES, unpackBlob } from '../../../src/remote/job-compress.ts'
import { JOB_LIMITS } from '../../../src/remote/job-limits.ts'

const TC = 'ab'.repeat(32)

async function request(over: Partial<JobRequest> = {}): Promise<JobRequest> {
  return {
    v: JOB_MESSAGE_VERSION,
    features: ['x-test'],
    jobId: 'job-1',
    toolchain: TC,
    family: 'gcc',
    language: 'c',
    driver: 'c',
    args: ['-g', '-O2', '-c', 'src/a.c', '-o', 'a.o', 'with space', 'ünïcode'],
    cwd: '/home/alice/proj',
    inputPath: '/home/alice/proj/src/a.c',
    input: await packBlob(Buffer.from('int main(void) { return 0; }\n'.repeat(100))),
    outputs: [
      { path: '/home/alice/proj/a.o', role: 'object', optional: false },
      { path: '/home/alice/proj/a.dwo', role: 'split-dwarf', optional: true },
    ],
    deadlineMs: 60_000,
    env: { LANG: 'C', SOURCE_DATE_EPOCH: '0' },
    ...over,
  }
}

async function response(over: Partial<JobResponse> = {}): Promise<JobResponse> {
  return {
    ...emptyResponse('job-1', 'compiled', ''),
    exitCode: 0,
    stdout: await packBlob(Buffer.from('')),
    stderr: await packBlob(Buffer.from('a.c:1:1: warning: x\n')),
    outputs: [
      { path: '/home/alice/proj/a.o', file: await packBlob(Buffer.alloc(5000, 7)) },
      { path: '/home/alice/proj/a.dwo', file: undefined },
    ],
    cpuMs: 12,
    wallMs: 34,
    ...over,
  }
}

/** A frame with an arbitrary header and trailing bytes (what a hostile peer can send). */
function raw(type: number, header: unknown, tail: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header))
  const out = Buffer.alloc(5 + json.length + tail.length)
  out[0] = type
  out.writeUInt32BE(json.length, 1)
  json.copy(out, 5)
  Buffer.from(tail).copy(out, 5 + json.length)
  return out
}

/** The request's header as JSON, to mutate one field at a time. */
function requestHeader(r: JobRequest): Record<string, unknown> {
  const { input, ...rest } = r
  return { ...rest, input: { size: input.size, clen: input.data.byteLength } }
}

describe('job codec: round trips', () => {
  it('a request decodes to what was encoded, blobs included', async () => {
    const r = await request()
    const back = decodeRequest(encodeRequest(r))
    assert.deepEqual({ ...back, input: undefined }, { ...r, input: undefined })
    assert.equal(back.input.size, r.input.size)
    assert.deepEqual(Buffer.from(back.input.data), Buffer.from(r.input.data))
    const text = await unpackBlob(back.input, 'input')
    assert.equal(text.toString(), 'int main(void) { return 0; }\n'.repeat(100))
  })

  it('a response decodes to what was encoded, absent outputs included', async () => {
    const r = await response()
    const back = decodeResponse(encodeResponse(r))
    assert.equal(back.status, 'compiled')
    assert.equal(back.exitCode, 0)
    assert.equal((await unpackBlob(back.stderr, 'stderr')).toString(), 'a.c:1:1: warning: x\n')
    assert.equal(back.outputs.length, 2)
    assert.deepEqual(await unpackBlob(back.outputs[0]!.file!, 'o'), Buffer.alloc(5000, 7))
    assert.equal(back.outputs[1]!.file, undefined)
    assert.equal(back.cpuMs, 12)
  })

  it('busy and failure responses, a killed compiler, keepalives', async () => {
    for (const status of [
      'busy',
      'refused',
      'toolchain-missing',
      'bad-request',
      'deadline',
      'failed',
    ] as const) {
      const back = decodeResponse(encodeResponse(emptyResponse('-', status, `why ${status}`)))
      assert.equal(back.status, status)
      assert.equal(back.detail, `why ${status}`)
    }
    const killed = decodeResponse(
      encodeResponse(await response({ exitCode: null, signal: 'SIGSEGV', outputs: [] })),
    )
    assert.equal(killed.signal, 'SIGSEGV')
    assert.equal(messageType(encodeKeepalive()), MSG_KEEPALIVE)
  })

  it('ignores unknown header fields (newer peers may add optional ones)', async () => {
    const r = await request()
    const msg = raw(MSG_REQUEST, { ...requestHeader(r), futureField: { a: 1 } }, r.input.data)
    assert.equal(decodeRequest(msg).jobId, 'job-1')
  })
})

describe('job codec: a head, then its input', () => {
  it('head and input together are the request', async () => {
    const r = await request({
      sources: {
        files: [{ path: '/home/alice/proj/src/a.c', size: 4 }],
        data: await packBlob(Buffer.from('a.c\n')),
      },
    })
    const head = encodeHead(r)
    assert.equal(messageType(head), MSG_HEAD)
    const h = decodeHead(head)
    assert.equal(h.input.size, 0)
    assert.deepEqual(
      { ...h, input: undefined },
      { ...decodeRequest(encodeRequest(r)), input: undefined },
    )
    const input = decodeInput(encodeInput(r.jobId, r.input))
    assert.equal(input.jobId, r.jobId)
    assert.equal(
      (await unpackBlob(input.input, 'input')).toString(),
      'int main(void) { return 0; }\n'.repeat(100),
    )
  })

  it('a head with an input, or an input frame that is malformed, is refused', async () => {
    const r = await request()
    const withInput = raw(MSG_HEAD, requestHeader(r), r.input.data)
    assert.throws(() => decodeHead(withInput), JobCodecError)
    // A head is not a request, nor a request a head.
    assert.throws(() => decodeRequest(encodeHead(r)), JobCodecError)
    assert.throws(() => decodeHead(encodeRequest(r)), JobCodecError)
    const good = {
      v: JOB_MESSAGE_VERSION,
      jobId: 'job-1',
      input: { size: r.input.size, clen: r.input.data.byteLength },
    }
    for (const [name, header, tail] of [
      ['no job id', { ...good, jobId: undefined }, r.input.data],
      ['a bad job id', { ...good, jobId: '../x' }, r.input.data],
      ['an unknown version', { ...good, v: 99 }, r.input.data],
      ['a blob past the end', good, r.input.data.subarray(1)],
      ['stray bytes', good, Buffer.concat([r.input.data, Buffer.from('x')])],
      [
        'an oversized input',
        { ...good, input: { size: JOB_LIMITS.maxInputBytes + 1, clen: 1 } },
        Buffer.from('x'),
      ],
    ] as const) {
      assert.throws(() => decodeInput(raw(MSG_INPUT, header, tail)), JobCodecError, name)
    }
    assert.throws(
      () => encodeInput('job-1', { size: JOB_LIMITS.maxInputBytes + 1, data: new Uint8Array(1) }),
      JobCodecError,
    )
  })
})

describe('job codec: malformed requests are refused', () => {
  const cases: Array<[string, (h: Record<string, unknown>) => void]> = [
    ['unknown version', (h) => (h['v'] = JOB_MESSAGE_VERSION + 1)],
    ['missing version', (h) => delete h['v']],
    ['toolchain not hex', (h) => (h['toolchain'] = 'x'.repeat(64))],
    ['toolchain short', (h) => (h['toolchain'] = 'ab')],
    ['unknown family', (h) => (h['family'] = 'msvc')],
    ['unknown language', (h) => (h['language'] = 'fortran')],
    ['unknown driver', (h) => (h['driver'] = 'rust')],
    ['args not an array', (h) => (h['args'] = '-c a.c')],
    ['arg not a string', (h) => (h['args'] = ['-c', 3])],
    ['arg with NUL', (h) => (h['args'] = ['-c', 'a\0.c'])],
    ['too many args', (h) => (h['args'] = Array(JOB_LIMITS.maxArgs + 1).fill('-w'))],
    ['an over-long arg', (h) => (h['args'] = ['x'.repeat(JOB_LIMITS.maxArgBytes + 1)])],
    ['args over the total', (h) => (h['args'] = Array(8).fill('y'.repeat(JOB_LIMITS.maxArgBytes)))],
    ['relative cwd', (h) => (h['cwd'] = 'home/alice')],
    ['cwd with ..', (h) => (h['cwd'] = '/home/alice/../bob')],
    ['cwd with .', (h) => (h['cwd'] = '/home/./alice')],
    ['cwd with //', (h) => (h['cwd'] = '/home//alice')],
    ['cwd is /', (h) => (h['cwd'] = '/')],
    ['cwd too long', (h) => (h['cwd'] = `/${'a'.repeat(JOB_LIMITS.maxPathBytes)}`)],
    ['input path relative', (h) => (h['inputPath'] = 'src/a.c')],
    ['no outputs', (h) => (h['outputs'] = [])],
    [
      'too many outputs',
      (h) =>
        (h['outputs'] = Array.from({ length: 9 }, (_, i) => ({
          path: `/o/${i}`,
          role: 'object',
          optional: false,
        }))),
    ],
    [
      'output role unknown',
      (h) => (h['outputs'] = [{ path: '/o/a.o', role: 'shell', optional: false }]),
    ],
    [
      'output path with ..',
      (h) => (h['outputs'] = [{ path: '/o/../etc/x', role: 'object', optional: false }]),
    ],
    [
      'output optional not boolean',
      (h) => (h['outputs'] = [{ path: '/o/a.o', role: 'object', optional: 'no' }]),
    ],
    [
      'output written over the input',
      (h) => (h['outputs'] = [{ path: h['inputPath'], role: 'object', optional: false }]),
    ],
    ['deadline too short', (h) => (h['deadlineMs'] = 10)],
    ['deadline too long', (h) => (h['deadlineMs'] = JOB_LIMITS.maxDeadlineMs + 1)],
    ['deadline fractional', (h) => (h['deadlineMs'] = 5000.5)],
    ['env bad name', (h) => (h['env'] = { 'LD_PRELOAD=x': '1' })],
    ['env lowercase name', (h) => (h['env'] = { path: '/bin' })],
    ['env value not a string', (h) => (h['env'] = { LANG: 1 })],
    [
      'env too many',
      (h) => (h['env'] = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`V${i}`, 'x']))),
    ],
    ['jobId with slash', (h) => (h['jobId'] = '../x')],
    ['jobId too long', (h) => (h['jobId'] = 'j'.repeat(65))],
    ['features not an array', (h) => (h['features'] = 'all')],
    [
      'input size over the limit',
      (h) =>
        (h['input'] = {
          size: JOB_LIMITS.maxInputBytes + 1,
          clen: (h['input'] as { clen: number }).clen,
        }),
    ],
    ['input blob longer than sent', (h) => (h['input'] = { size: 10, clen: 1e6 })],
    [
      'input size negative',
      (h) => (h['input'] = { size: -1, clen: (h['input'] as { clen: number }).clen }),
    ],
  ]
  for (const [name, mutate] of cases) {
    it(name, async () => {
      const r = await request()
      const h = requestHeader(r)
      mutate(h)
      assert.throws(() => decodeRequest(raw(MSG_REQUEST, h, r.input.data)), JobCodecError)
    })
  }

  it('stray bytes after the blobs', async () => {
    const r = await request()
    const tail = Buffer.concat([Buffer.from(r.input.data), Buffer.from([1, 2, 3])])
    assert.throws(() => decodeRequest(raw(MSG_REQUEST, requestHeader(r), tail)), JobCodecError)
  })

  it('framing: wrong type, empty, truncated, bad header length, not JSON, not an object', async () => {
    const r = await request()
    const good = encodeRequest(r)
    assert.throws(
      () => decodeRequest(raw(MSG_RESPONSE, requestHeader(r), r.input.data)),
      JobCodecError,
    )
    assert.throws(() => decodeRequest(new Uint8Array(0)), JobCodecError)
    assert.throws(() => decodeRequest(good.subarray(0, 3)), JobCodecError)
    assert.throws(() => decodeRequest(good.subarray(0, 40)), JobCodecError)
    const lying = Buffer.from(good)
    lying.writeUInt32BE(0xffffffff, 1)
    assert.throws(() => decodeRequest(lying), JobCodecError)
    assert.throws(() => decodeRequest(raw(MSG_REQUEST, '{"v":1,')), JobCodecError)
    assert.throws(() => decodeRequest(raw(MSG_REQUEST, '[1,2]')), JobCodecError)
    assert.throws(
      () => decodeRequest(raw(MSG_REQUEST, Buffer.from([0xff, 0xfe]).toString('latin1'))),
      JobCodecError,
    )
  })

  it('encoding refuses what decoding would refuse', async () => {
    await assert.rejects(async () => encodeRequest(await request({ outputs: [] })), JobCodecError)
    const huge = await request({ args: Array(JOB_LIMITS.maxArgs).fill('z'.repeat(200)) })
    assert.throws(() => encodeRequest(huge), JobCodecError)
  })
})

describe('job codec: malformed responses are refused', () => {
  function header(r: JobResponse): Record<string, unknown> {
    const { stdout, stderr, outputs, ...rest } = r
    return {
      ...rest,
      stdout: { size: stdout.size, clen: stdout.data.byteLength },
      stderr: { size: stderr.size, clen: stderr.data.byteLength },
      outputs: outputs.map((o) =>
        o.file
          ? { path: o.path, size: o.file.size, clen: o.file.data.byteLength }
          : { path: o.path, absent: true },
      ),
    }
  }
  function tail(r: JobResponse): Uint8Array {
    return Buffer.concat([
      r.stdout.data,
      r.stderr.data,
      ...r.outputs.flatMap((o) => (o.file ? [o.file.data] : [])),
    ])
  }
  const cases: Array<[string, (h: Record<string, unknown>) => void]> = [
    ['unknown status', (h) => (h['status'] = 'maybe')],
    [
      'compiled without exit code or signal',
      (h) => {
        h['exitCode'] = null
        h['signal'] = null
      },
    ],
    ['exit code out of range', (h) => (h['exitCode'] = 256)],
    ['exit code negative', (h) => (h['exitCode'] = -1)],
    [
      'stderr over the limit',
      (h) => (h['stderr'] = { size: JOB_LIMITS.maxStreamBytes + 1, clen: 1 }),
    ],
    [
      'output path relative',
      (h) => ((h['outputs'] as Array<Record<string, unknown>>)[0]!['path'] = 'a.o'),
    ],
    [
      'output too large',
      (h) =>
        ((h['outputs'] as Array<Record<string, unknown>>)[0]!['size'] =
          JOB_LIMITS.maxOutputBytes + 1),
    ],
    ['detail too long', (h) => (h['detail'] = 'd'.repeat(JOB_LIMITS.maxDetailBytes + 1))],
    ['jobId missing', (h) => delete h['jobId']],
    ['cpuMs negative', (h) => (h['cpuMs'] = -5)],
  ]
  for (const [name, mutate] of cases) {
    it(name, async () => {
      const r = await response()
      const h = header(r)
      mutate(h)
      assert.throws(() => decodeResponse(raw(MSG_RESPONSE, h, tail(r))), JobCodecError)
    })
  }
  it('the unmodified header decodes (the cases above fail for their own reason)', async () => {
    const r = await response()
    assert.equal(decodeResponse(raw(MSG_RESPONSE, header(r), tail(r))).status, 'compiled')
  })
})

describe('job blobs: zstd with declared sizes', () => {
  // Small blobs are done on the spot, large ones in the threadpool: both ways are checked.
  for (const n of [100_000, SYNC_BYTES + 1, 3 * SYNC_BYTES])
    it(`refuses a blob that inflates beyond, or short of, its declared size (${n} bytes)`, async () => {
      const data = Buffer.alloc(n)
      for (let i = 0; i < n; i++) data[i] = (i * 7919) % 251 // compressible, not trivially
      const b = await packBlob(data)
      assert.ok(b.data.byteLength < n)
      assert.ok((await unpackBlob(b, 'x')).equals(data))
      await assert.rejects(unpackBlob({ size: 1000, data: b.data }, 'x'), JobCodecError)
      await assert.rejects(unpackBlob({ size: n - 1, data: b.data }, 'x'), JobCodecError)
      await assert.rejects(unpackBlob({ size: 2 * n, data: b.data }, 'x'), JobCodecError)
      await assert.rejects(
        unpackBlob({ size: n, data: Buffer.from('not zstd') }, 'x'),
        JobCodecError,
      )
      const flipped = Buffer.from(b.data)
      flipped[flipped.length - 1]! ^= 0xff // the content checksum
      await assert.rejects(unpackBlob({ size: b.size, data: flipped }, 'x'), JobCodecError)
    })
})
