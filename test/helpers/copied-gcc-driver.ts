/**
 * A private copy of the host's gcc driver, relocated gcc-style: `<dir>/bin/x86_64-linux-gnu-gcc-12`
 * with `<dir>/lib` leading to /usr/lib, where it finds cc1. Tests change the copy to stand for a
 * compiler upgrade without touching the host's.
 */
import { execFileSync } from 'node:child_process'
import { copyFile, mkdir, realpath, symlink } from 'node:fs/promises'
import { join } from 'node:path'

export async function copiedGccDriver(dir: string): Promise<string> {
  const bin = join(dir, 'bin')
  await mkdir(bin, { recursive: true })
  await symlink('/usr/lib', join(dir, 'lib'))
  const driver = join(bin, 'x86_64-linux-gnu-gcc-12')
  await copyFile(
    await realpath(execFileSync('sh', ['-c', 'command -v gcc'], { encoding: 'utf8' }).trim()),
    driver,
  )
  execFileSync('chmod', ['755', driver])
  return driver
}
