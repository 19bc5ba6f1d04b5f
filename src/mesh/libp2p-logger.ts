/**
 * The logger libp2p's components get. libp2p makes one for every connection and stream
 * (`newScope`), and its default (@libp2p/logger over weald, a `debug` fork) builds two debug
 * functions each time, matches the namespace against `DEBUG` and asks whether stderr is a
 * terminal (`isatty`): eight such checks per remote job on each side, for logs nobody reads.
 * The daemon writes its own structured lines, so libp2p's stay off unless asked for: with
 * `DEBUG` set (weald's switch, e.g. `DEBUG=libp2p:*`), libp2p keeps its own logger.
 */
import type { ComponentLogger, Logger } from '@libp2p/interface'

const off = (): void => {}

/** One logger that is never enabled; every scope below it is itself. */
const SILENT: Logger = Object.assign((_formatter: unknown, ..._args: unknown[]) => {}, {
  enabled: false,
  error: Object.assign(off, { enabled: false }),
  trace: Object.assign(off, { enabled: false }),
  newScope: (): Logger => SILENT,
})

const SILENT_COMPONENTS: ComponentLogger = { forComponent: () => SILENT }

/** The component logger to hand libp2p: undefined (its own) when `DEBUG` asks for its logs. */
export function libp2pLogger(env: NodeJS.ProcessEnv = process.env): ComponentLogger | undefined {
  return env['DEBUG'] === undefined || env['DEBUG'] === '' ? SILENT_COMPONENTS : undefined
}
