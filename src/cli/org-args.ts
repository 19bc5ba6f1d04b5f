/**
 * Shared plumbing of the `meshcc org` subcommands: the I/O contract, strict argument parsing
 * (unknown flags become UnknownFlagError, other mistakes UsageError) and output helpers.
 */
import { parseArgs } from 'node:util'
import { UnknownFlagError, UsageError } from '../errors.ts'
import { normalizeGroups, normalizeRoles, type Role } from '../identity/types.ts'

export interface TextSink {
  write(chunk: string): unknown
}

/** Live facts from a running mesh node, when the dispatcher can reach the daemon. */
export interface OrgMeshInfo {
  /** This node's peer id and dialable addresses, to put in invitations. */
  self(options: { signal?: AbortSignal }): Promise<{ peerId: string; addrs: string[] } | undefined>
}

export interface OrgCommandIo {
  stdout: TextSink
  stderr: TextSink
  env: NodeJS.ProcessEnv
  mesh?: OrgMeshInfo
  signal?: AbortSignal
}

export type OptionSpec = Record<
  string,
  { type: 'string' | 'boolean'; multiple?: boolean; short?: string }
>

/**
 * Parses a subcommand's arguments strictly; `--help`/`-h` and `--json` are always accepted.
 * Allows at most `positionals` positional arguments.
 */
export function parseOrgArgs(
  sub: string,
  args: string[],
  options: OptionSpec,
  positionals: number,
) {
  let parsed: ReturnType<
    typeof parseArgs<{ options: OptionSpec; allowPositionals: true; strict: true }>
  >
  try {
    parsed = parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' }, json: { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    })
  } catch (err) {
    const code = (err as { code?: string }).code
    const message = `meshcc org ${sub}: ${(err as Error).message}`
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION')
      throw new UnknownFlagError(message, { cause: err })
    throw new UsageError(message, { cause: err, hint: `run \`meshcc org ${sub} --help\`` })
  }
  if (parsed.values['help'] !== true && parsed.positionals.length > positionals) {
    throw new UsageError(
      `meshcc org ${sub}: unexpected argument ${JSON.stringify(parsed.positionals[positionals])}`,
      {
        hint: `run \`meshcc org ${sub} --help\``,
      },
    )
  }
  return parsed
}

export function json(io: OrgCommandIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}

export function splitList(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
}

/** `--roles` (default `client,builder`, at least one) and `--groups`, checked. */
export function rolesAndGroups(
  values: Record<string, unknown>,
  usage: (message: string) => UsageError,
): { roles: Role[]; groups: string[] } {
  let roles: Role[]
  let groups: string[]
  try {
    roles = normalizeRoles(splitList((values['roles'] as string | undefined) ?? 'client,builder'))
    groups = normalizeGroups(splitList(values['groups'] as string | undefined))
  } catch (err) {
    throw usage((err as Error).message)
  }
  if (roles.length === 0) throw usage('--roles needs at least one of client, builder, admin')
  return { roles, groups }
}

export function iso(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString()
}
