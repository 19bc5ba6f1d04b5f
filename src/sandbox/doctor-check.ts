/**
 * The `meshcc doctor` line for the sandbox: ok with the level reached, or fail with the reason
 * remote jobs are refused. Shaped like doctor's `Check` so the command can list it as is.
 */
import { probeSandbox } from './probe.ts'

export interface SandboxCheck {
  name: string
  status: 'ok' | 'warn' | 'fail'
  detail: string
  hint?: string
}

export async function sandboxCheck({
  signal,
}: {
  signal?: AbortSignal
} = {}): Promise<SandboxCheck> {
  const p = await probeSandbox(signal === undefined ? { fresh: true } : { signal, fresh: true })
  if (p.ok) return { name: 'sandbox', status: 'ok', detail: `level ${p.level}: ${p.detail}` }
  // Not a failure of the installation: the node still works as a client and for its own builds.
  return {
    name: 'sandbox',
    status: 'warn',
    detail: `remote jobs refused (level ${p.level}): ${p.reason}`,
    hint: p.hint,
  }
}
