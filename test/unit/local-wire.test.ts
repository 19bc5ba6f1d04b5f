/**
 * The local wire protocol: round trips, and every malformed input rejected with a typed error
 * (never a crash, never a silently wrong request).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { CompileRequest } from '../../src/compile/types.ts'
import { FrameTooLargeError, ProtocolError } from '../../src/errors.ts'
import {
  decodeCompileBody,
  decodeCompileReply,
  decodeControlBody,
  decodeRequestHeader,
  encodeCompileReply,
  encodeCompileRequest,
  encodeControl,
  FRAME_EXIT,
  FRAME_KEEPALIVE,
  FRAME_STDERR,
  FRAME_STDOUT,
  KEEPALIVE_FRAME,
  keepaliveIntervalMs,
  MAX_ARGS,
  MAX_COMPILE_BODY,
  MAX_KEEPALIVE_INTERVAL_MS,
  MAX_OUTPUT_FRAME,
  REQUEST_HEADER_BYTES,
} from '../../src/protocol/local-wire.ts'

const sample: CompileRequest = {
  cwd: '/home/u/proj/büild',
  compiler: '/usr/bin/gcc',
  args: ['-c', 'a.c', '-o', 'a.o', '', '-DX="a b"', 'ünïcødé-✓'],
  env: { PATH: '/usr/bin:/bin', EMPTY: '', WITH_EQ: 'a=b=c', LANG: 'C.UTF-8' },
  stdoutIsTty: false,
  stderrIsTty: true,
  umask: 0o022,
  pid: 4242,
}

function body(buf: Buffer): Buffer {
  return buf.subarray(REQUEST_HEADER_BYTES)
}

/** Builds a body by hand: u32s and strings, so tests can write what the encoder never would. */
function rawBody(parts: Array<number | Buffer | string>): Buffer {
  const chunks = parts.map((p) => {
    if (typeof p === 'number') {
      const b = Buffer.alloc(4)
      b.writeUInt32LE(p >>> 0)
      return b
    }
    const bytes = typeof p === 'string' ? Buffer.from(p) : p
    const len = Buffer.alloc(4)
    len.writeUInt32LE(bytes.length)
    return Buffer.concat([len, bytes])
  })
  return Buffer.concat(chunks)
}

describe('compile request', () => {
  it('round-trips every field', () => {
    const bytes = encodeCompileRequest(sample)
    const header = decodeRequestHeader(bytes)
    assert.deepEqual(header, { kind: 'compile', bodyLength: bytes.length - 8 })
    const back = decodeCompileBody(body(bytes))
    assert.deepEqual({ ...back, env: { ...back.env } }, sample)
  })

  it('round-trips the tty flags both ways', () => {
    for (const [o, e] of [
      [true, false],
      [false, false],
      [true, true],
    ] as const) {
      const back = decodeCompileBody(
        body(encodeCompileRequest({ ...sample, stdoutIsTty: o, stderrIsTty: e })),
      )
      assert.equal(back.stdoutIsTty, o)
      assert.equal(back.stderrIsTty, e)
    }
  })

  it('rejects a bad magic', () => {
    const bytes = encodeCompileRequest(sample)
    bytes.write('XCC1', 0, 'latin1')
    assert.throws(() => decodeRequestHeader(bytes), ProtocolError)
    assert.throws(() => decodeRequestHeader(Buffer.from('GET / HTTP/1.1\r\n')), ProtocolError)
  })

  it('rejects a truncated header', () => {
    assert.throws(() => decodeRequestHeader(Buffer.from('MCC1')), ProtocolError)
  })

  it('rejects a body length over the limit before reading it', () => {
    const h = Buffer.alloc(8)
    h.write('MCC1', 0, 'latin1')
    h.writeUInt32LE(MAX_COMPILE_BODY + 1, 4)
    assert.throws(() => decodeRequestHeader(h), FrameTooLargeError)
    h.writeUInt32LE(0xffffffff, 4)
    assert.throws(() => decodeRequestHeader(h), FrameTooLargeError)
  })

  it('rejects every truncation of a valid body', () => {
    const b = body(encodeCompileRequest(sample))
    for (let cut = 0; cut < b.length; cut++) {
      assert.throws(() => decodeCompileBody(b.subarray(0, cut)), ProtocolError, `cut at ${cut}`)
    }
  })

  it('rejects trailing bytes', () => {
    const b = body(encodeCompileRequest(sample))
    assert.throws(() => decodeCompileBody(Buffer.concat([b, Buffer.from([0])])), ProtocolError)
  })

  it('rejects string lengths that point past the end', () => {
    const b = rawBody([0, 0o22, 1, '/cwd'])
    b.writeUInt32LE(0xfffffff0, 12)
    assert.throws(() => decodeCompileBody(b), ProtocolError)
  })

  it('rejects invalid UTF-8 in any string', () => {
    const bad = Buffer.from([0x61, 0xc3, 0x28]) // 0xC3 then a non-continuation byte
    const overlong = Buffer.from([0xc0, 0xaf])
    const surrogate = Buffer.from([0xed, 0xa0, 0x80])
    for (const s of [bad, overlong, surrogate]) {
      assert.throws(
        () => decodeCompileBody(rawBody([0, 0o22, 1, s, '/usr/bin/gcc', 0, 0])),
        ProtocolError,
      )
      assert.throws(
        () => decodeCompileBody(rawBody([0, 0o22, 1, '/w', '/usr/bin/gcc', 1, s, 0])),
        ProtocolError,
      )
      assert.throws(
        () =>
          decodeCompileBody(
            rawBody([
              0,
              0o22,
              1,
              '/w',
              '/usr/bin/gcc',
              0,
              1,
              Buffer.concat([Buffer.from('K='), s]),
            ]),
          ),
        ProtocolError,
      )
    }
  })

  it('rejects too many arguments and counts larger than the bytes left', () => {
    assert.throws(
      () => decodeCompileBody(rawBody([0, 0o22, 1, '/w', '/usr/bin/gcc', MAX_ARGS + 1])),
      /too many/,
    )
    assert.throws(
      () => decodeCompileBody(rawBody([0, 0o22, 1, '/w', '/usr/bin/gcc', 1000, 'a'])),
      ProtocolError,
    )
    assert.throws(
      () => decodeCompileBody(rawBody([0, 0o22, 1, '/w', '/usr/bin/gcc', 0, 70_000])),
      ProtocolError,
    )
  })

  it('rejects relative paths, bad env entries and a bad umask', () => {
    assert.throws(
      () => decodeCompileBody(rawBody([0, 0o22, 1, 'rel', '/usr/bin/gcc', 0, 0])),
      /cwd/,
    )
    assert.throws(() => decodeCompileBody(rawBody([0, 0o22, 1, '/w', 'gcc', 0, 0])), /compiler/)
    assert.throws(
      () => decodeCompileBody(rawBody([0, 0o22, 1, '/w', '/usr/bin/gcc', 0, 1, 'NOEQUALS'])),
      /KEY=/,
    )
    assert.throws(
      () => decodeCompileBody(rawBody([0, 0o22, 1, '/w', '/usr/bin/gcc', 0, 1, '=x'])),
      /KEY=/,
    )
    assert.throws(
      () => decodeCompileBody(rawBody([0, 0o1000, 1, '/w', '/usr/bin/gcc', 0, 0])),
      /umask/,
    )
  })

  it('keeps a hostile env key from reaching the prototype', () => {
    const back = decodeCompileBody(rawBody([0, 0o22, 1, '/w', '/usr/bin/gcc', 0, 1, '__proto__=x']))
    assert.deepEqual(Object.entries(back.env), [['__proto__', 'x']])
    assert.equal(Object.getPrototypeOf(back.env), null)
  })
})

describe('compile reply', () => {
  it('round-trips exec-local', () => {
    const reply = { kind: 'exec-local', reason: 'linking — ünïcødé' } as const
    assert.deepEqual(decodeCompileReply(encodeCompileReply(reply)), reply)
  })

  it('round-trips done with output split into ≤ 1 MiB frames', () => {
    const stdout = Buffer.alloc(MAX_OUTPUT_FRAME * 2 + 17, 0x41)
    const stderr = Buffer.from('warning: x\n')
    const bytes = encodeCompileReply({ kind: 'done', exitCode: -9, stdout, stderr })
    const types: number[] = []
    for (let pos = 0; pos < bytes.length; ) {
      const len = bytes.readUInt32LE(pos + 1)
      assert.ok(len <= MAX_OUTPUT_FRAME)
      types.push(bytes[pos]!)
      pos += 5 + len
    }
    assert.deepEqual(types, [FRAME_STDOUT, FRAME_STDOUT, FRAME_STDOUT, FRAME_STDERR, FRAME_EXIT])
    const back = decodeCompileReply(bytes)
    assert.equal(back.kind, 'done')
    if (back.kind !== 'done') return
    assert.equal(back.exitCode, -9)
    assert.deepEqual(Buffer.from(back.stdout), stdout)
    assert.deepEqual(Buffer.from(back.stderr), stderr)
  })

  it('rejects a stream without a final frame, or with garbage', () => {
    const bytes = encodeCompileReply({
      kind: 'done',
      exitCode: 0,
      stdout: Buffer.from('x'),
      stderr: Buffer.alloc(0),
    })
    assert.throws(() => decodeCompileReply(bytes.subarray(0, bytes.length - 1)), ProtocolError)
    assert.throws(() => decodeCompileReply(Buffer.from([9, 0, 0, 0, 0])), ProtocolError)
    const wrongExit = Buffer.from([FRAME_EXIT, 2, 0, 0, 0, 1, 2])
    assert.throws(() => decodeCompileReply(wrongExit), ProtocolError)
  })
})

describe('keepalive', () => {
  it('is an empty frame of type 0x05 that decoders skip wherever it comes', () => {
    assert.deepEqual([...KEEPALIVE_FRAME], [FRAME_KEEPALIVE, 0, 0, 0, 0])
    const reply = encodeCompileReply({
      kind: 'done',
      exitCode: 2,
      stdout: Buffer.from('o'),
      stderr: Buffer.from('e'),
    })
    const withBeats = Buffer.concat([KEEPALIVE_FRAME, KEEPALIVE_FRAME, reply])
    assert.deepEqual(decodeCompileReply(withBeats), decodeCompileReply(reply))
    const local = encodeCompileReply({ kind: 'exec-local', reason: 'r' })
    assert.deepEqual(decodeCompileReply(Buffer.concat([KEEPALIVE_FRAME, local])), {
      kind: 'exec-local',
      reason: 'r',
    })
  })

  it('alone is no reply, and a keepalive with a payload is garbage', () => {
    assert.throws(() => decodeCompileReply(Buffer.concat([KEEPALIVE_FRAME])), ProtocolError)
    const fat = Buffer.from([FRAME_KEEPALIVE, 1, 0, 0, 0, 0x41])
    const exit = encodeCompileReply({
      kind: 'done',
      exitCode: 0,
      stdout: Buffer.alloc(0),
      stderr: Buffer.alloc(0),
    })
    assert.throws(() => decodeCompileReply(Buffer.concat([fat, exit])), ProtocolError)
  })

  it('comes at least four times per client timeout, at most every 2 s', () => {
    assert.equal(keepaliveIntervalMs({}), MAX_KEEPALIVE_INTERVAL_MS)
    assert.equal(MAX_KEEPALIVE_INTERVAL_MS, 2000)
    assert.equal(keepaliveIntervalMs({ MESHCC_CLIENT_TIMEOUT: '60' }), 2000)
    assert.equal(keepaliveIntervalMs({ MESHCC_CLIENT_TIMEOUT: '2' }), 500)
    assert.equal(keepaliveIntervalMs({ MESHCC_CLIENT_TIMEOUT: ' 0.4 ' }), 100)
    // Values the C client raises to its 0.1 s minimum, or ignores.
    assert.equal(keepaliveIntervalMs({ MESHCC_CLIENT_TIMEOUT: '0.001' }), 25)
    for (const bad of ['', 'soon', '-3', '0', '5s']) {
      assert.equal(keepaliveIntervalMs({ MESHCC_CLIENT_TIMEOUT: bad }), 2000, bad)
    }
    assert.equal(keepaliveIntervalMs({ MESHCC_CLIENT_TIMEOUT: '1' }, 100), 100)
  })
})

describe('control messages', () => {
  it('round-trips a request and a reply', () => {
    const req = encodeControl({ cmd: 'status' }, { request: true })
    assert.deepEqual(decodeRequestHeader(req), { kind: 'control', bodyLength: req.length - 8 })
    assert.deepEqual(decodeControlBody(req.subarray(8)), { cmd: 'status' })
    const rep = encodeControl({ ok: true, n: 1 }, { request: false })
    assert.equal(rep.readUInt32LE(0), rep.length - 4)
    assert.deepEqual(decodeControlBody(rep.subarray(4)), { ok: true, n: 1 })
  })

  it('rejects bad JSON, bad UTF-8 and oversized control frames', () => {
    assert.throws(() => decodeControlBody(Buffer.from('{nope')), ProtocolError)
    assert.throws(() => decodeControlBody(Buffer.from([0x7b, 0xff, 0x7d])), ProtocolError)
    const h = Buffer.alloc(8)
    h.write('MCJ1', 0, 'latin1')
    h.writeUInt32LE(5 * 1024 * 1024, 4)
    assert.throws(() => decodeRequestHeader(h), FrameTooLargeError)
  })
})
