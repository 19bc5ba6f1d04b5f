/**
 * `meshcc peers [--json] [--once] [--interval SECONDS]`: the members of this node's mesh.
 *
 * On a terminal it is a live view in the spirit of `top` and icemon (`q` quits); with `--once`,
 * or when standard output is not a terminal, it prints the table once; with `--json` it prints
 * exactly one snapshot object `{ "self": {…}, "peers": [ … ] }`, as the daemon gave it.
 *
 * Errors (unknown flag, bad interval, daemon unreachable in one-shot modes) are thrown as meshcc
 * errors for the dispatcher to print; the live view instead shows fetch errors on its status
 * line and keeps retrying.
 *
 * @example
 * ```ts
 * const status = await runPeersCommand(['--json'], { stdout: process.stdout, stderr: process.stderr, env: process.env }, daemonPeersSource(paths))
 * ```
 */
import { runPeersScreen, type ProcessHooks } from '../monitor/peers-screen.ts'
import { renderPeersView } from '../monitor/peers-view.ts'
import { colorEnabled, type Env, type TerminalIn, type TerminalOut } from '../monitor/terminal.ts'
import type { PeersSource } from '../monitor/types.ts'
import { UsageError } from '../errors.ts'
import { parseCommand } from './args.ts'

export const peersHelp = `Usage: meshcc peers [--json] [--once] [--interval SECONDS]

Shows the members of this node's mesh, one row per member (this node marked *):
host, platform, cores used/total, free slots, load (per core), jobs running and queued,
round-trip time, certificate time left (! under 7 days) and toolchains held.
On a terminal the view refreshes in place: q, Esc or Ctrl-C quits, r refreshes now.

  --once                print the table once and exit (also when output is not a terminal)
  --interval SECONDS    time between refreshes of the live view (default 1)
  --json                print one snapshot { "self": {…}, "peers": [ … ] } and exit
`

export interface PeersIo {
  stdout: TerminalOut
  stderr: { write(chunk: string): unknown }
  env: Env
  /** Keys for the live view; default `process.stdin`. */
  stdin?: TerminalIn
  /** Ends the live view as if `q` were pressed. */
  signal?: AbortSignal
  /** Signal and exit hooks of the live view; default `process`. */
  process?: ProcessHooks
}

const ONE_SHOT_TIMEOUT_MS = 10_000

export async function runPeersCommand(
  argv: string[],
  io: PeersIo,
  source: PeersSource,
): Promise<number> {
  const { values } = parseCommand(
    'peers',
    argv,
    { once: { type: 'boolean' }, interval: { type: 'string' } },
    0,
  )
  if (values.help) {
    io.stdout.write(peersHelp)
    return 0
  }
  const intervalMs = parseInterval(values.interval as string | undefined)
  const timeout = AbortSignal.timeout(ONE_SHOT_TIMEOUT_MS)
  const signal = io.signal ? AbortSignal.any([io.signal, timeout]) : timeout
  if (values.json) {
    const snapshot = await source.snapshot(signal)
    io.stdout.write(`${JSON.stringify(snapshot, null, 2)}\n`)
    return 0
  }
  const color = colorEnabled(io.stdout, io.env)
  if (values.once || io.stdout.isTTY !== true) {
    const snapshot = await source.snapshot(signal)
    const columns = io.stdout.isTTY ? io.stdout.columns : Number(io.env['COLUMNS'])
    const width = columns !== undefined && columns > 0 ? columns : 120
    const lines = renderPeersView(snapshot, { width, now: Date.now(), color })
    io.stdout.write(`${lines.join('\n')}\n`)
    return 0
  }
  return await runPeersScreen({
    stdout: io.stdout,
    stdin: io.stdin ?? process.stdin,
    source,
    intervalMs,
    color,
    ...(io.signal ? { signal: io.signal } : {}),
    ...(io.process ? { process: io.process } : {}),
  })
}

/** Seconds (decimals allowed) between 0.1 and 3600; default 1. */
function parseInterval(text: string | undefined): number {
  if (text === undefined) return 1000
  const seconds = Number(text)
  if (text.trim() === '' || !Number.isFinite(seconds) || seconds < 0.1 || seconds > 3600) {
    throw new UsageError(
      `meshcc peers: --interval takes seconds between 0.1 and 3600, not '${text}'`,
      {
        hint: 'e.g. meshcc peers --interval 2',
      },
    )
  }
  return Math.round(seconds * 1000)
}
