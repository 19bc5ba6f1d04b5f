/**
 * `meshcc daemon start|status|stop`.
 *
 * `start` spawns `dist/daemon/main.js` detached (its own session, stdio on /dev/null) and waits
 * until it answers; `stop` asks the daemon to stop over the control channel and waits until its
 * pid is gone (if the daemon does not answer but its pid file names a live daemon, SIGTERM).
 */
import type { NodePaths } from '../config/paths.ts'
import type { DaemonStatus } from '../daemon/control.ts'
import { isDaemonProcess, readPidFile, waitForExit } from '../daemon/lifecycle.ts'
import { DaemonUnavailableError, UsageError } from '../errors.ts'
import { parseCommand } from './args.ts'
import { controlRequest } from './control-client.ts'
import { commandHelp } from './help.ts'
import { type Output, printJson } from './output.ts'
import { daemonEntry, spawnDetachedDaemon } from './spawn-daemon.ts'

export async function daemonCommand(args: string[], o: Output, paths: NodePaths): Promise<number> {
  const { values, positionals } = parseCommand(
    'daemon',
    args,
    { foreground: { type: 'boolean' } },
    1,
  )
  const sub = positionals[0]
  if (values.help || sub === undefined) {
    if (sub === undefined && !values.help)
      throw new UsageError('meshcc daemon: which action? start, status or stop')
    o.out(commandHelp['daemon']!)
    return 0
  }
  if (values.foreground && sub !== 'start')
    throw new UsageError('--foreground only goes with start')
  switch (sub) {
    case 'status':
      return status(o, paths)
    case 'start':
      return values.foreground ? foreground() : start(o, paths)
    case 'stop':
      return stop(o, paths)
  }
  throw new UsageError(`meshcc daemon: unknown action '${sub}' (start, status or stop)`)
}

async function queryStatus(paths: NodePaths): Promise<DaemonStatus | undefined> {
  try {
    return (await controlRequest(paths, 'status', { timeoutMs: 3000 }))['status'] as DaemonStatus
  } catch (err) {
    if (err instanceof DaemonUnavailableError) return undefined
    throw err
  }
}

async function status(o: Output, paths: NodePaths): Promise<number> {
  const s = await queryStatus(paths)
  if (o.json)
    printJson(
      o,
      s ? { running: true, ...s } : { running: false, socket: paths.socket, home: paths.home },
    )
  else if (s) {
    o.out(
      [
        'daemon: running',
        `  pid:      ${s.pid}`,
        `  version:  ${s.version} (node ${s.node})`,
        `  uptime:   ${formatUptime(s.uptimeMs)}`,
        `  socket:   ${s.socket}`,
        `  requests: ${s.servedRequests} served, ${s.activeRequests} running`,
      ].join('\n'),
    )
  } else o.out(`daemon: not running (socket ${paths.socket})`)
  return s ? 0 : 3
}

async function start(o: Output, paths: NodePaths): Promise<number> {
  let s = await queryStatus(paths)
  const already = s !== undefined
  if (!s) {
    spawnDetachedDaemon(paths.home)
    const deadline = Date.now() + 10_000
    while (!s && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50))
      s = await queryStatus(paths)
    }
    if (!s) {
      throw new DaemonUnavailableError(`the daemon did not come up within 10 s`, {
        hint: `see ${paths.logDir}/daemon.log`,
      })
    }
  }
  if (o.json) printJson(o, { running: true, alreadyRunning: already, ...s })
  else o.out(already ? `daemon: already running (pid ${s.pid})` : `daemon: started (pid ${s.pid})`)
  return 0
}

async function foreground(): Promise<number> {
  // The entry module runs the daemon and exits the process when it stops.
  await import(daemonEntry())
  return 0
}

async function stop(o: Output, paths: NodePaths): Promise<number> {
  let pid: number | undefined
  try {
    pid = (await controlRequest(paths, 'stop', { timeoutMs: 3000 }))['pid'] as number
  } catch (err) {
    if (!(err instanceof DaemonUnavailableError)) throw err
    const recorded = await readPidFile(paths)
    if (recorded !== undefined && isDaemonProcess(recorded)) {
      process.kill(recorded, 'SIGTERM')
      pid = recorded
    }
  }
  if (pid === undefined) {
    if (o.json) printJson(o, { running: false, stopped: false })
    else o.out('daemon: not running')
    return 0
  }
  if (!(await waitForExit(pid, 15_000))) {
    throw new DaemonUnavailableError(`daemon pid ${pid} did not exit within 15 s`, {
      hint: `kill it by hand (kill ${pid}) and see ${paths.logDir}/daemon.log`,
    })
  }
  if (o.json) printJson(o, { running: false, stopped: true, pid })
  else o.out(`daemon: stopped (pid ${pid})`)
  return 0
}

function formatUptime(ms: number): string {
  const s = Math.floor(ms / 1000)
  const parts = [
    [Math.floor(s / 86400), 'd'],
    [Math.floor(s / 3600) % 24, 'h'],
    [Math.floor(s / 60) % 60, 'm'],
    [s % 60, 's'],
  ] as const
  const shown = parts.filter(([n], i) => n > 0 || i === 3)
  return shown.map(([n, u]) => `${n}${u}`).join(' ')
}
