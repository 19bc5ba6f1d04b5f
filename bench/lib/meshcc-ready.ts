/**
 * Makes sure the meshcc under test is built and does what the figures assume: a second compile
 * of the same file is a cache hit served without falling back to the plain compiler. Otherwise
 * meshcc is left out of the run (with the reason in the report) rather than measured as
 * something it is not.
 */
import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { run } from './proc.ts'
import { openMeshcc } from './tools/meshcc.ts'

export interface MeshccReadiness {
  available: boolean
  detail: string
}

async function revision(root: string): Promise<string> {
  const head = await run('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, allowFailure: true })
  const dirty = await run('git', ['status', '--porcelain', '--', 'src', 'scripts'], {
    cwd: root,
    allowFailure: true,
  })
  return `${head.stdout.trim() || 'unknown'}${dirty.stdout.trim() ? ' + uncommitted changes' : ''}`
}

export async function meshccReadiness(
  root: string,
  scratch: string,
  { rebuild, log, signal }: { rebuild: boolean; log: (s: string) => void; signal?: AbortSignal },
): Promise<MeshccReadiness> {
  const bin = join(root, 'bin', 'meshcc')
  const sig = signal ? { signal } : {}
  if (rebuild || !existsSync(bin) || !existsSync(join(root, 'dist'))) {
    log('building meshcc (node scripts/build.mjs)')
    const r = await run(process.execPath, [join(root, 'scripts', 'build.mjs')], {
      cwd: root,
      allowFailure: true,
      ...sig,
    })
    if (r.code !== 0 || !existsSync(bin)) {
      const why = (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')
      return { available: false, detail: `not measured: build failed (${why})` }
    }
  }
  const dir = join(scratch, 'smoke')
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'smoke.c'), 'int smoke(int x) { return x * 3; }\n')
  const s = await openMeshcc({ root, dir: join(dir, 'state') })
  try {
    const argv = [...s.prefix.slice(1), 'gcc', '-c', 'smoke.c', '-o', 'smoke.o']
    for (let i = 0; i < 2; i++) await run(s.prefix[0]!, argv, { cwd: dir, env: s.env, ...sig })
    const c = await s.counters()
    if (!c || c.hits < 1 || c.fallbacks > 0) {
      const log = await readFile(join(s.env['MESHCC_HOME']!, 'run', 'fallbacks.log'), 'utf8').catch(
        () => '',
      )
      const reasons = [
        ...new Set(
          log
            .split('\n')
            .map((l) => l.split(' ')[1])
            .filter(Boolean),
        ),
      ]
      const why = `hits ${c?.hits}, misses ${c?.misses}, fallbacks ${c?.fallbacks}${reasons.length ? ` (${reasons.join(', ')})` : ''}`
      return {
        available: false,
        detail: `not measured: a second compile was not a cache hit: ${why}`,
      }
    }
  } catch (err) {
    return {
      available: false,
      detail: `not measured: smoke test failed (${(err as Error).message.split('\n')[0]})`,
    }
  } finally {
    await s.close()
  }
  return {
    available: true,
    detail: `bin/meshcc (native client) + daemon, local-only; revision ${await revision(root)}`,
  }
}
