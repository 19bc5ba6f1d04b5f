/**
 * Shared types and field rules of the organisation identity layer.
 *
 * An organisation is a name plus an Ed25519 key pair; members hold certificates signed by that
 * key. Trust anchors are written Nix-style, `<org name>:<base64url public key>`, so several keys
 * (rotation) can be listed side by side in configuration.
 */

/** What a certificate lets its holder do. */
export type Role = 'client' | 'builder' | 'admin'
export const ROLES: readonly Role[] = ['admin', 'builder', 'client']

/** An organisation public key that this node trusts to sign member certificates. */
export interface TrustedOrgKey {
  /** Organisation (trust domain) name, e.g. `acme`. */
  readonly org: string
  /** 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array
}

/** An organisation whose signing key this node holds (an admin machine). */
export interface Org extends TrustedOrgKey {
  /** 32-byte Ed25519 secret key (seed). */
  readonly secretKey: Uint8Array
  /** `<name>:<base64url public key>`: the public identity to share and to put in trust lists. */
  readonly orgId: string
  /** sha256 of the public key: the `issuer` field of every certificate this org signs. */
  readonly issuer: Uint8Array
}

/** Clock skew tolerated on `nbf`/`exp` checks between machines, in seconds. */
export const CLOCK_SKEW_SECONDS = 300

/** Organisation names: short, printable, usable in file names and log lines. */
export const ORG_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
/** Group names (policy labels). */
export const GROUP_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/
export const MAX_GROUPS = 32
/** Host labels in certificates: any printable text without control characters. */
export const MAX_NAME_LENGTH = 253

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value)
}

export function isValidHostLabel(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length >= 1 &&
    value.length <= MAX_NAME_LENGTH &&
    // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
    !/[\u0000-\u001f\u007f-\u009f]/.test(value)
  )
}

/** Sorted, de-duplicated roles; throws on an unknown role. */
export function normalizeRoles(roles: Iterable<string>): Role[] {
  const out = new Set<Role>()
  for (const role of roles) {
    if (!isRole(role)) throw new RangeError(`unknown role ${JSON.stringify(role)}`)
    out.add(role)
  }
  return [...out].sort()
}

/** Sorted, de-duplicated groups; throws on an invalid name or too many groups. */
export function normalizeGroups(groups: Iterable<string>): string[] {
  const out = new Set<string>()
  for (const group of groups) {
    if (!GROUP_RE.test(group)) throw new RangeError(`invalid group name ${JSON.stringify(group)}`)
    out.add(group)
  }
  if (out.size > MAX_GROUPS) throw new RangeError(`at most ${MAX_GROUPS} groups`)
  return [...out].sort()
}

/** True if `list` is strictly increasing (so sorted and without duplicates). */
export function isStrictlySorted(list: readonly string[]): boolean {
  for (let i = 1; i < list.length; i++) {
    if ((list[i - 1] as string) >= (list[i] as string)) return false
  }
  return true
}
