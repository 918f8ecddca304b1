import assert from 'node:assert/strict'
import { test } from 'node:test'

import { resolveConfig } from 'tiktok-shop-plentyone/server'

const base = { appKey: 'k', appSecret: 's', serviceId: '1', region: 'US', redirectUri: 'https://shop.example/api/tiktok/callback', databaseUrl: 'memory:' }

test('admin access: the token guards it; without one it is closed; the insecure opt-out is explicit and never in production', () => {
  const token = 'x'.repeat(32)
  assert.throws(() => resolveConfig(base, { NODE_ENV: 'production' }), (e) => e.code === 'TTS_CONFIG_INVALID' && /TIKTOK_SHOP_ADMIN_TOKEN .*required when NODE_ENV=production/.test(e.message))
  assert.equal(resolveConfig({ ...base, adminToken: token }, { NODE_ENV: 'production' }).adminAccess, 'token')
  assert.equal(resolveConfig(base, {}).adminAccess, 'closed', 'no token outside production: closed, not open')
  assert.equal(resolveConfig(base, { TIKTOK_SHOP_ADMIN_TOKEN: token }).adminAccess, 'token')
  assert.equal(resolveConfig(base, { TIKTOK_SHOP_INSECURE_OPEN_ADMIN: 'true' }).adminAccess, 'open')
  assert.equal(resolveConfig({ ...base, insecureOpenAdmin: true }, {}).adminAccess, 'open')
  assert.equal(resolveConfig(base, { TIKTOK_SHOP_INSECURE_OPEN_ADMIN: 'false' }).adminAccess, 'closed')
  assert.throws(() => resolveConfig(base, { NODE_ENV: 'production', TIKTOK_SHOP_INSECURE_OPEN_ADMIN: '1' }), (e) => e.code === 'TTS_CONFIG_INVALID' && /TIKTOK_SHOP_INSECURE_OPEN_ADMIN .*refused when NODE_ENV=production/.test(e.message))
  assert.throws(() => resolveConfig({ ...base, adminToken: token, insecureOpenAdmin: true }, {}), (e) => /both set: keep the token and remove the opt-out/.test(e.message))
  assert.throws(() => resolveConfig(base, { TIKTOK_SHOP_INSECURE_OPEN_ADMIN: 'sure' }), (e) => /TIKTOK_SHOP_INSECURE_OPEN_ADMIN \(configuration.insecureOpenAdmin\) must be true or false, got "sure"/.test(e.message))
})

test('PLENTY_ID must be a positive client id when PlentyONE is configured', () => {
  const plenty = { restUrl: 'https://p.example', username: 'u', password: 'p' }
  assert.equal(resolveConfig({ ...base, plenty: { ...plenty, plentyId: '1000' } }, {}).plenty.plentyId, 1000)
  assert.equal(resolveConfig({ ...base, plenty }, { PLENTY_ID: '42' }).plenty.plentyId, 42)
  assert.throws(() => resolveConfig({ ...base, plenty: { ...plenty, plentyId: 'zero' } }, {}), (e) => /PLENTY_ID .*positive/.test(e.message))
  assert.equal(resolveConfig({ ...base, plenty }, {}).plenty.plentyId, undefined, 'optional: the order import then does not start')
})

test('sync settings come from configuration.sync or TIKTOK_SHOP_SYNC_SETTINGS; every misplaced key is listed', () => {
  const sync = { defaults: { products: { categories: { default_category_id: '1' } } }, shops: { s1: { tracking: { carriers: { 6: 'p' } }, max_creates_per_day: 20 } }, timings: { heartbeatMs: 500 } }
  assert.deepEqual(resolveConfig({ ...base, sync }, {}).sync, sync)
  assert.deepEqual(resolveConfig(base, { TIKTOK_SHOP_SYNC_SETTINGS: JSON.stringify(sync) }).sync, sync)
  assert.deepEqual(resolveConfig(base, {}).sync, { defaults: {}, shops: {} })
  assert.throws(
    () => resolveConfig({ ...base, sync: { defaults: { product: {} }, shops: { s1: { tracking: 'usps', max_creates_per_day: 0 } }, timings: { heartbeat: 1 }, extra: 1 } }, {}),
    (e) => {
      assert.equal(e.code, 'TTS_CONFIG_INVALID')
      for (const p of ['configuration.sync.defaults.product is not a sync setting', 'configuration.sync.shops.s1.tracking must be an object', 'configuration.sync.shops.s1.max_creates_per_day must be a positive whole number', 'configuration.sync.timings.heartbeat is not known', 'configuration.sync.extra is not known']) {
        assert.ok(e.problems.some((x) => x.startsWith(p)), `${p} in ${JSON.stringify(e.problems)}`)
      }
      return true
    },
  )
  assert.throws(() => resolveConfig(base, { TIKTOK_SHOP_SYNC_SETTINGS: '{oops' }), (e) => /TIKTOK_SHOP_SYNC_SETTINGS is not valid JSON/.test(e.message))
})

test('stock changes have their own, shorter schedule', () => {
  assert.equal(resolveConfig(base, {}).stockIntervalMs, 60000)
  assert.equal(resolveConfig(base, { TIKTOK_SHOP_STOCK_INTERVAL: '15000' }).stockIntervalMs, 15000)
  assert.throws(() => resolveConfig({ ...base, stockInterval: 10 }, {}), (e) => /TIKTOK_SHOP_STOCK_INTERVAL \(configuration.stockInterval\) must be .*≥ 1000/.test(e.message))
})
