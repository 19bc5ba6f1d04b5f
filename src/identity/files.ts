/**
 * Small file helpers for identity state: atomic writes with explicit modes, and reads that
 * refuse secret files other users could read (as ssh does for private keys).
 */
import { randomBytes } from 'node:crypto'
import { chmod, link, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { IdentityFileError } from '../errors.ts'

export interface WriteOptions {
  mode: number
  signal?: AbortSignal
}

/** Creates a directory (and parents) and makes sure the leaf has `mode`. */
export async function ensureDir(dir: string, mode = 0o700): Promise<void> {
  await mkdir(dir, { recursive: true, mode })
  await chmod(dir, mode)
}

/**
 * Writes `data` to `file` atomically: a temporary file created with `mode` from the start (the
 * secret is never readable by others, not even briefly), fsynced, then renamed over `file`.
 * With `exclusive`, fails with EEXIST instead of replacing an existing file.
 */
export async function writeFileAtomic(
  file: string,
  data: Uint8Array | string,
  { mode, signal, exclusive = false }: WriteOptions & { exclusive?: boolean },
): Promise<void> {
  signal?.throwIfAborted()
  await ensureDir(dirname(file))
  const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`)
  const handle = await open(tmp, 'wx', mode)
  try {
    await handle.writeFile(data)
    await handle.chmod(mode) // the umask may have narrowed or the mode: make it exact
    await handle.sync()
  } finally {
    await handle.close()
  }
  try {
    signal?.throwIfAborted()
    // link() fails with EEXIST atomically, so two concurrent creators cannot both win.
    if (exclusive) await link(tmp, file)
    else await rename(tmp, file)
  } finally {
    await rm(tmp, { force: true })
  }
}

/** Reads a file, or undefined if it does not exist. */
export async function readIfExists(file: string): Promise<Uint8Array | undefined> {
  try {
    return new Uint8Array(await readFile(file))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new IdentityFileError(`cannot read ${file}`, { cause: err })
  }
}

/** Reads a secret file, refusing it when group or others have any access to it. */
export async function readSecretFile(file: string): Promise<Uint8Array | undefined> {
  let mode: number
  try {
    mode = (await stat(file)).mode
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new IdentityFileError(`cannot read ${file}`, { cause: err })
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new IdentityFileError(
      `${file} is accessible by other users (mode ${(mode & 0o777).toString(8)})`,
      {
        hint: `run \`chmod 600 ${file}\` if the key was not exposed, else create a new organisation`,
      },
    )
  }
  return readIfExists(file)
}
