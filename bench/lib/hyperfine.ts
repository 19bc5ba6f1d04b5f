/**
 * hyperfine in no-shell mode (`-N`): each command is exec'd directly, so the figures hold the
 * command's own start-up and nothing of a shell. Results come back from its JSON export with
 * every run's wall time, so rounds can be pooled.
 */
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { run } from './proc.ts'

export interface HyperfineCommand {
  name: string
  argv: readonly string[]
}

export interface HyperfineResult {
  name: string
  /** Wall seconds of every run. */
  times: number[]
  /** Mean user / system CPU seconds per run (of the command's own process tree). */
  user: number
  system: number
}

export interface HyperfineOptions {
  cwd: string
  env: NodeJS.ProcessEnv
  scratch: string
  warmup: number
  runs: number
  signal?: AbortSignal
}

/** Arguments are joined with spaces for hyperfine, which splits them again: no spaces allowed. */
function commandLine(argv: readonly string[]): string {
  for (const a of argv) {
    if (/[\s'"\\]/.test(a))
      throw new Error(`hyperfine -N cannot pass the argument ${JSON.stringify(a)}`)
  }
  return argv.join(' ')
}

export async function hyperfine(
  commands: readonly HyperfineCommand[],
  opts: HyperfineOptions,
): Promise<HyperfineResult[]> {
  const out = join(opts.scratch, `hyperfine-${process.pid}-${Date.now()}.json`)
  const args = [
    '-N',
    '--style',
    'none',
    '--warmup',
    String(opts.warmup),
    '--runs',
    String(opts.runs),
  ]
  args.push('--export-json', out)
  for (const c of commands) args.push('--command-name', c.name, commandLine(c.argv))
  await run('hyperfine', args, {
    cwd: opts.cwd,
    env: opts.env,
    ...(opts.signal ? { signal: opts.signal } : {}),
  })
  const json = JSON.parse(await readFile(out, 'utf8')) as {
    results: { command: string; times: number[]; user: number; system: number }[]
  }
  await rm(out, { force: true })
  return json.results.map((r) => ({
    name: r.command,
    times: r.times,
    user: r.user,
    system: r.system,
  }))
}
