/**
 * `meshcc doctor`'s checks of the daemon side: whether the daemon answers (and if not, whether
 * that is normal — it starts on demand — or a failed start or a hang), the client's silence
 * limit, and compiles that recently ran without the daemon.
 *
 * Reads the native client's marker files in `$MESHCC_HOME/run` (`start-failed`: a spawn that
 * never came up; `daemon-hung`: a compile that timed out waiting) and its fallback log; see
 * `src/wrapper/native/meshcc.c` and `src/protocol/local-wire.ts`.
 */
import { readdirSync, statSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { NodePaths } from '../config/paths.ts'
import type { DaemonStatus } from '../daemon/control.ts'
import { meshccVersion } from '../daemon/version.ts'
import {
  DEFAULT_CLIENT_TIMEOUT_S,
  HUNG_BACKOFF_S,
  MIN_CLIENT_TIMEOUT_S,
} from '../protocol/local-wire.ts'
import { controlRequest, isDaemonAbsent } from './control-client.ts'
import type { Check } from './doctor-command.ts'

function markerTime(paths: NodePaths, name: string): Date | undefined {
  try {
    return statSync(join(dirname(paths.socket), name)).mtime
  } catch {
    return undefined
  }
}

const clock = (d: Date) => d.toISOString().replace('T', ' ').slice(0, 19)

export async function checkDaemon(paths: NodePaths): Promise<Check[]> {
  const hungAt = markerTime(paths, 'daemon-hung')
  const hungRecently = hungAt !== undefined && Date.now() - hungAt.getTime() < HUNG_BACKOFF_S * 1000
  const hung: Check[] = hungRecently
    ? [
        {
          name: 'daemon',
          status: 'warn',
          detail: `a compile gave up waiting for it at ${clock(hungAt)} UTC; compiles skip it until ${clock(new Date(hungAt.getTime() + HUNG_BACKOFF_S * 1000))} UTC`,
          hint: `they compile locally meanwhile (no cache); see ${paths.logDir}/daemon.log`,
        },
      ]
    : []
  let s: DaemonStatus
  try {
    s = (await controlRequest(paths, 'status', { timeoutMs: 3000 }))['status'] as DaemonStatus
  } catch (err) {
    if (isDaemonAbsent(err)) {
      const failedAt = markerTime(paths, 'start-failed')
      if (failedAt !== undefined) {
        return [
          {
            name: 'daemon',
            status: 'warn',
            detail: `not running; the last start by a compile failed (${clock(failedAt)} UTC)`,
            hint: `see ${paths.logDir}/daemon.log; compiles run without the cache until it starts`,
          },
        ]
      }
      return [{ name: 'daemon', status: 'ok', detail: 'not running (the next compile starts it)' }]
    }
    return [
      {
        name: 'daemon',
        status: 'fail',
        detail: `does not answer on ${paths.socket} (${(err as Error).message})`,
        hint:
          'compiles fall back to the plain compiler after MESHCC_CLIENT_TIMEOUT; `meshcc daemon ' +
          'stop` ends it and the next compile starts a fresh one',
      },
      ...hung,
    ]
  }
  if (s.version !== meshccVersion) {
    return [
      {
        name: 'daemon',
        status: 'warn',
        detail: `pid ${s.pid} runs meshcc ${s.version}, this CLI is ${meshccVersion}`,
        hint: 'run `meshcc daemon stop`; the next compile starts the current version',
      },
      ...hung,
    ]
  }
  return [
    {
      name: 'daemon',
      status: 'ok',
      detail: `running, pid ${s.pid}, ${s.activeRequests} compiles in progress, ${s.socket}`,
    },
    ...hung,
  ]
}

/** `MESHCC_CLIENT_TIMEOUT`, judged the way the native client reads it. */
export function checkClientTimeout(env: NodeJS.ProcessEnv = process.env): Check {
  const text = env['MESHCC_CLIENT_TIMEOUT']
  const name = 'client timeout'
  if (text === undefined || text === '') {
    return { name, status: 'ok', detail: `${DEFAULT_CLIENT_TIMEOUT_S} s (default)` }
  }
  const seconds = Number(text.trim())
  if (text.trim() === '' || !Number.isFinite(seconds) || seconds <= 0) {
    return {
      name,
      status: 'warn',
      detail: `MESHCC_CLIENT_TIMEOUT=${JSON.stringify(text)} is ignored: not a number of seconds`,
      hint: `the default ${DEFAULT_CLIENT_TIMEOUT_S} s applies; set e.g. MESHCC_CLIENT_TIMEOUT=30`,
    }
  }
  const used = Math.max(MIN_CLIENT_TIMEOUT_S, seconds)
  return { name, status: 'ok', detail: `${used} s (MESHCC_CLIENT_TIMEOUT)` }
}

/** Fallback lines the stats have not counted yet: compiles that ran without the daemon. */
export async function checkFallbacks(paths: NodePaths): Promise<Check> {
  const dir = dirname(paths.fallbackLog)
  const base = paths.fallbackLog.slice(dir.length + 1)
  let names: string[]
  try {
    names = readdirSync(dir).filter((n) => n === base || n.startsWith(`${base}.`))
  } catch {
    names = []
  }
  const reasons = new Map<string, number>()
  for (const n of names) {
    const text = await readFile(join(dir, n), 'utf8').catch(() => '')
    for (const line of text.split('\n')) {
      const reason = /^\d+ (\S+)$/.exec(line)?.[1]
      if (reason !== undefined) reasons.set(reason, (reasons.get(reason) ?? 0) + 1)
    }
  }
  const total = [...reasons.values()].reduce((a, b) => a + b, 0)
  if (total === 0) {
    return { name: 'fallbacks', status: 'ok', detail: 'no compile ran without the daemon lately' }
  }
  const list = [...reasons].map(([r, n]) => `${r} ×${n}`).join(', ')
  return {
    name: 'fallbacks',
    status: 'warn',
    detail: `${total} compile${total === 1 ? '' : 's'} ran without the daemon (${list})`,
    hint: '`meshcc stats` counts them under local_fallbacks',
  }
}
