/** Help texts of `meshcc org` and its subcommands. */
import type { OrgCommandIo } from './org-args.ts'

const USAGE = `Usage: meshcc org <command> [options]

Commands:
  init      create this machine's organisation signing key
  invite    print a short-lived, limited-use invitation token
  issue     sign a certificate for a given peer id (for \`meshcc join --cert\`)
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
  issue: `Usage: meshcc org issue --peer ID [--name LABEL] [--roles client,builder] [--groups G,...]
                        [--ttl 14d] [--out FILE] [--json]

Signs a certificate for the machine whose peer id is ID with the organisation key on this
machine. That machine prints its peer id with \`meshcc org show\` and joins with
\`meshcc join --cert FILE --ca org.pub --bootstrap ADDR\` (org.pub is
$MESHCC_HOME/org/org.pub here). Members renew it over the mesh before it expires.

Without --out the certificate is printed alone on standard output, as one line of text.

Options:
  --peer ID        the joining machine's peer id (12D3KooW…), required
  --name LABEL     host label shown in \`meshcc peers\` (default the peer id)
  --roles LIST     client, builder, admin (default client,builder)
  --groups LIST    groups of the certificate
  --ttl DURATION   lifetime: 12h, 14d, 30d (default 14d, at most 366d)
  --out FILE       write the certificate to FILE instead of printing it
  --json           print an object with the certificate and its details
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

Shows this node's peer id (creating its peer key if it has none yet), the organisation this
machine administers (if any), this node's certificate and trust anchor, and the current
revocation list. Send the peer id to an admin for \`meshcc org issue --peer ID\`.

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
