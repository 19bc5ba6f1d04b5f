import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { ToolchainManifestError } from '../../../src/errors.ts'
import { CHUNK_SIZE } from '../../../src/toolchain/limits.ts'
import {
  buildManifest,
  decodeManifest,
  encodeManifest,
  type ManifestInput,
  manifestId,
} from '../../../src/toolchain/manifest.ts'

const h = (s: string) => createHash('sha256').update(s).digest('hex')

function input(): ManifestInput {
  return {
    platform: 'linux-x86_64',
    targets: ['x86_64-linux-gnu'],
    drivers: { c: 'usr/bin/gcc-12', 'c++': 'usr/bin/g++' },
    compilerId: 'gcc (Debian 12.2.0-14) 12.2.0',
    files: [
      { path: 'usr/lib/gcc/cc1', mode: 0o755, size: 3, sha256: h('cc1') },
      { path: 'usr/bin/gcc-12', mode: 0o775, size: 3, sha256: h('gcc') },
      { path: 'usr/bin/g++-12', mode: 0o755, size: 3, sha256: h('g++') },
      { path: 'usr/lib/x86_64-linux-gnu/libc.so.6', mode: 0o644, size: 4, sha256: h('libc') },
    ],
    symlinks: [
      { path: 'usr/bin/g++', target: 'g++-12' },
      { path: 'lib', target: 'usr/lib' },
      { path: 'lib64', target: 'usr/lib64' },
      { path: 'usr/lib64/ld.so', target: '../../lib/x86_64-linux-gnu/libc.so.6' },
    ],
  }
}

/** Encodes a hand-edited manifest object the way a hostile peer would (no validation). */
function raw(edit: (m: Record<string, unknown>) => void): Uint8Array {
  const m = JSON.parse(Buffer.from(encodeManifest(buildManifest(input()))).toString()) as Record<
    string,
    unknown
  >
  edit(m)
  return Buffer.from(JSON.stringify(m))
}

function refuses(bytes: Uint8Array, pattern: RegExp) {
  assert.throws(
    () => decodeManifest(bytes),
    (err: unknown) => err instanceof ToolchainManifestError && pattern.test(err.message),
  )
}

describe('toolchain manifest', () => {
  it('round-trips and sorts canonically regardless of input order', () => {
    const a = buildManifest(input())
    const shuffled = input()
    shuffled.files.reverse()
    shuffled.symlinks.reverse()
    const b = buildManifest(shuffled)
    const bytes = encodeManifest(a)
    assert.deepEqual(encodeManifest(b), bytes)
    assert.deepEqual(decodeManifest(bytes), a)
    assert.deepEqual(
      a.files.map((f) => f.path),
      ['usr/bin/g++-12', 'usr/bin/gcc-12', 'usr/lib/gcc/cc1', 'usr/lib/x86_64-linux-gnu/libc.so.6'],
    )
    // 0775 normalises to 0755: the umask of the machine that installed it is not identity.
    assert.equal(a.files[1]!.mode, 0o755)
    assert.match(manifestId(bytes), /^[0-9a-f]{64}$/)
  })

  it('gives a different id when one file changes', () => {
    const base = manifestId(encodeManifest(buildManifest(input())))
    const changed = input()
    changed.files[0]!.sha256 = h('cc1 patched')
    assert.notEqual(manifestId(encodeManifest(buildManifest(changed))), base)
    const mode = input()
    mode.files[3]!.mode = 0o755
    assert.notEqual(manifestId(encodeManifest(buildManifest(mode))), base)
  })

  it('refuses non-canonical bytes: whitespace, key order, extra fields', () => {
    const bytes = encodeManifest(buildManifest(input()))
    const text = Buffer.from(bytes).toString()
    refuses(Buffer.from(text.replace(',"hashAlgo"', ', "hashAlgo"')), /canonical/)
    refuses(
      raw((m) => {
        const p = m['platform']
        delete m['platform']
        m['platform'] = p
      }),
      /canonical/,
    )
    refuses(
      raw((m) => {
        m['extra'] = 1
      }),
      /unknown field 'extra'/,
    )
    refuses(Buffer.from([0xff, 0xfe]), /UTF-8/)
  })

  it('refuses unsorted and duplicate paths', () => {
    refuses(
      raw((m) => {
        ;(m['files'] as unknown[]).reverse()
      }),
      /not sorted/,
    )
    refuses(
      raw((m) => {
        const files = m['files'] as Record<string, unknown>[]
        files.splice(1, 0, { ...files[0]! })
      }),
      /duplicate path 'usr\/bin\/g\+\+-12'/,
    )
  })

  it('refuses absolute paths, .. components and escaping links', () => {
    const file = (path: string) =>
      raw((m) => {
        ;(m['files'] as Record<string, unknown>[])[3]!['path'] = path
      })
    refuses(file('/etc/passwd'), /absolute path/)
    refuses(file('usr/lib/../../etc/passwd'), /'\.\.'/)
    refuses(file('usr//lib/x'), /empty/)
    const link = (target: string) =>
      raw((m) => {
        ;(m['symlinks'] as Record<string, unknown>[])[0]!['target'] = target
      })
    refuses(link('/usr/lib'), /absolute link target/)
    refuses(link('../etc'), /outside/)
    // Lexically inside (a/up/.. = a), but a/up is a link to the root: a/up/.. climbs above it.
    const i = input()
    i.symlinks.push({ path: 'a/up', target: '..' }, { path: 'evil', target: 'a/up/..' })
    assert.throws(() => buildManifest(i), /'evil' -> 'a\/up\/\.\.' points outside/)
    i.symlinks.pop()
    assert.doesNotThrow(() => buildManifest(i))
  })

  it('refuses entries below a symlink (writes through links)', () => {
    refuses(
      raw((m) => {
        const files = m['files'] as Record<string, unknown>[]
        files.splice(0, 0, { path: 'lib/evil', mode: 0o644, size: 0, sha256: h('') })
      }),
      /'lib' is a link but other entries are inside it/,
    )
  })

  it('refuses bad modes, sizes, hashes and chunk lists', () => {
    const edit = (k: string, v: unknown) =>
      raw((m) => {
        ;(m['files'] as Record<string, unknown>[])[0]![k] = v
      })
    refuses(edit('mode', 0o4755), /mode must be/)
    refuses(edit('mode', 0o777), /mode must be/)
    refuses(edit('size', -1), /size/)
    refuses(edit('size', 2 ** 53), /size/)
    refuses(edit('size', 1.5), /size/)
    refuses(edit('sha256', 'ABC'), /sha256/)
    refuses(edit('chunks', [h('x')]), /chunks on a small file/)
    const big = 5 * CHUNK_SIZE + 1
    refuses(edit('size', big), /needs 6 chunk hashes/)
  })

  it('accepts a chunked file with the right number of chunk hashes', () => {
    const i = input()
    i.files[3] = { ...i.files[3]!, size: 5 * CHUNK_SIZE + 1, chunks: Array(6).fill(h('c')) }
    const bytes = encodeManifest(buildManifest(i))
    assert.equal(decodeManifest(bytes).files.find((f) => f.chunks)?.chunks?.length, 6)
  })

  it('refuses drivers that are not executable files of the toolchain', () => {
    const i = input()
    i.drivers = { c: 'usr/lib/x86_64-linux-gnu/libc.so.6' }
    assert.throws(() => buildManifest(i), /not an executable file/)
    i.drivers = { c: 'usr/bin/cc' }
    assert.throws(() => buildManifest(i), /not an executable file/)
    i.drivers = {}
    assert.throws(() => buildManifest(i), /none named/)
  })

  it('refuses oversized manifests before parsing them', () => {
    refuses(new Uint8Array(64 * 1024 * 1024 + 1), /exceeds the limit/)
  })
})
