import assert from 'node:assert/strict'
import { test } from 'node:test'

import { resolveConfig } from 'tiktok-shop-plentyone/server'

const base = { appKey: 'k', appSecret: 's', serviceId: '1', region: 'US', redirectUri: 'https://shop.example/api/tiktok/callback', databaseUrl: 'memory:' }

test('in production the admin token is required; elsewhere it is optional', () => {
  assert.throws(() => resolveConfig(base, { NODE_ENV: 'production' }), (e) => e.code === 'TTS_CONFIG_INVALID' && /TIKTOK_SHOP_ADMIN_TOKEN .*required when NODE_ENV=production/.test(e.message))
  assert.doesNotThrow(() => resolveConfig({ ...base, adminToken: 'x'.repeat(32) }, { NODE_ENV: 'production' }))
  assert.doesNotThrow(() => resolveConfig(base, {}))
})

test('PLENTY_ID must be a positive client id when PlentyONE is configured', () => {
  const plenty = { restUrl: 'https://p.example', username: 'u', password: 'p' }
  assert.equal(resolveConfig({ ...base, plenty: { ...plenty, plentyId: '1000' } }, {}).plenty.plentyId, 1000)
  assert.equal(resolveConfig({ ...base, plenty }, { PLENTY_ID: '42' }).plenty.plentyId, 42)
  assert.throws(() => resolveConfig({ ...base, plenty: { ...plenty, plentyId: 'zero' } }, {}), (e) => /PLENTY_ID .*positive/.test(e.message))
  assert.equal(resolveConfig({ ...base, plenty }, {}).plenty.plentyId, undefined, 'optional: the order import then does not start')
})
