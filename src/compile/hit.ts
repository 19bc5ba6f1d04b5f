/**
 * Replaying a cache hit: writes every output the compile would have left (object, extra outputs
 * such as the split-DWARF `.dwo` or coverage `.gcno`, the depfile regenerated for this
 * invocation's targets) and returns the cached stdout/stderr with exit code 0.
 *
 * Extra outputs the compile did not write (recorded as absent) are not written, and an existing
 * file of that name is left alone, as the compiler leaves it.
 *
 * Returns undefined when this entry cannot reproduce what this invocation would produce (missing
 * output role, colors wanted but not cached, depfile that cannot be regenerated exactly): the
 * caller then compiles as on a miss, which overwrites the entry.
 *
 * @example
 * ```ts
 * const reply = replayHit(ctx, result)
 * if (reply) return reply
 * ```
 */
import { resolve } from 'node:path'
import type { CachedResult } from '../cache/types.ts'
import type { RequestContext } from './context.ts'
import { type DepTarget, formatDepfileBytes } from './depfile-replay.ts'
import { FrameMapper } from './path-normalize.ts'
import { readMeta } from './result-meta.ts'
import { replayStderr } from './stderr-replay.ts'
import type { CompileReply } from './types.ts'
import { writeOutputAtomic } from './write-outputs.ts'

export function sameTargets(a: readonly DepTarget[], b: readonly DepTarget[]): boolean {
  return (
    a.length === b.length && a.every((t, i) => t.name === b[i]?.name && t.quoted === b[i]?.quoted)
  )
}

export function replayHit(ctx: RequestContext, result: CachedResult): CompileReply | undefined {
  const { inv, request } = ctx
  const meta = readMeta(result.meta)
  if (meta === undefined || result.exitCode !== 0) return undefined
  if (meta.specific && meta.cwd !== request.cwd) return undefined
  const file = (role: string) => result.files.find((f) => f.role === role)?.data
  const object = file('object')
  if (object === undefined) return undefined
  const frame = meta.specific ? undefined : FrameMapper.create(meta.root, meta.cwd, request.cwd)

  const stderr = replayStderr(result.stderr, meta.colored, ctx.wantColor, frame)
  if (stderr === undefined) return undefined

  const writes: { path: string; data: Uint8Array }[] = []
  for (const extra of inv.extraOutputs) {
    const data = file(extra.role)
    if (data !== undefined) writes.push({ path: extra.path, data })
    // Not written by the compile either: leave whatever file has that name alone.
    else if (!(Array.isArray(meta.absent) && meta.absent.includes(extra.role))) return undefined
  }
  if (inv.depfile !== undefined) {
    const dep = meta.dep
    const stored = file('depfile')
    if (dep === undefined || stored === undefined) return undefined
    let data: Uint8Array
    if (frame === undefined && sameTargets(inv.depfile.targets, dep.targets)) data = stored
    else if (dep.exact) {
      const map = (p: string) => (frame === undefined ? p : frame.path(p))
      data = formatDepfileBytes(meta.family, inv.depfile.targets, {
        prereqs: dep.prereqs.map(map),
        phony: dep.phony.map(map),
      })
    } else return undefined
    writes.push({ path: inv.depfile.path, data })
  }
  // The object last, as a compile finishes it last.
  writes.push({ path: inv.output, data: object })
  for (const w of writes) writeOutputAtomic(resolve(request.cwd, w.path), w.data, request.umask)
  return { kind: 'done', exitCode: 0, stdout: result.stdout, stderr }
}
