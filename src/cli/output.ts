/**
 * How the CLI reports: human text on stdout, errors as `error[CODE]: message` + `hint: …` on
 * stderr, or with `--json` one JSON document on stdout (errors as `{ code, message, hint }`).
 */
import { MeshccError } from '../errors.ts'

export interface Output {
  json: boolean
  out(text: string): void
  err(text: string): void
}

export function createOutput(json: boolean): Output {
  return {
    json,
    out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  }
}

export function printJson(o: Output, value: unknown): void {
  o.out(JSON.stringify(value, null, 2))
}

/** Prints an error in the house format; returns the exit status (2 for usage errors, else 1). */
export function reportError(o: Output, err: unknown, usage: boolean): number {
  const e =
    err instanceof MeshccError
      ? err.toJSON()
      : { code: 'ERR_MESHCC_INTERNAL', message: String((err as Error)?.message ?? err), hint: '' }
  if (o.json) printJson(o, e)
  else {
    o.err(`error[${e.code}]: ${e.message}`)
    if (e.hint) o.err(`hint: ${e.hint}`)
  }
  return usage ? 2 : 1
}
