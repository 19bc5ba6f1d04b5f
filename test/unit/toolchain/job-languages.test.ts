import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { jobLanguages } from '../../../src/toolchain/job-languages.ts'

describe('job language sets', () => {
  it('covers the front end and the driver a job runs, and nothing else', () => {
    assert.deepEqual(jobLanguages('c', 'c'), ['c'])
    assert.deepEqual(jobLanguages('c++', 'c++'), ['c++'])
    // gcc x.cpp: the C driver runs the C++ front end.
    assert.deepEqual(jobLanguages('c++', 'c'), ['c', 'c++'])
    assert.deepEqual(jobLanguages('objective-c', 'objective-c++'), ['objective-c', 'objective-c++'])
    // Anything else gets the full toolchain.
    assert.equal(jobLanguages('assembler-with-cpp', 'c'), undefined)
    assert.equal(jobLanguages('cuda', 'c++'), undefined)
  })
})
