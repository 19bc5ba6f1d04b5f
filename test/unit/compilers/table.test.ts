/**
 * The table of real command lines (test/fixtures/command-lines): every row goes through
 * parseCompilerArgs and must give the classification and key facts written in the row.
 *
 * captured.json holds lines recorded by a logging compiler wrapper during real builds (CMake,
 * Meson, autotools/libtool from Debian source packages: configure probes included); their
 * cacheable predictions were checked against the files those builds left on disk when the table
 * was made. handwritten.json holds lines written from build systems' documented conventions (the
 * Linux kernel's Kbuild, Xcode, GNUstep, Chromium, the Android NDK…) with expectations by hand.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { parseCompilerArgs } from '../../../src/compilers/parse.ts'
import type { CompilerInvocation } from '../../../src/compilers/types.ts'

interface Row {
  source: string
  compiler: string
  cwd: string
  args: string[]
  files?: Record<string, string>
  expect: Record<string, unknown>
}

function load(name: string): Row[] {
  const url = new URL(`../../fixtures/command-lines/${name}`, import.meta.url)
  return JSON.parse(readFileSync(url, 'utf8')) as Row[]
}

const captured = load('captured.json')
const handwritten = load('handwritten.json')

function run(row: Row): CompilerInvocation {
  return parseCompilerArgs(row.args, {
    compiler: `/usr/bin/${row.compiler}`,
    cwd: row.cwd,
    readFile: (path) => {
      const text = row.files?.[path]
      if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' })
      return text
    },
  })
}

/** Compares only the fields the row states; returns a description of each difference. */
function mismatches(row: Row): string[] {
  const got = run(row) as unknown as Record<string, unknown>
  const out: string[] = []
  for (const [field, want] of Object.entries(row.expect)) {
    try {
      assert.deepStrictEqual(got[field], want)
    } catch {
      const detail = got.cacheable === false ? ` (${String(got.detail)})` : ''
      out.push(
        `${row.compiler} ${row.args.join(' ').slice(0, 160)}\n    ${field}: want ${JSON.stringify(want)}, got ${JSON.stringify(got[field])}${detail}`,
      )
    }
  }
  return out
}

test('the table has at least 150 distinct real command lines', () => {
  const keys = new Set(
    [...captured, ...handwritten].map((r) => JSON.stringify([r.compiler, r.args])),
  )
  assert.ok(keys.size >= 150, `only ${keys.size} distinct lines`)
  for (const row of [...captured, ...handwritten]) assert.ok(row.source.length > 0)
})

test('captured lines from real builds classify as recorded', () => {
  const failures = captured.flatMap(mismatches)
  assert.deepEqual(failures, [], failures.join('\n'))
})

test('hand-written lines (kernel, Xcode, GNUstep, …) classify as expected', () => {
  const failures = handwritten.flatMap(mismatches)
  assert.deepEqual(failures, [], failures.join('\n'))
})

test('the table covers every classification real builds produce', () => {
  const reasons = new Set(
    [...captured, ...handwritten].map((r) =>
      r.expect.cacheable === true ? 'cacheable' : String(r.expect.reason),
    ),
  )
  for (const reason of [
    'cacheable',
    'linking',
    'preprocess-only',
    'dependencies-only',
    'syntax-only',
    'info-query',
    'no-source',
    'multiple-sources',
    'stdin-source',
    'output-to-stdout',
    'unsupported-language',
    'unsupported-option',
    'precompiled-header',
    'bad-response-file',
    'save-temps',
    'multiple-arch',
    'unknown-compiler',
  ]) {
    assert.ok(reasons.has(reason), `no row for ${reason}`)
  }
})
