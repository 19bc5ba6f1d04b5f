import assert from 'node:assert/strict'
import { test } from 'node:test'
import { expandResponseFiles, splitResponseFile } from '../../../src/compilers/response-file.ts'

function reader(files: Record<string, string>): (path: string) => string {
  return (path) => {
    const text = files[path]
    if (text === undefined) throw Object.assign(new Error(`ENOENT ${path}`), { code: 'ENOENT' })
    return text
  }
}

test('splits on any whitespace, including CRLF line ends', () => {
  assert.deepEqual(splitResponseFile(' -c\ta.c\r\n-o  a.o\n\n'), ['-c', 'a.c', '-o', 'a.o'])
  assert.deepEqual(splitResponseFile(''), [])
  assert.deepEqual(splitResponseFile(' \n\t '), [])
})

test('single and double quotes group, and each is literal inside the other', () => {
  assert.deepEqual(splitResponseFile(`-DA='x y' -DB="p q" "it's" 'say "hi"'`), [
    '-DA=x y',
    '-DB=p q',
    "it's",
    'say "hi"',
  ])
})

test('an empty quoted string is an empty argument', () => {
  assert.deepEqual(splitResponseFile(`a '' "" b`), ['a', '', '', 'b'])
})

test('a backslash escapes the next character, inside quotes too (as gcc and clang 14 do)', () => {
  // Checked with `gcc -E -P @file` and `clang -E -P @file`: both give  a b  it's  q"r
  assert.deepEqual(splitResponseFile(`-DC=a\\ b -DD='it\\'s' -DE="q\\"r" a\\\\b`), [
    '-DC=a b',
    "-DD=it's",
    '-DE=q"r',
    'a\\b',
  ])
})

test('expands nested response files relative to the working directory', () => {
  const out = expandResponseFiles(['-O2', '@one', 'x.c'], {
    cwd: '/w',
    readFile: reader({ '/w/one': '-c @sub/two -o x.o', '/w/sub/two': '-DTWO "-I inc"' }),
  })
  assert.deepEqual(out.args, ['-O2', '-c', '-DTWO', '-I inc', '-o', 'x.o', 'x.c'])
  assert.deepEqual(out.unreadable, [])
})

test('a response file that cannot be read is kept literally and reported', () => {
  const out = expandResponseFiles(['@nope', '-c', 'a.c'], { cwd: '/w', readFile: reader({}) })
  assert.deepEqual(out.args, ['@nope', '-c', 'a.c'])
  assert.deepEqual(out.unreadable, ['@nope'])
})

test('a lone @ is an ordinary argument', () => {
  const out = expandResponseFiles(['@', 'a.c'], { cwd: '/w', readFile: reader({}) })
  assert.deepEqual(out.args, ['@', 'a.c'])
  assert.deepEqual(out.unreadable, [])
})

test('a response file including itself stops instead of looping', () => {
  const out = expandResponseFiles(['@loop'], {
    cwd: '/w',
    readFile: reader({ '/w/loop': '@loop' }),
  })
  assert.equal(out.tooDeep, true)
})

test('argv without @ is returned as a copy and no file is read', () => {
  const args = ['-c', 'a.c']
  const out = expandResponseFiles(args, {
    cwd: '/w',
    readFile: () => assert.fail('must not read'),
  })
  assert.deepEqual(out.args, args)
  assert.notEqual(out.args, args)
})
