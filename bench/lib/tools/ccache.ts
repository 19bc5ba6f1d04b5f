/**
 * ccache as Debian ships it, with its defaults (direct mode on, zstd compression, inode cache
 * off), a fresh cache directory per session, and no system or user configuration file.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { run } from '../proc.ts'
import { cleanEnv, type Counters, type ToolSession } from './types.ts'

export interface CcacheOptions {
  /** Directory to create the session's state in (deleted on close). */
  dir: string
  /** Extra ccache settings (`key = value` in the session's own config file). */
  settings?: Record<string, string>
  label?: string
}

const uncacheableKeys = [
  'autoconf_test',
  'bad_compiler_arguments',
  'called_for_link',
  'called_for_preprocessing',
  'could_not_use_modules',
  'could_not_use_precompiled_header',
  'multiple_source_files',
  'no_input_file',
  'output_to_stdout',
  'unsupported_code_directive',
  'unsupported_compiler_option',
  'unsupported_environment_variable',
  'unsupported_source_language',
]

export async function openCcache(opts: CcacheOptions): Promise<ToolSession> {
  await rm(opts.dir, { recursive: true, force: true })
  const cacheDir = join(opts.dir, 'cache')
  await mkdir(cacheDir, { recursive: true })
  const conf = join(opts.dir, 'ccache.conf')
  const settings = Object.entries(opts.settings ?? {}).map(([k, v]) => `${k} = ${v}\n`)
  await writeFile(conf, settings.join(''))
  // CCACHE_CONFIGPATH replaces /etc/ccache.conf and ~/.config/ccache/ccache.conf.
  const env = { ...cleanEnv(), CCACHE_DIR: cacheDir, CCACHE_CONFIGPATH: conf }
  return {
    tool: 'ccache',
    label: opts.label ?? 'ccache',
    env,
    prefix: ['ccache'],
    outsideCpu: async () => 0,
    async counters(): Promise<Counters> {
      const r = await run('ccache', ['--print-stats'], { env })
      const raw: Record<string, number> = {}
      for (const line of r.stdout.split('\n')) {
        const [k, v] = line.split('\t')
        if (k && v !== undefined) raw[k] = Number(v)
      }
      const n = (k: string) => raw[k] ?? 0
      return {
        hits: n('direct_cache_hit') + n('preprocessed_cache_hit'),
        misses: n('cache_miss'),
        uncacheable: uncacheableKeys.reduce((s, k) => s + n(k), 0),
        fallbacks: 0,
        raw,
      }
    },
    close: () => rm(opts.dir, { recursive: true, force: true }),
  }
}
