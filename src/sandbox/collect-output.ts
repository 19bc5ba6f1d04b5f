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
import { closeSync, constants, fstatSync, lstatSync, openSync, read, readSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { UnsafeJobOutputError } from '../errors.ts'

const readAsync = promisify(read)

/**
 * Up to this size the file is read synchronously: the checks and a small read are microseconds
 * of the main thread, where each promise call is a thread-pool round trip. Larger files are read
 * through the thread pool.
 */
const SYNC_READ_MAX = 256 * 1024

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
    const st = lstatSync(join(jobDir, ...parts.slice(0, i)), { throwIfNoEntry: false })
    if (!st?.isDirectory())
      throw new UnsafeJobOutputError(`${parts.slice(0, i).join('/')} is not a directory`)
  }
  const path = join(jobDir, ...parts)
  // O_NOFOLLOW refuses a final link; O_NONBLOCK keeps a FIFO from blocking the open.
  let fd: number
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  } catch (err) {
    const cause = err as NodeJS.ErrnoException
    throw new UnsafeJobOutputError(`cannot open ${rel}: ${cause.code ?? cause.message}`, { cause })
  }
  try {
    const st = fstatSync(fd)
    if (!st.isFile()) throw new UnsafeJobOutputError(`${rel} is not a regular file`)
    if (st.size > maxBytes)
      throw new UnsafeJobOutputError(`${rel} is ${st.size} bytes, over the ${maxBytes} cap`)
    const buf = Buffer.alloc(st.size)
    let off = 0
    while (off < buf.length) {
      signal?.throwIfAborted()
      const n =
        buf.length <= SYNC_READ_MAX
          ? readSync(fd, buf, off, buf.length - off, off)
          : (await readAsync(fd, buf, off, buf.length - off, off)).bytesRead
      if (n === 0) break
      off += n
    }
    return off === buf.length ? buf : buf.subarray(0, off)
  } finally {
    closeSync(fd)
  }
}
