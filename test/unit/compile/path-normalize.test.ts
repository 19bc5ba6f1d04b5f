import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  commonAncestor,
  FrameMapper,
  KeyPaths,
  mappedCwd,
} from '../../../src/compile/path-normalize.ts'

describe('KeyPaths', () => {
  it('rewrites absolute paths under the base dir relative to the cwd, nothing else', () => {
    const p = new KeyPaths('/home/u/a/build', '/home/u')
    assert.equal(p.normalize('/home/u/a/src/x.c'), '../src/x.c')
    assert.equal(p.normalize('/home/u/a/build'), '.')
    assert.equal(p.normalize('/usr/include/stdio.h'), '/usr/include/stdio.h')
    assert.equal(
      p.normalize('/home/user2/x.h'),
      '/home/user2/x.h',
      'prefix must end at a separator',
    )
    assert.equal(p.normalize('rel/x.h'), 'rel/x.h')
    assert.equal(p.checkoutRoot(), '/home/u/a')
  })

  it('does nothing without a base dir', () => {
    const p = new KeyPaths('/home/u/a', undefined)
    assert.equal(p.normalize('/home/u/a/x.c'), '/home/u/a/x.c')
    assert.equal(p.rewrote, false)
    assert.equal(p.checkoutRoot(), undefined)
  })

  it('normalizes the from part of prefix maps, keeps the to part and compilation dirs', () => {
    const p = new KeyPaths('/b/c1/build', '/b')
    assert.equal(
      p.keyArg({ kind: 'path', option: '-fdebug-prefix-map=', path: '/b/c1' }),
      '-fdebug-prefix-map=\0\0base\0..',
    )
    assert.equal(p.keyArg({ kind: 'path', option: '-I', path: '../inc' }), '-I\0../inc')
    assert.notEqual(
      p.keyArg({ kind: 'path', option: '-I', path: '/b/c1/inc' }),
      p.keyArg({ kind: 'path', option: '-I', path: '../inc' }),
      'an absolute and a relative spelling never share a key',
    )
    assert.equal(p.keyArg({ kind: 'plain', value: '=/co' }), '=/co')
    assert.equal(
      p.keyArg({ kind: 'plain', value: '-ffile-prefix-map=/b/c1=.' }),
      '-ffile-prefix-map=\0base\0..=.',
    )
    assert.equal(
      p.keyArg({ kind: 'plain', value: '-fdebug-compilation-dir=/b/c1' }),
      '-fdebug-compilation-dir=/b/c1',
    )
  })
})

describe('helpers', () => {
  it('commonAncestor', () => {
    assert.equal(commonAncestor('/a/b/c', '/a/b/d/e'), '/a/b')
    assert.equal(commonAncestor('/a/b', '/a/bc'), '/a')
    assert.equal(commonAncestor('/x', '/y'), '/')
  })

  it('mappedCwd applies matching file/debug maps only', () => {
    const maps = [
      { kind: 'macro' as const, from: '/src', to: 'M' },
      { kind: 'debug' as const, from: '/src/co', to: '/co' },
    ]
    assert.deepEqual(mappedCwd('/src/co/build', maps), ['/co/build'])
    assert.deepEqual(mappedCwd('/other', maps), ['/other'])
  })

  it('FrameMapper moves paths and text from one checkout to another', () => {
    const f = FrameMapper.create('/b/c1', '/b/c1/build', '/b/c2/build')
    assert.ok(f)
    assert.equal(f.path('/b/c1/inc/a.h'), '/b/c2/inc/a.h')
    assert.equal(f.path('/b/c10/inc/a.h'), '/b/c10/inc/a.h')
    assert.equal(f.text('/b/c1/src/a.c:3: warning: x\n'), '/b/c2/src/a.c:3: warning: x\n')
    assert.equal(FrameMapper.create('/b/c1', '/b/c1/build', '/b/c1/build'), undefined)
  })
})
