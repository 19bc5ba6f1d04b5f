/** Help texts of `meshcc org` and its subcommands. */
import type { OrgCommandIo } from './org-args.ts'

const USAGE = `Usage: meshcc org <command> [options]

Commands:
  init      create this machine's organisation signing key
  invite    print a short-lived, limited-use invitation token
  revoke    revoke a member (peer id) or one certificate (serial)
  show      show the organisation, this node's certificate and the revocation list

Run \`meshcc org <command> --help\` for the options of a command.
`

const HELP: Record<string, string> = {
  init: `Usage: meshcc org init [--name NAME] [--json]

Creates the organisation signing key in $MESHCC_HOME/org/org.key (mode 0600) and its public
identity in org.pub. Keep org.key secret: whoever holds it can admit machines.

Options:
  --name NAME   organisation name (letters, digits, . _ -; default personal-<host>)
  --json        print the result as a JSON object
  -h, --help    show this help
`,
  invite: `Usage: meshcc org invite [--ttl 1h] [--uses 1] [--roles client,builder] [--groups G,...]
                         [--addr MULTIADDR]... [--json]

Prints an invitation token, alone on standard output. On the new machine run
\`meshcc join --invite TOKEN\`.

Options:
  --ttl DURATION   how long the token stays valid: 90s, 15m, 1h, 2d (default 1h, at most 7d)
  --uses N         how many machines may join with it (default 1)
  --roles LIST     roles of the certificates it grants: client, builder, admin
                   (default client,builder)
  --groups LIST    groups of the certificates it grants
  --addr MULTIADDR address where joiners reach this node (repeatable; default from the daemon)
  --json           print an object with the token and its details
  -h, --help       show this help
`,
  revoke: `Usage: meshcc org revoke <PEER_ID | SERIAL> [--json]

Adds a peer id (all its certificates) or a certificate serial (32 hex digits) to the signed
revocation list $MESHCC_HOME/org/crl.bin. A running daemon spreads the new list to the mesh,
and every member then cuts the revoked peer off.

Options:
  --json        print the result as a JSON object
  -h, --help    show this help
`,
  show: `Usage: meshcc org show [--json]

Shows the organisation this machine administers (if any), this node's certificate and trust
anchor, and the current revocation list.

Options:
  --json        print the result as a JSON object
  -h, --help    show this help
`,
}

/** Prints the help of `sub` (or the overview) on stdout; exit code 0. */
export function printOrgHelp(io: OrgCommandIo, sub?: string): number {
  io.stdout.write(sub === undefined ? USAGE : (HELP[sub] ?? USAGE))
  return 0
}
