/**
 * Typed errors for meshcc.
 *
 * One class per condition. Every error carries a stable `code` (`ERR_MESHCC_*`) that callers and
 * `--json` output branch on, and a `hint` telling the user what to do about it. Callers test
 * `err.code` (or `instanceof`), never the message text.
 *
 * @example
 * ```ts
 * throw new CacheCorruptError(`entry ${key} failed its checksum`)
 * ```
 */

export interface MeshccErrorOptions {
  hint?: string
  cause?: unknown
}

/** Base class of every error meshcc raises on purpose. */
export class MeshccError extends Error {
  static readonly code: string = 'ERR_MESHCC'
  static readonly defaultHint: string = ''
  readonly code: string
  readonly hint: string

  constructor(message: string, options: MeshccErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    const ctor = new.target as typeof MeshccError
    this.name = ctor.name
    this.code = ctor.code
    this.hint = options.hint ?? ctor.defaultHint
  }

  /** The shape printed by `--json` commands. */
  toJSON(): { code: string; message: string; hint: string } {
    return { code: this.code, message: this.message, hint: this.hint }
  }
}

/** True for any meshcc error, also across duplicate module copies. */
export function isMeshccError(err: unknown): err is MeshccError {
  return (
    err instanceof MeshccError ||
    (typeof err === 'object' &&
      err !== null &&
      typeof (err as { code?: unknown }).code === 'string' &&
      String((err as { code: string }).code).startsWith('ERR_MESHCC'))
  )
}

// ---- configuration and CLI -------------------------------------------------------------------

export class ConfigError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_CONFIG'
  static override readonly defaultHint =
    'check MESHCC_* environment variables and $MESHCC_HOME/config.toml'
}

export class UnknownFlagError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_UNKNOWN_FLAG'
  static override readonly defaultHint = 'run the command with --help to see the options it takes'
}

export class UsageError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_USAGE'
  static override readonly defaultHint = 'run `meshcc --help` to see the commands'
}

// ---- daemon and local socket -----------------------------------------------------------------

export class DaemonUnavailableError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_DAEMON_UNAVAILABLE'
  static override readonly defaultHint =
    'the node daemon is not running; any compile starts it, or see $MESHCC_HOME/logs/daemon.log'
}

export class DaemonAlreadyRunningError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_DAEMON_RUNNING'
  static override readonly defaultHint =
    'run `meshcc daemon stop` first, or use another MESHCC_HOME'
}

export class ProtocolError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_PROTOCOL'
  static override readonly defaultHint =
    'a peer or local client sent a malformed frame; check that both run the same meshcc version'
}

export class FrameTooLargeError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_FRAME_TOO_LARGE'
  static override readonly defaultHint =
    'the sender exceeded a message size limit; nothing was read'
}

// ---- compilers -------------------------------------------------------------------------------

export class CompilerNotFoundError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_COMPILER_NOT_FOUND'
  static override readonly defaultHint =
    'put the real compiler on PATH after the masquerade directory, or name it by absolute path'
}

export class ResponseFileError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_RESPONSE_FILE'
  static override readonly defaultHint = 'the @file on the command line could not be read'
}

// ---- cache -----------------------------------------------------------------------------------

export class CacheCorruptError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_CACHE_CORRUPT'
  static override readonly defaultHint =
    'the entry was dropped and the file recompiled; if this repeats, check the disk'
}

export class CacheUnavailableError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_CACHE_UNAVAILABLE'
  static override readonly defaultHint = 'check permissions and free space under $MESHCC_HOME/cache'
}

export class NodeRuntimeMissingError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_NODE_MISSING'
  static override readonly defaultHint = 'run `npm ci` in the meshcc checkout to install Node 24'
}

export class InvalidCacheKeyError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_INVALID_CACHE_KEY'
  static override readonly defaultHint =
    'cache keys are 64 lowercase hex digits (a SHA-256); the caller computed a bad key'
}

// ---- mesh ------------------------------------------------------------------------------------

export class PeerKeyError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_PEER_KEY'
  static override readonly defaultHint =
    'the peer key in $MESHCC_HOME/identity/peer.key is unreadable; restore it from a backup (a new key means a new peer id and certificate)'
}

export class AdmissionRefusedError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_ADMISSION_REFUSED'
  static override readonly defaultHint =
    'the peer presented no valid certificate of this organisation; it needs `meshcc join --invite`'
}

// ---- organisation identity -------------------------------------------------------------------

export class OrgNotFoundError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_ORG_NOT_FOUND'
  static override readonly defaultHint =
    'run this on the machine that holds the organisation key, or create one with `meshcc org init`'
}

export class OrgExistsError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_ORG_EXISTS'
  static override readonly defaultHint =
    'this node already holds an organisation key; see `meshcc org show`, or use another MESHCC_HOME'
}

export class IdentityFileError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_IDENTITY_FILE'
  static override readonly defaultHint =
    'check the files under $MESHCC_HOME/org and $MESHCC_HOME/identity'
}

export class InvalidInvitationError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_INVALID_INVITATION'
  static override readonly defaultHint =
    'copy the whole token printed by `meshcc org invite`, or ask an admin for a new one'
}

export class InvitationExpiredError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_INVITATION_EXPIRED'
  static override readonly defaultHint = 'ask an admin for a new invitation (`meshcc org invite`)'
}

export class CertificateRejectedError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_CERT_REJECTED'
  static override readonly defaultHint =
    'the node certificate is not valid; ask an admin for a new invitation and run `meshcc join --invite`'
}

export class CommandNotAvailableError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_NOT_AVAILABLE'
  static override readonly defaultHint =
    'this command belongs to a later meshcc version; run `meshcc --help` for what this one offers'
}

export class DaemonCommandError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_DAEMON_COMMAND'
  static override readonly defaultHint =
    'see $MESHCC_HOME/logs/daemon.log for what the daemon reported'
}

export class NotJoinedError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_NOT_JOINED'
  static override readonly defaultHint =
    'this node has no organisation certificate yet: run `meshcc join` (or `meshcc join --invite TOKEN`)'
}

// ---- toolchains ------------------------------------------------------------------------------

export class ToolchainManifestError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_TOOLCHAIN_MANIFEST'
  static override readonly defaultHint =
    'the toolchain manifest is malformed or not canonical; it was refused and nothing was stored'
}

export class ToolchainNotFoundError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_TOOLCHAIN_NOT_FOUND'
  static override readonly defaultHint =
    'run `meshcc toolchain list` to see the toolchains this node holds'
}

export class ToolchainIntegrityError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_TOOLCHAIN_INTEGRITY'
  static override readonly defaultHint =
    'a toolchain file or chunk does not match its hash; it was refused (fetch it again from another member)'
}

export class ToolchainIncompleteError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_TOOLCHAIN_INCOMPLETE'
  static override readonly defaultHint =
    "the store lacks some of the toolchain's files; fetch them before materialising it"
}

export class UnsafeArchiveEntryError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_UNSAFE_ARCHIVE_ENTRY'
  static override readonly defaultHint =
    'toolchain archives may hold only regular files, directories and relative links that stay inside; nothing was imported'
}

export class ToolchainPackagingError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_TOOLCHAIN_PACKAGING'
  static override readonly defaultHint =
    "meshcc could not collect the compiler's files; name the compiler by absolute path, or add a toolchain with `meshcc toolchain add`"
}

// ---- sandbox (native-sandbox/, src/sandbox/) --------------------------------------------------

export class SandboxUnavailableError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_SANDBOX_UNAVAILABLE'
  static override readonly defaultHint =
    'this machine cannot run the compile sandbox, so it refuses remote jobs; `meshcc doctor` says why'
}

export class SandboxSetupError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_SANDBOX_SETUP'
  static override readonly defaultHint =
    'the sandbox could not be set up for this job (a mount source, the working directory or a limit); compile locally'
}

export class SandboxSpecError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_SANDBOX_SPEC'
  static override readonly defaultHint =
    'a sandbox mount, path or limit is invalid; nothing was run'
}

export class UnsafeJobOutputError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_UNSAFE_JOB_OUTPUT'
  static override readonly defaultHint =
    'a sandboxed job left a link, a special file or an oversized file where an output belongs; it was not read'
}

// ---- toolchain transfer (src/toolchain-transfer/) ---------------------------------------------

export class ToolchainUnavailableError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_TOOLCHAIN_UNAVAILABLE'
  static override readonly defaultHint =
    'no reachable member could supply the toolchain; check `meshcc peers` for members that hold it'
}

export class BlobProtocolError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_BLOB_PROTOCOL'
  static override readonly defaultHint =
    'a member broke the toolchain transfer protocol; it was dropped for this transfer'
}

// ---- joining the mesh (src/enroll/, src/cli/join-command.ts) -----------------------------------

export class EnrollmentError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_ENROLLMENT'
  static override readonly defaultHint =
    'ask an admin for a new invitation (`meshcc org invite` on the admin node) and run `meshcc join --invite TOKEN` again'
}

// ---- remote jobs (src/remote/) ------------------------------------------------------------------

export class JobCodecError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_JOB_CODEC'
  static override readonly defaultHint =
    'a member sent a malformed or oversized job message; it was refused (versions too far apart?)'
}

export class BuilderBusyError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_BUILDER_BUSY'
  static override readonly defaultHint =
    'the builder had no free slot; the job goes to another member'
}

export class BuilderFailedError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_BUILDER_FAILED'
  static override readonly defaultHint =
    'the builder died, stalled, was cut off or could not run the job; it is retried elsewhere or compiled locally'
  /** What went wrong, in the scheduler's terms (`InfraFailure`). */
  readonly failure: string
  constructor(failure: string, message: string, options: MeshccErrorOptions = {}) {
    super(message, options)
    this.failure = failure
  }
}

export class RemoteIneligibleError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_REMOTE_INELIGIBLE'
  static override readonly defaultHint =
    'this compile cannot be reproduced byte for byte on another member; it is compiled locally'
  /** Stable reason, counted in stats. */
  readonly reason: string
  constructor(reason: string, message: string, options: MeshccErrorOptions = {}) {
    super(message, options)
    this.reason = reason
  }
}

export class ClientRunFailedError extends MeshccError {
  static override readonly code = 'ERR_MESHCC_CLIENT_RUN_FAILED'
  static override readonly defaultHint =
    'the native client could not run a command for the daemon; the daemon runs it itself'
}
