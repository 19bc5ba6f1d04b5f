/**
 * The node daemon's process entry (`dist/daemon/main.js`), started detached by the native client
 * or by `meshcc daemon start` (see `run.ts` for what it runs). Exits with the daemon's status.
 *
 * @example
 * ```sh
 * MESHCC_HOME=/tmp/node1 node dist/daemon/main.js
 * ```
 */
import { runDaemon } from './run.ts'

process.exit(await runDaemon())
