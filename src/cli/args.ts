/**
 * Strict option parsing for every CLI command (`util.parseArgs`), turning its errors into typed
 * meshcc errors: an unknown flag is `UnknownFlagError`, anything else wrong is `UsageError`.
 * Every command takes `--help`/`-h`; management commands also take `--json`.
 */
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util'
import { UnknownFlagError, UsageError } from '../errors.ts'

export interface ParsedCommand<V> {
  values: V & { help?: boolean; json?: boolean }
  positionals: string[]
}

export function parseCommand<O extends ParseArgsOptionsConfig>(
  command: string,
  args: string[],
  options: O,
  maxPositionals: number,
): ParsedCommand<Record<keyof O, unknown>> {
  let parsed: { values: Record<string, unknown>; positionals: string[] }
  try {
    parsed = parseArgs({
      args,
      options: {
        ...options,
        help: { type: 'boolean', short: 'h' },
        json: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: true,
    }) as typeof parsed
  } catch (err) {
    const code = (err as { code?: string }).code
    const message = (err as Error).message.split('\n')[0] ?? ''
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const flag = /option '([^']+)'/.exec(message)?.[1] ?? message
      throw new UnknownFlagError(`meshcc ${command}: unknown flag '${flag}'`, {
        hint: `run \`meshcc ${command} --help\` to see the options it takes`,
      })
    }
    throw new UsageError(`meshcc ${command}: ${message}`, {
      hint: `run \`meshcc ${command} --help\``,
    })
  }
  if (parsed.positionals.length > maxPositionals && parsed.values['help'] !== true) {
    throw new UsageError(
      `meshcc ${command}: unexpected argument '${parsed.positionals[maxPositionals]}'`,
      {
        hint: `run \`meshcc ${command} --help\``,
      },
    )
  }
  return parsed as ParsedCommand<Record<keyof O, unknown>>
}
