/**
 * Places a gcc job's shipped sources (`JobRequest.sources`) so that the compiler's diagnostics
 * read what they read on the client:
 *
 * - **Headers and other files** are written under the job directory as `src/f<i>` (names the
 *   builder picks) and bind-mounted read-only at their client paths inside the sandbox, after the
 *   job roots. Paths `sourcePathProblem` refuses (the toolchain's own directories, outputs, the
 *   job's directories) are skipped, and the response lists only what was placed.
 * - **The main source file** sits at the path the compiler is given (the object's `DW_AT_name`
 *   is that path as written on the command line), where the preprocessed text must be compiled.
 *   gcc reads its input once at start-up, to the end, then re-opens the file by name for every
 *   excerpt. So the path is a FIFO: the builder writes the preprocessed text into it, renames
 *   the original source over the FIFO, and only then closes its end. The compiler sees end of
 *   file only after the rename, so every later open gets the original: exact excerpts, and an
 *   object byte-identical to a local compile (the compiler never reads the original's bytes for
 *   code). A compiler that never opens its input just leaves the writer pending until `stop`.
 */
import { execFile } from 'node:child_process'
import { constants, openSync } from 'node:fs'
import { mkdir, rename, writeFile } from 'node:fs/promises'
import { Socket } from 'node:net'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import type { SandboxMount } from '../sandbox/types.ts'
import type { JobRequest } from './job-codec.ts'
import { unpackBlob } from './job-compress.ts'
import type { JobMountPlan } from './job-paths.ts'
import { sourcePathProblem } from './source-paths.ts'

const run = promisify(execFile)

export interface StagedSources {
  /** Read-only file mounts, to follow the job roots. */
  mounts: SandboxMount[]
  /** Client paths placed (the main file included when it is served). */
  placed: string[]
  /** Whether the main file is served through the FIFO (else write the text as before). */
  servesMain: boolean
  /**
   * Starts serving the preprocessed text at the input path (call before the compile). False
   * when no FIFO could be made: write the text there instead, and the main file is not placed.
   */
  serve(text: Uint8Array): Promise<boolean>
  /** Releases the writer (after the compile). */
  stop(): void
}

export async function stageSources(
  req: JobRequest,
  plan: JobMountPlan,
  jobDir: string,
  reservedTop: ReadonlySet<string>,
  /** `file`: the compiler reads its input elsewhere, the main source is an ordinary file. */
  main: 'fifo' | 'file' = 'fifo',
): Promise<StagedSources> {
  const none: StagedSources = {
    mounts: [],
    placed: [],
    servesMain: false,
    serve: async () => false,
    stop: () => {},
  }
  if (req.sources === undefined || req.family !== 'gcc') return none
  const data = await unpackBlob(req.sources.data, 'sources')
  const dir = join(jobDir, 'src')
  await mkdir(dir, { recursive: true })
  const mounts: SandboxMount[] = []
  const placed: string[] = []
  const all = req.sources.files.map((f) => f.path)
  let mainBytes: Buffer | undefined
  let off = 0
  for (const [i, f] of req.sources.files.entries()) {
    const bytes = data.subarray(off, off + f.size)
    off += f.size
    if (f.path === req.inputPath) {
      mainBytes = bytes
      continue
    }
    if (sourcePathProblem(f.path, req, all, reservedTop) !== undefined) continue
    const source = join(dir, `f${i}`)
    await writeFile(source, bytes, { mode: 0o444 })
    mounts.push({ kind: 'ro', source, path: f.path })
    placed.push(f.path)
  }
  if (mainBytes === undefined) return { ...none, mounts, placed }
  if (main === 'file') {
    const at = plan.hostPath(req.inputPath)
    await mkdir(dirname(at), { recursive: true })
    await writeFile(at, mainBytes, { mode: 0o644 })
    return { ...none, mounts, placed: [req.inputPath, ...placed] }
  }
  const original = join(dir, 'main')
  await writeFile(original, mainBytes, { mode: 0o644 })
  const fifo = plan.hostPath(req.inputPath)
  let socket: Socket | undefined
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  return {
    mounts,
    placed: [req.inputPath, ...placed],
    servesMain: true,
    serve: async (text) => {
      const made = await run('mkfifo', ['-m', '0644', '--', fifo]).then(
        () => true,
        () => false,
      )
      if (!made) return false
      // The compiler's open for reading waits for a writer; a non-blocking open for writing
      // fails (ENXIO) until that reader is there. So poll: once it opens, the compiler holds
      // the FIFO, and the original can be renamed over the path while it reads.
      let wait = 1
      const attempt = () => {
        if (stopped) return
        let fd: number
        try {
          fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK)
        } catch {
          wait = Math.min(wait * 2, 8)
          timer = setTimeout(attempt, wait)
          return
        }
        const s = new Socket({ fd, readable: false, writable: true })
        socket = s
        s.on('error', () => {})
        s.write(text, (err) => {
          if (err) return
          // All of the text is in the pipe: put the original in place, then send EOF.
          rename(original, fifo).then(
            () => s.destroy(),
            () => s.destroy(),
          )
        })
      }
      attempt()
      return true
    },
    stop: () => {
      stopped = true
      clearTimeout(timer)
      socket?.destroy()
    },
  }
}
