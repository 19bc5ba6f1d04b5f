/**
 * Parses the helper's one-line JSON status. The line comes from the helper (outside the
 * sandbox, never from the sandboxed program, which has no access to the status descriptor), but
 * it is still checked field by field: a malformed line means the helper itself failed.
 */
import { SandboxSetupError } from '../errors.ts'
import type { SandboxLevel, SandboxStatus } from './types.ts'

function field<T>(o: Record<string, unknown>, k: string, ok: (v: unknown) => v is T): T {
  const v = o[k]
  if (!ok(v)) throw new SandboxSetupError(`sandbox status: bad field ${k}`)
  return v
}

const isBool = (v: unknown): v is boolean => typeof v === 'boolean'
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)
const isNumOrNull = (v: unknown): v is number | null => v === null || isNum(v)
const isStrOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string'
const isLevel = (v: unknown): v is SandboxLevel => v === 0 || v === 1 || v === 2 || v === 3

export function parseSandboxStatus(text: string): SandboxStatus {
  const line = text.trim()
  if (line === '' || line.includes('\n'))
    throw new SandboxSetupError(
      `sandbox status: expected one line, got ${JSON.stringify(text.slice(0, 200))}`,
    )
  let o: unknown
  try {
    o = JSON.parse(line)
  } catch (cause) {
    throw new SandboxSetupError('sandbox status: not JSON', { cause })
  }
  if (typeof o !== 'object' || o === null)
    throw new SandboxSetupError('sandbox status: not an object')
  const r = o as Record<string, unknown>
  return {
    exit: field(r, 'exit', isNumOrNull),
    signal: field(r, 'signal', isStrOrNull),
    timedOut: field(r, 'timedOut', isBool),
    aborted: field(r, 'aborted', isBool),
    oom: field(r, 'oom', isBool),
    cpuMs: field(r, 'cpuMs', isNum),
    maxRssKb: field(r, 'maxRssKb', isNum),
    wallMs: field(r, 'wallMs', isNum),
    sandboxLevel: field(r, 'sandboxLevel', isLevel),
    landlockAbi: field(r, 'landlockAbi', isNum),
    error: field(r, 'error', isStrOrNull),
  }
}
