/**
 * Opens a toolchain archive as a stream of tar bytes, choosing the decompressor from the magic
 * bytes (never the file name): gzip and zstd with node:zlib, xz and bzip2 through the system's
 * `xz`/`bzip2` (decompression only; all parsing stays in tar-reader.ts). The byte limit in the
 * tar reader bounds what a decompression bomb can produce.
 */
import { spawn } from 'node:child_process'
import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import { createGunzip, createZstdDecompress } from 'node:zlib'

export type Compression = 'none' | 'gzip' | 'zstd' | 'xz' | 'bzip2'

export function sniffCompression(head: Uint8Array): Compression {
  const b = Buffer.from(head)
  if (b[0] === 0x1f && b[1] === 0x8b) return 'gzip'
  if (b.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return 'zstd'
  if (b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz'
  if (b.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2'
  return 'none'
}

export async function openArchive(
  path: string,
  { signal }: { signal?: AbortSignal } = {},
): Promise<{ stream: Readable; compression: Compression; close: () => void }> {
  const fh = await open(path, 'r')
  const head = Buffer.alloc(8)
  try {
    await fh.read(head, 0, 8, 0)
  } finally {
    await fh.close()
  }
  const compression = sniffCompression(head)
  const file = createReadStream(path, signal ? { signal } : {})
  const done = (stream: Readable, kill?: () => void) => ({
    stream,
    compression,
    // The reader may stop early (a refused entry): release the file and any child at once.
    close: () => {
      stream.destroy()
      file.destroy()
      kill?.()
    },
  })
  switch (compression) {
    case 'none':
      return done(file)
    case 'gzip':
      return done(file.pipe(createGunzip()))
    case 'zstd':
      return done(file.pipe(createZstdDecompress()))
    default: {
      const child = spawn(compression, ['-dc'], {
        stdio: ['pipe', 'pipe', 'ignore'],
        ...(signal ? { signal } : {}),
      })
      file.pipe(child.stdin)
      child.stdin.on('error', () => {}) // the reader may stop early (refused entry)
      child.on('error', (err) => child.stdout.destroy(err))
      return done(child.stdout, () => child.kill())
    }
  }
}
