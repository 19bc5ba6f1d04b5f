/**
 * Builds tar archives byte by byte for tests, including the hostile ones no tar tool would
 * write (absolute names, `..`, device nodes, links outside).
 */
export interface FixtureEntry {
  name: string
  type?: '0' | '1' | '2' | '3' | '4' | '5' | '6' | 'x' | 'L'
  mode?: number
  body?: string | Uint8Array
  linkname?: string
  /** Header size field that differs from the body (to fake huge entries). */
  size?: number
}

function field(h: Buffer, off: number, len: number, value: string) {
  h.write(value, off, Math.min(len, Buffer.byteLength(value)), 'utf8')
}

function octal(h: Buffer, off: number, len: number, n: number) {
  field(h, off, len, `${n.toString(8).padStart(len - 1, '0')}\0`)
}

export function header(e: FixtureEntry, size: number): Buffer {
  const h = Buffer.alloc(512)
  field(h, 0, 100, e.name)
  octal(h, 100, 8, e.mode ?? 0o644)
  octal(h, 108, 8, 0)
  octal(h, 116, 8, 0)
  octal(h, 124, 12, size)
  octal(h, 136, 12, 0)
  h.write(e.type ?? '0', 156, 'latin1')
  field(h, 157, 100, e.linkname ?? '')
  h.write('ustar\0', 257, 'latin1')
  h.write('00', 263, 'latin1')
  h.fill(0x20, 148, 156)
  let sum = 0
  for (const b of h) sum += b
  field(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `)
  return h
}

export function tar(entries: FixtureEntry[], { end = true } = {}): Buffer {
  const parts: Buffer[] = []
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '')
    parts.push(header(e, e.size ?? body.length))
    parts.push(body, Buffer.alloc((512 - (body.length % 512)) % 512))
  }
  if (end) parts.push(Buffer.alloc(1024))
  return Buffer.concat(parts)
}

/** A fake cross toolchain: a driver script, a "cc1", a library and a relative link. */
export function fakeToolchainEntries(): FixtureEntry[] {
  return [
    { name: './', type: '5', mode: 0o755 },
    { name: './usr/', type: '5', mode: 0o755 },
    { name: './usr/bin/', type: '5', mode: 0o755 },
    { name: './usr/bin/x86_64-w64-mingw32-gcc', mode: 0o755, body: '#!/bin/sh\necho gcc\n' },
    { name: './usr/bin/x86_64-w64-mingw32-g++', mode: 0o775, body: '#!/bin/sh\necho g++\n' },
    { name: './usr/lib/gcc/cc1', mode: 0o755, body: 'cc1 binary' },
    { name: './usr/lib/libfoo.so.1.0', mode: 0o644, body: 'library' },
    { name: './usr/lib/libfoo.so.1', type: '2', linkname: 'libfoo.so.1.0' },
    { name: './usr/lib/libbar.so', type: '1', linkname: './usr/lib/libfoo.so.1.0' },
  ]
}
