/**
 * Serves a job's main source through a FIFO, by the sandbox launcher (`launcher.ts`): the
 * launcher makes the FIFO at `rel` under the job root and a writer that hands the text to the
 * compiler once it opens the FIFO and the text is supplied, then renames the original over it
 * (`builder-sources.ts` says why). `supply` writes the text to a private file and lets the
 * writer go; it may come long after the compile started (a job started before its text arrived,
 * `builder-service.ts`). Resolves once the request is sent (a run started afterwards is handled
 * after it); its `answer` is `undefined` when no FIFO could be made, and the whole result
 * `undefined` when there is no launcher: the caller then writes the text as a plain file instead.
 */
import { accessSync, constants, writeFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { sandboxHelperPath } from './helper-path.ts'
import { type LaunchedRun, sandboxLauncher } from './launcher.ts'

export interface FifoServing {
  answer: Promise<LaunchedRun | undefined>
  /** Puts the text in place and lets the writer copy it (once). */
  supply(text: Uint8Array): Promise<void>
}

export async function serveFifoSource(
  where: { root: string; rel: string },
  /** Private files (not under a job root): the text goes to `textFile`; `original` is renamed. */
  files: { textFile: string; original: string },
  { helper = sandboxHelperPath() }: { helper?: string } = {},
): Promise<FifoServing | undefined> {
  if (process.platform !== 'linux' || where.rel === '') return undefined
  try {
    accessSync(helper, constants.X_OK)
  } catch {
    return undefined
  }
  const launcher = await sandboxLauncher(helper)
  if (launcher === undefined) return undefined
  const { answer, go } = launcher.serveFifo(where.root, where.rel, files.textFile, files.original)
  return {
    answer,
    supply: async (text) => {
      // Small texts synchronously: cheaper than a thread-pool round trip (see job-dir-write.ts).
      if (text.length <= 256 * 1024) writeFileSync(files.textFile, text, { mode: 0o600 })
      else await writeFile(files.textFile, text, { mode: 0o600 })
      go()
    },
  }
}
