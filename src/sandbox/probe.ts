/**
 * Finds out whether this machine can run remote compiles safely, by doing it: the helper's
 * `--probe` runs the helper itself inside a full sandbox, where it checks from the inside that
 * capabilities are gone, no_new_privs and seccomp are on, it is in its own PID and network
 * namespaces, it cannot open an IP socket, create a namespace or write to the root, and sees
 * no host file. The answer is the level reached or the reason there is none; a builder below
 * `MIN_REMOTE_LEVEL` refuses remote jobs, and `meshcc doctor` prints the reason.
 */
import { spawn } from 'node:child_process'
import { constants, accessSync } from 'node:fs'
import type { Readable } from 'node:stream'
import { sandboxHelperPath } from './helper-path.ts'
import { parseSandboxStatus } from './status.ts'
import { MIN_REMOTE_LEVEL, type SandboxLevel } from './types.ts'

export type SandboxProbe =
  | { ok: true; level: SandboxLevel; landlockAbi: number; detail: string }
  | { ok: false; level: SandboxLevel; reason: string; hint: string }

const PROBE_TIMEOUT_MS = 15_000

function levelDetail(level: SandboxLevel, abi: number): string {
  const base = 'user, mount, pid, net, ipc, uts namespaces; seccomp; rlimits'
  return level === 3 ? `${base}; Landlock ABI ${abi}` : `${base}; no Landlock (kernel < 5.13)`
}

function hintFor(reason: string): string {
  if (/uid map|id maps|Permission denied|EPERM|Operation not permitted/i.test(reason))
    return 'unprivileged user namespaces look blocked: on Ubuntu ≥ 23.10 set kernel.apparmor_restrict_unprivileged_userns=0 or install an AppArmor profile allowing userns for the helper, or run the builder as root'
  if (/namespaces/i.test(reason))
    return 'the kernel refuses new namespaces (user.max_user_namespaces = 0, or a container without them); run the builder on a host or VM that allows them'
  return 'see native-sandbox/README.md; until this works the node compiles only for itself'
}

function interpret(status: string, stdout: string, stderr: string): SandboxProbe {
  let level: SandboxLevel = 1
  try {
    const st = parseSandboxStatus(status)
    level = st.sandboxLevel
    if (st.error !== null) return { ok: false, level, reason: st.error, hint: hintFor(st.error) }
    const inside = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
      ok?: boolean
      checks?: Record<string, boolean>
    }
    const failed = Object.entries(inside.checks ?? {})
      .filter(([, v]) => !v)
      .map(([k]) => k)
    if (st.exit !== 0 || inside.ok !== true || failed.length > 0) {
      const reason = `sandbox self-check failed: ${failed.join(', ') || `exit ${st.exit}`}`
      return { ok: false, level: 1, reason, hint: hintFor(reason) }
    }
    if (level < MIN_REMOTE_LEVEL) {
      const reason = `sandbox level ${level} is below ${MIN_REMOTE_LEVEL}`
      return { ok: false, level, reason, hint: hintFor(reason) }
    }
    return {
      ok: true,
      level,
      landlockAbi: st.landlockAbi,
      detail: levelDetail(level, st.landlockAbi),
    }
  } catch {
    const last = stderr.trim().split('\n').at(-1) || 'no status from the helper'
    const reason = last.replace(/^meshcc-sandbox: /, '')
    return { ok: false, level, reason, hint: hintFor(reason) }
  }
}

function runProbe(helper: string, signal?: AbortSignal): Promise<SandboxProbe> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(helper, ['--probe', '--status-fd', '3'], {
      env: {},
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      timeout: PROBE_TIMEOUT_MS,
      ...(signal === undefined ? {} : { signal }),
    })
    const text = ['', '', '']
    const streams = [child.stdout, child.stderr, child.stdio[3] as Readable | null]
    streams.forEach((s, i) => {
      s?.on('data', (c: Buffer) => {
        if (text[i]!.length < 1 << 16) text[i] += c.toString('utf8')
      })
    })
    child.on('error', () => {}) // reported through 'close' (no status) or the abort below
    child.on('close', () => {
      if (signal?.aborted) reject(signal.reason)
      else resolvePromise(interpret(text[2]!, text[0]!, text[1]!))
    })
  })
}

/**
 * Probes the sandbox (once per process unless `fresh`; ~15 ms). Never rejects except on abort:
 * every failure is an answer with a reason.
 */
let cached: Promise<SandboxProbe> | undefined
export function probeSandbox({
  signal,
  fresh = false,
  helper = sandboxHelperPath(),
}: {
  signal?: AbortSignal
  fresh?: boolean
  helper?: string
} = {}): Promise<SandboxProbe> {
  if (process.platform !== 'linux')
    return Promise.resolve({
      ok: false,
      level: 0,
      reason: `no sandbox for ${process.platform} builders yet`,
      hint: 'this node can be a client; builders run on Linux',
    })
  try {
    accessSync(helper, constants.X_OK)
  } catch {
    return Promise.resolve({
      ok: false,
      level: 0,
      reason: `sandbox helper not built: ${helper}`,
      hint: 'run `node scripts/build.mjs` (needs a C compiler and make)',
    })
  }
  if (fresh || cached === undefined || signal !== undefined) {
    const p = runProbe(helper, signal)
    if (signal === undefined) cached = p
    return p
  }
  return cached
}
