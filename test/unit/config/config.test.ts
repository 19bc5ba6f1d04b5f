import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import {
  DEFAULT_CACHE_BYTES,
  DEFAULT_IDLE_TIMEOUT_MS,
  loadConfig,
  requestSettings,
} from '../../../src/config/config.ts'

async function withToml(text: string | undefined, fn: (configFile: string) => void) {
  const dir = await mkdtemp(join(tmpdir(), 'meshcc-config-'))
  const configFile = join(dir, 'config.toml')
  if (text !== undefined) await writeFile(configFile, text)
  try {
    fn(configFile)
  } finally {
    await rm(dir, { recursive: true })
  }
}

const configError = { code: 'ERR_MESHCC_CONFIG' }

describe('loadConfig', () => {
  it('has defaults without a file or variables', () =>
    withToml(undefined, (configFile) => {
      const c = loadConfig({}, { configFile })
      assert.equal(c.cacheMaxBytes, DEFAULT_CACHE_BYTES)
      assert.equal(DEFAULT_CACHE_BYTES, 5 * 2 ** 30)
      assert.equal(c.logLevel, 'info')
      assert.equal(c.idleTimeoutMs, DEFAULT_IDLE_TIMEOUT_MS)
      assert.deepEqual(c.warnings, [])
    }))

  it('reads config.toml, and the environment overrides it', () =>
    withToml('cache_size = "500M"\nlog_level = "debug"\nidle_timeout = "10m"\n', (configFile) => {
      const f = loadConfig({}, { configFile })
      assert.equal(f.cacheMaxBytes, 500e6)
      assert.equal(f.logLevel, 'debug')
      assert.equal(f.idleTimeoutMs, 600_000)
      const e = loadConfig(
        { MESHCC_CACHE_SIZE: '1.5GiB', MESHCC_LOG_LEVEL: 'WARN', MESHCC_IDLE_TIMEOUT: 'never' },
        { configFile },
      )
      assert.equal(e.cacheMaxBytes, 1.5 * 2 ** 30)
      assert.equal(e.logLevel, 'warn')
      assert.equal(e.idleTimeoutMs, 0)
      const empty = loadConfig({ MESHCC_CACHE_SIZE: '' }, { configFile })
      assert.equal(empty.cacheMaxBytes, 500e6, 'an empty variable does not override')
    }))

  it('takes numbers in the file as bytes and seconds, 0 as no limit', () =>
    withToml('cache_size = 0\nidle_timeout = 90\n', (configFile) => {
      const c = loadConfig({}, { configFile })
      assert.equal(c.cacheMaxBytes, Number.MAX_SAFE_INTEGER)
      assert.equal(c.idleTimeoutMs, 90_000)
    }))

  it('warns about unknown keys instead of failing', () =>
    withToml('cache_size = "1G"\ncahce_size = "2G"\n[meshh]\nport = 1\n', (configFile) => {
      const c = loadConfig({}, { configFile })
      assert.equal(c.warnings.length, 2)
      assert.match(c.warnings[0]!, /cahce_size/)
    }))

  it('rejects bad values with a hint naming where they came from', () =>
    withToml('cache_size = "lots"\n', (configFile) => {
      assert.throws(
        () => loadConfig({}, { configFile }),
        (err: Error & { hint: string }) => {
          assert.equal((err as unknown as { code: string }).code, 'ERR_MESHCC_CONFIG')
          assert.match(err.message, /config\.toml: cache_size/)
          assert.match(err.hint, /5G/)
          return true
        },
      )
      assert.throws(() => loadConfig({ MESHCC_CACHE_SIZE: '12' }, { configFile }), /minimum/)
      assert.throws(
        () => loadConfig({ MESHCC_LOG_LEVEL: 'loud', MESHCC_CACHE_SIZE: '1G' }, { configFile }),
        /MESHCC_LOG_LEVEL/,
      )
      assert.throws(
        () => loadConfig({ MESHCC_IDLE_TIMEOUT: 'later', MESHCC_CACHE_SIZE: '1G' }, { configFile }),
        configError,
      )
    }))

  it('reports invalid TOML with its line', () =>
    withToml('cache_size = "5G"\nlog_level = \n', (configFile) => {
      assert.throws(
        () => loadConfig({}, { configFile }),
        (err: Error) => {
          assert.match(err.message, /config\.toml:2:\d+: invalid TOML/)
          return true
        },
      )
    }))
})

describe('requestSettings', () => {
  it('defaults', () => {
    assert.deepEqual(requestSettings({}), {
      disabled: false,
      baseDir: undefined,
      cacheMode: 'direct',
      recache: false,
      readOnly: false,
      mode: 'auto',
    })
  })

  it('reads every variable', () => {
    const s = requestSettings({
      MESHCC_DISABLE: 'yes',
      MESHCC_BASE_DIR: '/home/u/src/',
      MESHCC_CACHE_MODE: 'Both',
      MESHCC_RECACHE: '1',
      MESHCC_READONLY: 'true',
      MESHCC_MODE: 'auto',
    })
    assert.deepEqual(s, {
      disabled: true,
      baseDir: '/home/u/src',
      cacheMode: 'both',
      recache: true,
      readOnly: true,
      mode: 'auto',
    })
    assert.equal(requestSettings({ MESHCC_BASE_DIR: '/a/./b//c/../d' }).baseDir, '/a/b/d')
    assert.equal(requestSettings({ MESHCC_BASE_DIR: '/' }).baseDir, '/')
    assert.equal(requestSettings({ MESHCC_RECACHE: '0', MESHCC_DISABLE: '' }).recache, false)
  })

  it('rejects bad values with a hint', () => {
    for (const env of [
      { MESHCC_DISABLE: 'maybe' },
      { MESHCC_BASE_DIR: 'relative/dir' },
      { MESHCC_CACHE_MODE: 'fast' },
      { MESHCC_MODE: 'cloud' },
      { MESHCC_READONLY: '2' },
    ]) {
      assert.throws(
        () => requestSettings(env),
        (err: Error & { code: string; hint: string }) => {
          assert.equal(err.code, 'ERR_MESHCC_CONFIG')
          assert.ok(err.hint.length > 0)
          assert.match(err.message, new RegExp(Object.keys(env)[0]!))
          return true
        },
      )
    }
  })
})
