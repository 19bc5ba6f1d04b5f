/**
 * Commands the native client runs for the daemon: the RUN frame and the client's answer round
 * trip, and every malformed or oversized input is rejected with a typed error.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { FrameTooLargeError, ProtocolError } from '../../../src/errors.ts'
import {
  decodeRunPayload,
  encodeRunAnswer,
  encodeRunFrame,
  FLAG_CLIENT_RUNS,
  FRAME_RUN,
  FRAME_RUN_EXIT,
  FRAME_RUN_STDERR,
  FRAME_RUN_STDOUT,
  RUN_NOT_STARTED,
  RunAnswerReader,
} from '../../../src/protocol/client-run-wire.ts'
import {
  decodeCompileBody,
  encodeCompileRequest,
  MAX_OUTPUT_FRAME,
  REQUEST_HEADER_BYTES,
} from '../../../src/protocol/local-wire.ts'

const frame = (type: number, payload: Uint8Array | number[]) => {
  const p = Buffer.from(payload)
  const out = Buffer.alloc(5 + p.length)
  out[0] = type
  out.writeUInt32LE(p.length, 1)
  p.copy(out, 5)
  return out
}

describe('RUN frame', () => {
  it('round-trips argv, unicode and empty arguments included', () => {
    const argv = ['/usr/bin/gcc', '-E', '', 'ünï ✓.c', '-DX="a b"']
    const f = encodeRunFrame(argv)
    assert.equal(f[0], FRAME_RUN)
    assert.equal(f.readUInt32LE(1), f.length - 5)
    assert.deepEqual(decodeRunPayload(f.subarray(5)), argv)
  })

  it('refuses to encode an empty argv or a relative program', () => {
    assert.throws(() => encodeRunFrame([]), ProtocolError)
    assert.throws(() => encodeRunFrame(['gcc', '-E']), ProtocolError)
  })

  it('rejects every truncation, trailing bytes, bad counts, bad UTF-8 and a relative program', () => {
    const payload = encodeRunFrame(['/bin/cc', '-E', 'a.c']).subarray(5)
    for (let n = 0; n < payload.length; n++)
      assert.throws(() => decodeRunPayload(payload.subarray(0, n)), ProtocolError, `cut at ${n}`)
    assert.throws(() => decodeRunPayload(Buffer.concat([payload, Buffer.from([0])])), ProtocolError)
    const zero = Buffer.from(payload)
    zero.writeUInt32LE(0, 0)
    assert.throws(() => decodeRunPayload(zero), ProtocolError)
    const huge = Buffer.from(payload)
    huge.writeUInt32LE(0xffffffff, 0)
    assert.throws(() => decodeRunPayload(huge), ProtocolError)
    const bad = Buffer.from(encodeRunFrame(['/bin/cc', 'ab']).subarray(5))
    bad[bad.length - 1] = 0xff
    assert.throws(() => decodeRunPayload(bad), ProtocolError)
    assert.throws(() => decodeRunPayload(encodeRunFrame(['/x', 'y']).subarray(5).fill(0, 8, 9)))
  })

  it('has its own request flag, which round-trips and is off unless set', () => {
    const req = {
      cwd: '/w',
      compiler: '/usr/bin/gcc',
      args: ['-c', 'a.c'],
      env: {},
      stdoutIsTty: false,
      stderrIsTty: false,
      umask: 0o22,
      pid: 1,
    }
    const off = decodeCompileBody(encodeCompileRequest(req).subarray(REQUEST_HEADER_BYTES))
    assert.equal(off.clientRuns, undefined)
    const bytes = encodeCompileRequest({ ...req, clientRuns: true })
    assert.equal(bytes.readUInt32LE(REQUEST_HEADER_BYTES) & FLAG_CLIENT_RUNS, FLAG_CLIENT_RUNS)
    assert.equal(decodeCompileBody(bytes.subarray(REQUEST_HEADER_BYTES)).clientRuns, true)
  })
})

describe('run answer', () => {
  it('round-trips output split into frames, fed byte by byte', () => {
    const stdout = Buffer.alloc(MAX_OUTPUT_FRAME + 10, 'o')
    const stderr = Buffer.from('warn\n')
    const bytes = encodeRunAnswer({ status: 3, stdout, stderr })
    const reader = new RunAnswerReader()
    let got: ReturnType<RunAnswerReader['push']>
    const step = 4099
    for (let i = 0; i < bytes.length; i += step) {
      assert.equal(got, undefined)
      got = reader.push(bytes.subarray(i, i + step))
    }
    assert.ok(got)
    assert.equal(got.status, 3)
    assert.ok(got.stdout.equals(stdout))
    assert.ok(got.stderr.equals(stderr))
  })

  it('reassembles interleaved and empty frames, whatever the chunk boundaries', () => {
    const bytes = Buffer.concat([
      frame(FRAME_RUN_STDOUT, Buffer.from('# 0 "a.c"\n')),
      frame(FRAME_RUN_STDERR, []),
      frame(FRAME_RUN_STDERR, Buffer.from('w1 ')),
      frame(FRAME_RUN_STDOUT, []),
      frame(FRAME_RUN_STDOUT, Buffer.from('int x;\n')),
      frame(FRAME_RUN_STDERR, Buffer.from('w2')),
      frame(FRAME_RUN_EXIT, [7, 0, 0, 0]),
    ])
    for (const step of [1, 2, 3, 4, 5, 6, 7, 11, bytes.length]) {
      const reader = new RunAnswerReader()
      let got: ReturnType<RunAnswerReader['push']>
      for (let i = 0; i < bytes.length; i += step) {
        assert.equal(got, undefined, `step ${step}`)
        got = reader.push(bytes.subarray(i, i + step))
      }
      assert.equal(got?.status, 7, `step ${step}`)
      assert.equal(got?.stdout.toString(), '# 0 "a.c"\nint x;\n', `step ${step}`)
      assert.equal(got?.stderr.toString(), 'w1 w2', `step ${step}`)
    }
  })

  it('carries signals and "not started" as negative statuses', () => {
    for (const status of [-9, RUN_NOT_STARTED, 0, 255]) {
      const r = new RunAnswerReader().push(
        encodeRunAnswer({ status, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) }),
      )
      assert.equal(r?.status, status)
    }
  })

  it('rejects unknown frame types, a wrong RUN_EXIT length and bytes after RUN_EXIT', () => {
    assert.throws(() => new RunAnswerReader().push(frame(0x01, [1])), ProtocolError)
    assert.throws(() => new RunAnswerReader().push(frame(FRAME_RUN_EXIT, [0, 0, 0])), ProtocolError)
    const exit = frame(FRAME_RUN_EXIT, [0, 0, 0, 0])
    assert.throws(
      () => new RunAnswerReader().push(Buffer.concat([exit, Buffer.from([0])])),
      ProtocolError,
    )
    const r = new RunAnswerReader()
    assert.ok(r.push(exit))
    assert.throws(() => r.push(Buffer.from([FRAME_RUN_STDOUT])), ProtocolError)
  })

  it('rejects an oversized frame from its header, and output over the total bound', () => {
    const head = Buffer.alloc(5)
    head[0] = FRAME_RUN_STDERR
    head.writeUInt32LE(MAX_OUTPUT_FRAME + 1, 1)
    assert.throws(() => new RunAnswerReader().push(head), FrameTooLargeError)
    const r = new RunAnswerReader({ maxOutput: 10 })
    assert.equal(r.push(frame(FRAME_RUN_STDOUT, Buffer.alloc(6))), undefined)
    assert.throws(() => r.push(frame(FRAME_RUN_STDERR, Buffer.alloc(5))), FrameTooLargeError)
  })
})
