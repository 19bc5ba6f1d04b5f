/**
 * Joins the verified chunks of a large file (`partial/<sha256>/<index>`) into one blob, checks
 * the whole file's hash, and publishes it by rename. Each chunk was verified when it arrived;
 * the whole-file check guards against a manifest whose chunk list and file hash disagree.
 */
import { createHash } from 'node:crypto'
import { open, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { ToolchainIntegrityError } from '../errors.ts'
import { publish, tempName } from './safe-fs.ts'

export async function assembleChunks(
  partialDir: string,
  chunks: number,
  sha256: string,
  tmpDir: string,
  blobPath: string,
): Promise<void> {
  const temp = tempName(tmpDir, 'blob')
  const fh = await open(temp, 'wx', 0o600)
  const whole = createHash('sha256')
  try {
    for (let i = 0; i < chunks; i++) {
      const part = await readFile(join(partialDir, String(i)))
      whole.update(part)
      await fh.write(part)
    }
    await fh.chmod(0o444)
  } catch (err) {
    await rm(temp, { force: true })
    throw err
  } finally {
    await fh.close()
  }
  if (whole.digest('hex') !== sha256) {
    await rm(temp, { force: true })
    await rm(partialDir, { recursive: true, force: true })
    throw new ToolchainIntegrityError(`assembled file ${sha256} does not match its hash`)
  }
  await publish(temp, blobPath)
  await rm(partialDir, { recursive: true, force: true })
}
