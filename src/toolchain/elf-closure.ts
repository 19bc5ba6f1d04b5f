/**
 * The shared libraries an ELF program loads, as the dynamic loader itself resolves them
 * (`ldd`: RUNPATH, `$ORIGIN`, ld.so.cache, multiarch directories — all the rules a hand-written
 * DT_NEEDED walk would have to re-implement), including the loader (`PT_INTERP`).
 */
import { execFile } from 'node:child_process'
import { open } from 'node:fs/promises'
import { promisify } from 'node:util'
import { ToolchainPackagingError } from '../errors.ts'

const run = promisify(execFile)

export async function isElf(path: string): Promise<boolean> {
  const fh = await open(path, 'r')
  try {
    const buf = Buffer.alloc(4)
    await fh.read(buf, 0, 4, 0)
    return buf.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))
  } finally {
    await fh.close()
  }
}

/** Parses `ldd` output into absolute library paths (the vDSO has none and is skipped). */
export function parseLdd(output: string, what: string): string[] {
  const libs: string[] = []
  for (const raw of output.split('\n')) {
    const line = raw.trim()
    if (line === '' || /statically linked|not a dynamic executable/.test(line)) continue
    const arrow = /^(\S+) => (.*?)(?: \(0x[0-9a-f]+\))?$/.exec(line)
    if (arrow) {
      if (arrow[2] === 'not found')
        throw new ToolchainPackagingError(`${what} needs ${arrow[1]}, which the loader cannot find`)
      if (arrow[2]!.startsWith('/')) libs.push(arrow[2]!)
      continue
    }
    const direct = /^(\/\S+) \(0x[0-9a-f]+\)$/.exec(line)
    if (direct) libs.push(direct[1]!)
  }
  return libs
}

/** Libraries (and the loader) `path` loads; [] for static or non-dynamic files. */
export async function sharedLibraries(
  path: string,
  { signal }: { signal?: AbortSignal } = {},
): Promise<string[]> {
  try {
    const { stdout } = await run('ldd', [path], {
      env: { LC_ALL: 'C', PATH: '/usr/bin:/bin' },
      timeout: 30_000,
      ...(signal ? { signal } : {}),
    })
    return parseLdd(stdout, path)
  } catch (err) {
    const out = `${(err as { stdout?: string }).stdout ?? ''}${(err as { stderr?: string }).stderr ?? ''}`
    if (/not a dynamic executable|statically linked/.test(out)) return []
    if (err instanceof ToolchainPackagingError) throw err
    throw new ToolchainPackagingError(`ldd ${path} failed: ${(err as Error).message}`)
  }
}
