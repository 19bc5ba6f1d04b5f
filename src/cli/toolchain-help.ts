/** Help texts of `meshcc toolchain …`. */
export const toolchainHelp: Record<string, string> = {
  '': `Usage: meshcc toolchain <command> [options]

The compilers this node can run for others, stored by content hash.

Commands:
  meshcc toolchain list [--json]              toolchains held by this node
  meshcc toolchain package [COMPILER] [--json] [--lang c,c++]
                                              package the local gcc/clang (default: cc)
  meshcc toolchain add PATH --host PLATFORM [--target TRIPLE] [--driver LANG=PATH]
                       [--compiler-id TEXT] [--json]
                                              import a directory or tar archive
  meshcc toolchain show ID [--json]           the manifest of a toolchain (ID may be a prefix)
  meshcc toolchain materialize ID [--json]    unpack a toolchain tree; prints its root
  meshcc toolchain remove ID [--json]         forget a toolchain and files no other one uses

A toolchain's ID is the SHA-256 of its manifest (every file's path, mode and content hash).
Map a compiler to an imported toolchain in $MESHCC_HOME/config.toml:
  [toolchains]
  "x86_64-w64-mingw32-gcc" = "<ID>"`,
  list: `Usage: meshcc toolchain list [--json]

Lists the toolchains this node holds: id, platform, targets, size, whether every file is present
and whether the tree is unpacked. Toolchains the daemon is fetching from members for builder jobs
follow under "in transfer" (phase, percent, bytes, rate, sending members); with --json each has
a "transfer" object.`,
  package: `Usage: meshcc toolchain package [COMPILER] [--lang c,c++,objective-c,objective-c++] [--json]

Packages the local compiler (default: cc) with everything it needs to compile -c elsewhere:
drivers, cc1*, as, shared libraries (ldd closure), the compiler's own headers. Packaging the
same installed compiler always gives the same ID. --lang limits gcc's front ends.`,
  add: `Usage: meshcc toolchain add PATH --host PLATFORM [--target TRIPLE] [--driver LANG=PATH]
                            [--compiler-id TEXT] [--json]

Imports a toolchain from a directory or a tar archive (.tar, .tar.gz, .tar.zst, .tar.xz,
.tar.bz2), laid out as the root the builder runs it in (e.g. usr/bin/x86_64-w64-mingw32-gcc).
--host is the platform it runs on (linux-x86_64, linux-aarch64). The target and drivers are
guessed from bin/*-gcc, bin/*-clang names unless given (--target may be repeated, --driver too:
--driver c=usr/bin/x-gcc --driver c++=usr/bin/x-g++). Only regular files, directories and
relative links that stay inside are accepted.`,
  show: `Usage: meshcc toolchain show ID [--json]

Prints a toolchain's manifest: platform, targets, drivers, files and symlinks.`,
  materialize: `Usage: meshcc toolchain materialize ID [--json]

Builds the toolchain's directory tree (once) and prints its root.`,
  remove: `Usage: meshcc toolchain remove ID [--json]

Removes a toolchain, its tree, and stored files no other toolchain uses.`,
}
