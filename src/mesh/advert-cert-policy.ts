/**
 * Which adverts carry this node's certificate, and when an advert asks others for theirs: the
 * certificate rules of the `Adverts` service (`adverts.ts`), kept apart because they are a
 * bandwidth policy of their own.
 *
 * Certificates (≈ 0.5 KiB, over half an advert) travel only in the first advert, in every
 * `certEvery`-th one, when this node's certificate changed, and in the next advert after an
 * author new to this node appeared or an advert asked for them (`needCerts`: its sender had to
 * ignore an advert for want of the author's certificate, e.g. after a restart). So a newcomer
 * receives every member's certificate within about one period, and a settled mesh sends them
 * rarely. What a publication nobody heard carried (certificate, `needCerts`) is still owed.
 */

export interface AdvertCertPolicyInit {
  /** This node's certificate, carried in some adverts for members not connected to us. */
  certificate?: () => Uint8Array
  /** Carry the certificate in every k-th advert (besides the cases above). Default 6. */
  certEvery?: number
}

export class AdvertCertPolicy {
  readonly #init: AdvertCertPolicyInit
  /** The next advert carries the certificate (first one, new author, asked for, unsent). */
  #certDue = true
  /** An advert was ignored for want of its author's certificate: ask for certificates. */
  #needCerts = false
  #lastCert: Uint8Array | undefined

  constructor(init: AdvertCertPolicyInit) {
    this.#init = init
  }

  /** Whether the next advert asks for certificates; the request is then considered made. */
  takeNeedCerts(): boolean {
    const needed = this.#needCerts
    this.#needCerts = false
    return needed
  }

  /**
   * This node's certificate if the next advert should carry it: the first advert, every k-th
   * (`published` adverts so far), after the certificate changed, or after a new author appeared.
   * Undefined otherwise.
   */
  certToSend(published: number): Uint8Array | undefined {
    const cert = this.#init.certificate?.()
    if (cert === undefined) return undefined
    const changed = this.#lastCert === undefined || !sameBytes(cert, this.#lastCert)
    const every = Math.max(1, this.#init.certEvery ?? 6)
    if (!this.#certDue && !changed && published % every !== 0) return undefined
    this.#certDue = false
    this.#lastCert = cert
    return cert
  }

  /** Nobody heard a publication: what it carried is still owed. */
  unsent(cert: boolean, needCerts: boolean): void {
    if (cert) this.#certDue = true
    if (needCerts) this.#needCerts = true
  }

  /** An advert was ignored for want of its author's certificate. */
  missingAuthorCert(): void {
    this.#needCerts = true
  }

  /**
   * An advert was accepted. An author new to us (no previous advert, or back after it expired),
   * or one that asked for certificates, may lack ours: the next advert carries it.
   */
  accepted(prevExpiresAt: number | undefined, now: number, askedForCerts: boolean): void {
    if (prevExpiresAt === undefined || now > prevExpiresAt || askedForCerts) this.#certDue = true
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a === b || (a.length === b.length && Buffer.compare(a, b) === 0)
}
