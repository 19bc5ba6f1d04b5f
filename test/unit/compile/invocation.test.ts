import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadedDefaultConfigFiles } from '../../../src/compile/invocation.ts'

test('default configuration files: skipped by --config before clang 16, by --no-default-config', () => {
  const files = ['/opt/llvm/bin/x86_64-clang.cfg']
  const old = { defaultConfigFiles: files, explicitConfigReplacesDefault: true }
  const recent = { defaultConfigFiles: files, explicitConfigReplacesDefault: false }
  const plain = ['-c', 'a.c']
  assert.deepEqual(loadedDefaultConfigFiles(old, plain), files)
  assert.deepEqual(loadedDefaultConfigFiles(recent, plain), files)
  for (const args of [
    ['--config', 'x/o.cfg', '-c', 'a.c'],
    ['--config=x/o.cfg', '-c', 'a.c'],
  ]) {
    assert.deepEqual(loadedDefaultConfigFiles(old, args), [], args.join(' '))
    assert.deepEqual(loadedDefaultConfigFiles(recent, args), files, args.join(' '))
  }
  assert.deepEqual(loadedDefaultConfigFiles(recent, ['--no-default-config', ...plain]), [])
  assert.deepEqual(
    loadedDefaultConfigFiles(
      { defaultConfigFiles: [], explicitConfigReplacesDefault: true },
      plain,
    ),
    [],
  )
})
