/**
 * Reads an output file a sandboxed job left in its job directory. The directory was writable by
 * the job, so whatever is there is hostile until proven otherwise: a planted `hello.o ->
 * /etc/shadow` symlink, a `..` path, a FIFO that would block the reader, a directory, a file of
 * many gigabytes. Only a regular file reached without following any link, and within the size
 * cap, is read.
 *
 * Call it after `runSandboxed` returned: by then every process of the sandbox is dead (its PID
 * namespace is gone), so nothing can swap a component between the checks and the read.
 */
import { constants } from 'node:fs'
import { lstat, open } from 'node:fs/promises'
import { join } from 'node:path'
import { UnsafeJobOutputError } from '../errors.ts'

export async function readJobOutput(
  jobDir: string,
  rel: string,
  { maxBytes, signal }: { maxBytes: number; signal?: AbortSignal },
): Promise<Buffer> {
  const parts = rel.split('/')
  if (rel === '' || rel.includes('\0') || parts.some((p) => p === '' || p === '.' || p === '..'))
    throw new UnsafeJobOutputError(`not a plain relative path: ${JSON.stringify(rel)}`)
  // Every directory on the way must be a real directory, not a link.
  for (let i = 1; i < parts.length; i++) {
    signal?.throwIfAborted()
    const st = await lstat(join(jobDir, ...parts.slice(0, i))).catch(() => undefined)
    if (!st?.isDirectory())
      throw new UnsafeJobOutputError(`${parts.slice(0, i).join('/')} is not a directory`)
  }
  const path = join(jobDir, ...parts)
  // O_NOFOLLOW refuses a final link; O_NONBLOCK keeps a FIFO from blocking the open.
  const fh = await open(
    path,
    constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK,
  ).catch((cause: NodeJS.ErrnoException) => {
    throw new UnsafeJobOutputError(`cannot open ${rel}: ${cause.code ?? cause.message}`, { cause })
  })
  try {
    const st = await fh.stat()
    if (!st.isFile()) throw new UnsafeJobOutputError(`${rel} is not a regular file`)
    if (st.size > maxBytes)
      throw new UnsafeJobOutputError(`${rel} is ${st.size} bytes, over the ${maxBytes} cap`)
    const buf = Buffer.alloc(st.size)
    let off = 0
    while (off < buf.length) {
      signal?.throwIfAborted()
      const { bytesRead } = await fh.read(buf, off, buf.length - off, off)
      if (bytesRead === 0) break
      off += bytesRead
    }
    return off === buf.length ? buf : buf.subarray(0, off)
  } finally {
    await fh.close()
  }
}
