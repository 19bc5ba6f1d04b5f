/**
 * A UTF-8 LC_CTYPE for gcc jobs whose client prints `‘’` quotes (`diag-locale.ts`: such jobs
 * arrive with `LC_ALL=C.UTF-8`). Toolchain trees carry no locale data, so the builder lends its
 * own `C.utf8` locale read-only at `/.meshcc/locale` (a top-level name no client path may use,
 * see `job-paths.ts`) with `LOCPATH` pointing there. Whether the toolchain's C library accepts
 * that data is checked once per toolchain: the driver run in the sandbox with an unknown option
 * must quote it with U+2018/U+2019. Only then does the response carry `utf8-locale`, which the
 * client requires before it trusts such a result.
 */
import { access } from 'node:fs/promises'
import type { SandboxMount, SandboxResult, SandboxSpec } from '../sandbox/types.ts'
import { UTF8_LOCALE_FEATURE } from './diag-locale.ts'
import { JOB_PATH } from './job-env.ts'

export const SANDBOX_LOCALE_DIR = '/.meshcc/locale'
const HOST_LOCALE = '/usr/lib/locale/C.utf8'
const PROBE = '--meshcc-locale-probe'

export interface JobLocale {
  mounts: SandboxMount[]
  env: Record<string, string>
  features: string[]
}

const NONE: JobLocale = { mounts: [], env: {}, features: [] }
const verified = new Map<string, Promise<boolean>>()

type Run = (spec: SandboxSpec, options: { signal?: AbortSignal }) => Promise<SandboxResult>

/** What a job with `env` needs to run gcc in a UTF-8 locale on this builder (or nothing). */
export async function jobLocale(
  env: Readonly<Record<string, string>>,
  driver: string,
  toolchainMounts: readonly SandboxMount[],
  run: Run,
  { signal }: { signal?: AbortSignal } = {},
): Promise<JobLocale> {
  if (env['LC_ALL'] !== 'C.UTF-8') return NONE
  const mounts: SandboxMount[] = [
    { kind: 'ro', source: HOST_LOCALE, path: `${SANDBOX_LOCALE_DIR}/C.utf8` },
  ]
  const localeEnv = { LC_ALL: 'C.UTF-8', LOCPATH: SANDBOX_LOCALE_DIR }
  const key = JSON.stringify([driver, toolchainMounts])
  let ok = verified.get(key)
  if (ok === undefined) {
    ok = check(driver, [...toolchainMounts, ...mounts], localeEnv, run, signal)
    verified.set(key, ok)
    // A check cut short by an abort says nothing: try again next time.
    ok.catch(() => verified.delete(key))
  }
  const good = await ok.catch(() => false)
  return good ? { mounts, env: localeEnv, features: [UTF8_LOCALE_FEATURE] } : NONE
}

async function check(
  driver: string,
  mounts: SandboxMount[],
  env: Record<string, string>,
  run: Run,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  if (
    !(await access(`${HOST_LOCALE}/LC_CTYPE`).then(
      () => true,
      () => false,
    ))
  )
    return false
  const r = await run(
    {
      program: driver,
      args: [PROBE],
      mounts,
      cwd: '/tmp',
      env: { ...env, PATH: JOB_PATH },
      limits: { timeoutMs: 20_000, nproc: 16 },
      maxOutputBytes: 64 * 1024,
    },
    signal === undefined ? {} : { signal },
  )
  return r.stderr.toString('utf8').includes(`\u2018${PROBE}\u2019`)
}
