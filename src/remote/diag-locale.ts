/**
 * The locale side of exact gcc diagnostics. gcc quotes names with U+2018/U+2019 when its
 * LC_CTYPE codeset is UTF-8 and with `'` otherwise, and translates its messages when a catalog
 * for the LC_MESSAGES language is installed. A builder's sandbox holds no locale data or
 * catalogs of the client, so the client learns how *its* gcc prints in *this* environment (one
 * run of the driver with an unknown option, cached per compiler and locale variables) and asks
 * the builder for exactly that:
 *
 * - `ascii`: English, `'` quotes: the job runs with `LC_ALL=C`;
 * - `utf8`: English, `‘’` quotes: the job runs with `LC_ALL=C.UTF-8`, which the builder can
 *   honour only with locale data (`builder-locale.ts`); it says so with the response feature
 *   `utf8-locale`, and without it the result is not exact;
 * - `foreign`: translated messages: not reproducible remotely (the result is not exact).
 */
import { execFile } from 'node:child_process'

export type DiagStyle = 'ascii' | 'utf8' | 'foreign'

/** Response feature of a builder that ran gcc with a UTF-8 LC_CTYPE. */
export const UTF8_LOCALE_FEATURE = 'utf8-locale'

const LOCALE_VARS = ['LANG', 'LANGUAGE', 'LC_ALL', 'LC_CTYPE', 'LC_MESSAGES'] as const
const PROBE = '--meshcc-locale-probe'
const ENGLISH = `unrecognized command-line option ${''}`

const cache = new Map<string, Promise<DiagStyle>>()

/** How `compiler` prints diagnostics under `env` (cached). */
export function diagStyle(
  compiler: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<DiagStyle> {
  const vars = Object.fromEntries(LOCALE_VARS.flatMap((k) => (env[k] ? [[k, env[k]]] : [])))
  const key = JSON.stringify([compiler, vars])
  let hit = cache.get(key)
  if (hit === undefined) {
    hit = probe(compiler, { PATH: env['PATH'] ?? '/usr/bin:/bin', ...vars })
    cache.set(key, hit)
  }
  return hit
}

function probe(compiler: string, env: Record<string, string>): Promise<DiagStyle> {
  return new Promise((resolve) => {
    execFile(compiler, [PROBE], { env, encoding: 'buffer', timeout: 10_000 }, (_err, _o, e) => {
      const text = Buffer.isBuffer(e) ? e.toString('utf8') : String(e)
      if (text.includes(`${ENGLISH}\u2018${PROBE}\u2019`)) resolve('utf8')
      else if (text.includes(`${ENGLISH}'${PROBE}'`)) resolve('ascii')
      else resolve('foreign')
    })
  })
}

/** The locale variables a job runs with for `style` (none for `foreign`: not exact anyway). */
export function diagLocaleEnv(style: DiagStyle): Record<string, string> {
  if (style === 'ascii') return { LC_ALL: 'C' }
  if (style === 'utf8') return { LC_ALL: 'C.UTF-8' }
  return {}
}
