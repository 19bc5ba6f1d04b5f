/**
 * distcc as Debian ships it: `distccd` on each builder (inside its namespace, listening on its
 * own address only, jobs limited to the builder's slots), the `distcc` client with
 * `DISTCC_HOSTS` naming only the builders (no `localhost`), and `DISTCC_FALLBACK=0` so a job
 * that cannot go remote fails loudly instead of quietly compiling on the client. Preprocessing
 * is local (plain distcc, not pump), as distcc does by default.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { run } from '../lib/proc.ts'
import { cleanEnv } from '../lib/tools/types.ts'
import { type DaemonProcess, startDaemon } from './daemon-process.ts'
import { countLines, type FarmTool, waitUntil } from './farm-tool.ts'
import type { Farm } from './netns.ts'

export async function startDistcc(
  farm: Farm,
  dir: string,
  { slotsPerBuilder, signal }: { slotsPerBuilder: number; signal?: AbortSignal },
): Promise<FarmTool> {
  await mkdir(join(dir, 'client'), { recursive: true })
  const version = (await run('distcc', ['--version'], { allowFailure: true })).stdout.split('\n')[0]
  const daemons: DaemonProcess[] = []
  try {
    for (const b of farm.builders) {
      const argv = [
        ...b.exec,
        'distccd',
        '--daemon',
        '--no-detach',
        '--log-stderr',
        '--log-level',
        'info',
        '--listen',
        b.ip,
        '--allow',
        `${farm.subnet}.0/24`,
        '--jobs',
        String(slotsPerBuilder),
      ]
      daemons.push(
        startDaemon(`distccd@${b.name}`, argv, { log: join(dir, `distccd-${b.name}.log`) }),
      )
    }
    for (const d of daemons) {
      await waitUntil(
        `${d.name} to listen`,
        async () => (await countLines(d.log, /preforking daemon started/)) > 0,
        { timeoutMs: 10_000, ...(signal ? { signal } : {}) },
      )
    }
  } catch (err) {
    for (const d of daemons) await d.stop()
    throw err
  }
  const env = {
    ...cleanEnv(),
    DISTCC_HOSTS: farm.builders.map((b) => `${b.ip}/${slotsPerBuilder}`).join(' '),
    DISTCC_DIR: join(dir, 'client'),
    DISTCC_FALLBACK: '0',
  }
  return {
    name: 'distcc',
    prefix: ['distcc'],
    env,
    slots: slotsPerBuilder * farm.builders.length,
    clientDaemonCpu: async () => 0,
    async remoteJobs() {
      let n = 0
      for (const d of daemons) n += await countLines(d.log, /COMPILE_OK/)
      return n
    },
    describe: () =>
      `${version}; distccd --jobs ${slotsPerBuilder} on each builder; DISTCC_HOSTS="${env.DISTCC_HOSTS}", DISTCC_FALLBACK=0, local preprocessing (no pump), no compression`,
    async stop() {
      for (const d of daemons) await d.stop()
    },
  }
}
