/**
 * Checks the parser's predictions (output path, depfile path and targets, extra outputs) against
 * what the installed gcc and clang really write. Skipped when a compiler is missing.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { quoteTarget } from '../../../src/compilers/depfile.ts'
import { parseCompilerArgs } from '../../../src/compilers/parse.ts'

const dir = mkdtempSync(join(tmpdir(), 'meshcc-parse-'))
after(() => rmSync(dir, { recursive: true, force: true }))

function has(compiler: string): boolean {
  return spawnSync(compiler, ['--version'], { stdio: 'ignore' }).status === 0
}

function listAll(root: string): string[] {
  const out: string[] = []
  for (const entry of readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath, entry.name).slice(root.length + 1))
  }
  return out.sort()
}

/** Runs one compile in a fresh directory and compares every file it wrote with the prediction. */
function check(compiler: string, args: string[]): void {
  const cwd = mkdtempSync(join(dir, 'c-'))
  mkdirSync(join(cwd, 'sub'))
  mkdirSync(join(cwd, 'out'))
  writeFileSync(join(cwd, 'sub/a.c'), '#include "h.h"\nint f(void) { return X; }\n')
  writeFileSync(join(cwd, 'sub/h.h'), '#define X 1\n')
  const before = new Set(listAll(cwd))
  const inv = parseCompilerArgs(args, { compiler, cwd })
  if (!inv.cacheable) assert.fail(`${args.join(' ')}: ${inv.reason} ${inv.detail}`)
  const run = spawnSync(compiler, args, { cwd, encoding: 'utf8', timeout: 60_000 })
  assert.equal(run.status, 0, run.stderr)
  const written = listAll(cwd).filter((f) => !before.has(f))
  const predicted = [inv.output, ...inv.extraOutputs.map((x) => x.path)]
  if (inv.depfile) predicted.push(inv.depfile.path)
  assert.deepEqual(written, predicted.sort(), `${compiler} ${args.join(' ')}`)
  if (inv.depfile) {
    const text = readFileSync(join(cwd, inv.depfile.path), 'utf8')
    const targets = inv.depfile.targets.map((t) => (t.quoted ? quoteTarget(t.name) : t.name))
    assert.equal(
      text.slice(0, text.indexOf(':')),
      targets.join(' '),
      `${compiler} ${args.join(' ')}`,
    )
  }
}

const cases: string[][] = [
  ['-MD', '-c', 'sub/a.c', '-o', 'out/b.o'],
  ['-MMD', '-MP', '-c', 'sub/a.c', '-o', 'out/noext'],
  ['-MD', '-S', 'sub/a.c'],
  ['-MD', '-c', 'sub/a.c'],
  ['-Wp,-MMD,out/.b.o.d', '-c', '-o', 'out/b.o', 'sub/a.c'],
  ['-c', 'sub/a.c', '-o', 'out/x$y.o', '-MMD', '-MT', 'raw$', '-MQ', 'q $x'],
  ['-g', '-gsplit-dwarf', '--coverage', '-fstack-usage', '-c', 'sub/a.c', '-o', 'out/c.o'],
  ['-gsplit-dwarf', '-c', 'sub/a.c', '-o', 'out/d.o'],
  ['-x', 'c', '-c', 'sub/a.c', '-o', 'out/e.o', '-MD', '-MF', 'deps.d'],
]

for (const compiler of ['gcc', 'clang']) {
  test(`${compiler}: predicted outputs are exactly the files written`, {
    skip: !has(compiler),
  }, () => {
    for (const args of cases) check(compiler, args)
    if (compiler === 'gcc') check('gcc', ['-fcallgraph-info', '-c', 'sub/a.c', '-o', 'out/f.o'])
    if (compiler === 'clang') {
      check('clang', ['-fsave-optimization-record', '-c', 'sub/a.c', '-o', 'out/g.o'])
      check('clang', ['-emit-llvm', '-c', 'sub/a.c'])
      check('clang', ['-emit-llvm', '-S', 'sub/a.c', '-MD'])
    }
  })
}
