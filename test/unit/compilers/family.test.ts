import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compilerFamily } from '../../../src/compilers/family.ts'

test('gcc-family driver names', () => {
  for (const name of [
    '/usr/bin/gcc',
    'g++',
    'cc',
    'c++',
    'gcc-12',
    '/usr/bin/x86_64-linux-gnu-gcc-12',
    'x86_64-linux-gnu-g++',
    'aarch64-linux-gnu-g++-12',
    'x86_64-w64-mingw32-gcc',
    'x86_64-w64-mingw32-g++-posix',
    'i686-w64-mingw32-gcc-win32',
    'C:\\mingw\\bin\\gcc.exe',
    'gcc-13.2.0',
  ]) {
    assert.equal(compilerFamily(name), 'gcc', name)
  }
})

test('clang-family driver names', () => {
  for (const name of [
    'clang',
    '/usr/bin/clang++',
    'clang-17',
    'clang++-14',
    'aarch64-linux-gnu-clang',
    'x86_64-pc-linux-gnu-clang++-18',
    'clang.exe',
  ]) {
    assert.equal(compilerFamily(name), 'clang', name)
  }
})

test('everything else is unknown', () => {
  for (const name of [
    'icc',
    'cc1',
    'cc1plus',
    'clang-cpp-14',
    'clang-cl',
    'gcc-ar',
    'gcc-ranlib-12',
    'ccache',
    'cpp',
    'rustc',
    'nvcc',
    'tcc',
    'emcc',
  ]) {
    assert.equal(compilerFamily(name), undefined, name)
  }
})
