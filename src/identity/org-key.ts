/**
 * Organisation keys: creating, saving, loading, and the Nix-style text form
 * `<org name>:<base64url key>` used for `org.key`, `org.pub`, trust anchors and configuration.
 *
 * @example
 * ```ts
 * const org = await createOrg('acme', identityPaths(home))
 * org.orgId // 'acme:3q2-7w…'
 * const again = await loadOrg(identityPaths(home))
 * ```
 */
import { IdentityFileError, OrgExistsError, OrgNotFoundError } from '../errors.ts'
import {
  generateSecretKey,
  PUBLIC_KEY_LENGTH,
  publicKeyOf,
  SECRET_KEY_LENGTH,
  sha256,
} from './ed25519.ts'
import { fromBase64Url, toBase64Url } from './encoding.ts'
import { ensureDir, readIfExists, readSecretFile, writeFileAtomic } from './files.ts'
import type { IdentityPaths } from './paths.ts'
import { ORG_NAME_RE, type Org, type TrustedOrgKey } from './types.ts'

/** `<name>:<base64url public key>`. */
export function formatOrgKey(key: TrustedOrgKey): string {
  return `${key.org}:${toBase64Url(key.publicKey)}`
}

function parseNamedKey(
  text: string,
  length: number,
): { name: string; key: Uint8Array } | undefined {
  const colon = text.lastIndexOf(':')
  if (colon < 0) return undefined
  const name = text.slice(0, colon)
  const key = fromBase64Url(text.slice(colon + 1))
  if (!ORG_NAME_RE.test(name) || key === undefined || key.length !== length) return undefined
  return { name, key }
}

/** Parses `<name>:<base64url public key>` (surrounding whitespace ignored); throws RangeError. */
export function parseOrgKey(text: string): TrustedOrgKey {
  const parsed = parseNamedKey(text.trim(), PUBLIC_KEY_LENGTH)
  if (parsed === undefined) {
    throw new RangeError('expected an organisation key of the form <name>:<base64url public key>')
  }
  return { org: parsed.name, publicKey: parsed.key }
}

/** Builds the in-memory organisation from its name and secret key. */
export function orgFromSecretKey(name: string, secretKey: Uint8Array): Org {
  if (!ORG_NAME_RE.test(name))
    throw new RangeError(`invalid organisation name ${JSON.stringify(name)}`)
  if (secretKey.length !== SECRET_KEY_LENGTH) throw new RangeError('secret key must be 32 bytes')
  const publicKey = publicKeyOf(secretKey)
  const org: Org = {
    org: name,
    publicKey,
    secretKey,
    orgId: formatOrgKey({ org: name, publicKey }),
    issuer: sha256(publicKey),
  }
  return org
}

/**
 * Creates a new organisation and saves it: `org.key` (0600, in a 0700 directory) and `org.pub`.
 * Refuses to replace an existing key (OrgExistsError): losing it would orphan every member.
 */
export async function createOrg(
  name: string,
  paths: IdentityPaths,
  { signal }: { signal?: AbortSignal } = {},
): Promise<Org> {
  const org = orgFromSecretKey(name, generateSecretKey())
  await ensureDir(paths.orgDir)
  try {
    await writeFileAtomic(paths.orgKey, `${name}:${toBase64Url(org.secretKey)}\n`, {
      mode: 0o600,
      exclusive: true,
      ...(signal === undefined ? {} : { signal }),
    })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new OrgExistsError(`an organisation key already exists at ${paths.orgKey}`)
    }
    throw err
  }
  await writeFileAtomic(paths.orgPub, `${org.orgId}\n`, { mode: 0o644 })
  return org
}

/** Loads the organisation this node administers, or undefined if it holds none. */
export async function loadOrgIfPresent(paths: IdentityPaths): Promise<Org | undefined> {
  const bytes = await readSecretFile(paths.orgKey)
  if (bytes === undefined) return undefined
  const parsed = parseNamedKey(new TextDecoder().decode(bytes).trim(), SECRET_KEY_LENGTH)
  if (parsed === undefined)
    throw new IdentityFileError(`${paths.orgKey} is not a meshcc organisation key`)
  const org = orgFromSecretKey(parsed.name, parsed.key)
  // org.pub is informational; if present it must agree, else someone swapped one of the files.
  const pub = await readIfExists(paths.orgPub)
  if (pub !== undefined && new TextDecoder().decode(pub).trim() !== org.orgId) {
    throw new IdentityFileError(`${paths.orgPub} does not match ${paths.orgKey}`)
  }
  return org
}

/** Loads the organisation this node administers; OrgNotFoundError if it holds none. */
export async function loadOrg(paths: IdentityPaths): Promise<Org> {
  const org = await loadOrgIfPresent(paths)
  if (org === undefined) throw new OrgNotFoundError(`no organisation key at ${paths.orgKey}`)
  return org
}
