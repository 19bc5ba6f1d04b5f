/**
 * Smoke test of the sccache-dist set-up alone (no other tool, no measurements): makes the
 * namespaces, starts sccache-dist, compiles a unit a few times from the client and prints what
 * the scheduler and the client's counters say. For debugging the set-up:
 * `node bench/distributed/sccache-smoke.ts` (as root).
 */
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { run } from '../lib/proc.ts'
import { ensureSccache } from '../lib/tools/sccache-install.ts'
import { stopAllDaemons } from './daemon-process.ts'
import { createFarm } from './netns.ts'
import { startSccacheDist } from './sccache-dist.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const dir = join(root, 'bench', 'work', 'sccache-smoke')
const log = (s: string) => console.error(`[smoke] ${s}`)
await rm(dir, { recursive: true, force: true })
await mkdir(dir, { recursive: true })
const farm = await createFarm({ rate: '1gbit' })
let code = 0
try {
  const bins = await ensureSccache(root, { log })
  const t0 = Date.now()
  const tool = await startSccacheDist(farm, join(dir, 'tool'), bins, { slotsPerBuilder: 2 })
  log(`started in ${Date.now() - t0} ms (probe compile included): ${tool.describe()}`)
  await writeFile(join(dir, 'tiny.c'), 'int tiny(int x) { return x * 3 + 1; }\n')
  const ns = farm.client.exec
  for (let i = 0; i < 4; i++) {
    const c0 = await tool.clientDaemonCpu()
    const r0 = await tool.remoteJobs()
    const t = Date.now()
    await run(ns[0]!, [...ns.slice(1), ...tool.prefix, 'gcc', '-O2', '-c', 'tiny.c', '-o', 't.o'], {
      cwd: dir,
      env: tool.env,
    })
    log(
      `job ${i}: ${Date.now() - t} ms wall, client daemon ${(((await tool.clientDaemonCpu()) - c0) * 1000).toFixed(0)} ms CPU, remote +${(await tool.remoteJobs()) - r0}`,
    )
  }
  log(`builder toolchains: ${JSON.stringify([...(await tool.builderToolchains())])}`)
  log(`client toolchain bytes: ${await tool.clientToolchainBytes()}`)
  const s = await tool.counters?.()
  log(
    `counters: ${JSON.stringify({ dist_compiles: s?.['dist_compiles'], dist_errors: s?.['dist_errors'], forced_recaches: s?.['forced_recaches'] })}`,
  )
  await tool.restartBuildersFresh()
  log(`after restart: ${JSON.stringify([...(await tool.builderToolchains())])}`)
  const t = Date.now()
  await run(ns[0]!, [...ns.slice(1), ...tool.prefix, 'gcc', '-O2', '-c', 'tiny.c', '-o', 't.o'], {
    cwd: dir,
    env: tool.env,
  })
  log(
    `first job after restart: ${Date.now() - t} ms, ${JSON.stringify([...(await tool.builderToolchains())])}`,
  )
  await tool.stop()
} catch (err) {
  console.error((err as Error).stack)
  code = 1
} finally {
  await stopAllDaemons()
  await farm.destroy()
  await rm(dir, { recursive: true, force: true })
}
process.exit(code)
