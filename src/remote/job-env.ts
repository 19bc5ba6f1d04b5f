/**
 * The environment a remote compile sees: a fixed PATH for the toolchain tree plus the few client
 * variables that change what the compiler prints or produces once the source is preprocessed
 * (reproducible-build dates, locale and colours of diagnostics, diagnostic width). Both sides
 * apply the same allow-list: the client sends only these, the builder drops anything else.
 * Variables that would change *which* programs run (COMPILER_PATH, GCC_EXEC_PREFIX) make a
 * compile ineligible instead (`remote-eligibility.ts`).
 */

export const JOB_ENV_ALLOWED: readonly string[] = [
  'SOURCE_DATE_EPOCH',
  'TZ',
  'LANG',
  'LANGUAGE',
  'LC_ALL',
  'LC_CTYPE',
  'LC_MESSAGES',
  'GCC_COLORS',
  'GCC_URLS',
  'TERM',
  'COLUMNS',
]

/** PATH inside the sandbox: the toolchain tree is laid out like a root file system. */
export const JOB_PATH = '/usr/local/bin:/usr/bin:/bin'

export function jobEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const k of JOB_ENV_ALLOWED) {
    const v = env[k]
    if (v !== undefined) out[k] = v
  }
  return out
}
