/** `MESHCC_CERT_TTL` and `MESHCC_RENEW_CHECK` as the daemon reads them. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConfigError } from '../../../src/errors.ts'
import { renewalTimings } from '../../../src/renewal/host.ts'

describe('renewal timings', () => {
  it('default to the 14-day lifetime and a 6-hour check', () => {
    assert.deepEqual(renewalTimings({ env: {} }), {
      certTtlSeconds: undefined,
      renewCheckMs: 6 * 3_600_000,
    })
  })
  it('read durations from the environment; options win', () => {
    const env = { MESHCC_CERT_TTL: '15s', MESHCC_RENEW_CHECK: '2m' }
    assert.deepEqual(renewalTimings({ env }), { certTtlSeconds: 15, renewCheckMs: 120_000 })
    assert.deepEqual(renewalTimings({ env, certTtlSeconds: 60, renewCheckMs: 5 }), {
      certTtlSeconds: 60,
      renewCheckMs: 5,
    })
    assert.equal(renewalTimings({ env: { MESHCC_CERT_TTL: '30d' } }).certTtlSeconds, 30 * 86400)
  })
  it('refuse what is no duration, or a lifetime above 366 days', () => {
    assert.throws(() => renewalTimings({ env: { MESHCC_CERT_TTL: 'soon' } }), ConfigError)
    assert.throws(() => renewalTimings({ env: { MESHCC_RENEW_CHECK: '-5' } }), ConfigError)
    assert.throws(() => renewalTimings({ env: { MESHCC_CERT_TTL: '400d' } }), /at most/)
  })
})
