// The API client against the sandbox: every operation group, rate limit held, retries per fault kind,
// no retry of unsafe writes, pagination, single-flight refresh, deauthorization.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { after, before, test } from 'node:test'

import { TikTokShopClient } from '../index.js'
import { paginate, shopView } from '../pagination.js'
import { countFor, startSandbox } from '../scripts/sandbox.mjs'

let sandbox, shop, events, client

async function connect(options = {}) {
  const tokens = await sandbox.control('POST', '/tokens', {})
  const events = []
  const client = new TikTokShopClient(
    { appKey: sandbox.info.app_key, appSecret: sandbox.info.app_secret, apiBase: sandbox.info.base_url, authBase: sandbox.info.base_url, retryBaseDelayMs: 20, ...options },
    (e) => events.push(e),
  )
  await client.addShop({ shopId: shop.id, cipher: shop.cipher, accessToken: tokens.access_token, accessTokenExpireIn: tokens.access_token_expire_in, refreshToken: tokens.refresh_token, refreshTokenExpireIn: tokens.refresh_token_expire_in })
  return { client, events, tokens }
}

before(async () => {
  sandbox = await startSandbox()
  shop = sandbox.info.shops[0]
  ;({ client, events } = await connect())
})
after(() => sandbox.stop())

test('every operation group answers through the client', async () => {
  const view = shopView(client, shop.id)
  const authorized = await view.call('authorization.shops')
  assert.ok(authorized.data.shops.some((s) => s.id === shop.id))
  assert.match(authorized.requestId, /\S/)
  assert.ok((await view.call('seller.shops')).data.shops.length >= 1)
  const warehouses = (await view.call('logistics.warehouses')).data.warehouses
  assert.ok(warehouses.length >= 1)
  const options = (await view.call('logistics.delivery_options', { pathParams: { warehouse_id: warehouses[0].id } })).data.delivery_options
  assert.ok(options.length >= 1)
  assert.ok((await view.call('logistics.shipping_providers', { pathParams: { delivery_option_id: options[0].id } })).data.shipping_providers.length >= 1)
  assert.ok((await view.call('categories.list')).data.categories.length >= 1)
  await view.fetchPage('products.search', { body: {} }, 10)
  await view.fetchPage('returns.search', { body: {} }, 10)
  await view.fetchPage('cancellations.search', { body: {} }, 10)
  await view.fetchPage('packages.search', { body: {} }, 10)
  await view.call('webhooks.list')
})

test('pagination across 6 pages and batched order detail', async () => {
  const created = await sandbox.control('POST', `/shops/${shop.id}/orders`, { count: 110, status: 'AWAITING_SHIPMENT' })
  assert.equal(created.order_ids.length, 110)
  await sandbox.control('DELETE', '/counters')
  const seen = []
  for await (const order of paginate(client, shop.id, 'orders.search', { body: { order_status: 'AWAITING_SHIPMENT' } }, 20)) seen.push(order.id)
  assert.ok(seen.length >= 110)
  assert.equal(new Set(seen).size, seen.length, 'no order twice')
  for (const id of created.order_ids) assert.ok(seen.includes(id))
  const counters = await sandbox.control('GET', '/counters')
  assert.ok(countFor(counters, '/order/202309/orders/search') >= 6, 'at least 6 pages fetched')

  const details = await client.getOrders(shop.id, created.order_ids)
  assert.equal(details.length, 110)
  assert.deepEqual(new Set(details.map((o) => o.id)), new Set(created.order_ids))
  assert.equal(countFor(await sandbox.control('GET', '/counters'), 'GET /order/202309/orders'), 3, '110 ids → 3 calls of ≤50')
})

test('64 concurrent loops never exceed 50 requests/s per endpoint', async () => {
  await sandbox.control('PUT', '/rate_limit', { per_second: 50 })
  await sandbox.control('DELETE', '/counters')
  const total = 150
  let issued = 0
  const started = process.hrtime.bigint()
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (issued < total) {
        issued++
        await client.call(shop.id, 'logistics.warehouses')
      }
    }),
  )
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  const counters = await sandbox.control('GET', '/counters')
  assert.equal(countFor(counters, '/logistics/202309/warehouses', 'rate_limited'), 0, 'zero requests over the limit')
  assert.equal(countFor(counters, '/logistics/202309/warehouses'), total)
  const floor = (total - 1) / 50
  assert.ok(seconds >= floor * 0.9 && seconds <= floor * 1.1 + 0.3, `took ${seconds.toFixed(2)} s for a floor of ${floor.toFixed(2)} s`)
})

test('retries each transient fault kind and recovers; surfaces the ones that are not', async () => {
  for (const fault of [{ kind: 'server_error', count: 2 }, { kind: 'drop', count: 2 }, { kind: 'rate_limit', count: 2 }]) {
    events.length = 0
    await sandbox.control('POST', '/faults', { ...fault, endpoint: '/seller/202309/shops' })
    const res = await client.call(shop.id, 'seller.shops')
    assert.ok(res.data.shops.length >= 1, fault.kind)
    const retries = events.filter((e) => e.type === 'retry')
    assert.equal(retries.length, 2, `${fault.kind}: two retries`)
    assert.ok(retries.every((e) => e.operation === 'seller.shops' && e.shopId === shop.id && typeof e.code === 'string'))
  }
  // latency beyond the client's timeout: timed out, retried, then fine
  const { client: impatient, events: ev } = await connect({ requestTimeoutMs: 300 })
  await sandbox.control('POST', '/faults', { kind: 'latency', latency_ms: 1000, count: 1, endpoint: '/seller/202309/shops' })
  await impatient.call(shop.id, 'seller.shops')
  assert.deepEqual(ev.filter((e) => e.type === 'retry').map((e) => e.code), ['TTS_TIMEOUT'])
  // a truncated 200 is not something to repeat blindly: it surfaces as a decode error
  await sandbox.control('POST', '/faults', { kind: 'malformed_json', count: 1, endpoint: '/seller/202309/shops' })
  await assert.rejects(client.call(shop.id, 'seller.shops'), { code: 'TTS_INVALID_RESPONSE' })
  // a storm longer than the attempts gives up with the last error
  await sandbox.control('POST', '/faults', { kind: 'server_error', count: 10, endpoint: '/seller/202309/shops' })
  await assert.rejects(client.call(shop.id, 'seller.shops'), { code: 'TTS_SERVICE_UNAVAILABLE', httpStatus: 503 })
  await sandbox.control('DELETE', '/faults')
})

test('an unsafe write is sent once, even when the answer is a 5xx', async () => {
  const [orderId] = (await sandbox.control('POST', `/shops/${shop.id}/orders`, { count: 1, status: 'AWAITING_SHIPMENT' })).order_ids
  const order = await sandbox.control('GET', `/orders/${orderId}`)
  const packageId = order.packages[0].id
  await sandbox.control('DELETE', '/counters')
  await sandbox.control('POST', '/faults', { kind: 'server_error', count: 1, endpoint: `/fulfillment/202309/packages/${packageId}/ship` })
  await assert.rejects(client.call(shop.id, 'packages.ship', { pathParams: { package_id: packageId }, body: { handover_method: 'DROP_OFF' } }), { code: 'TTS_SERVICE_UNAVAILABLE' })
  assert.equal(countFor(await sandbox.control('GET', '/counters'), '/packages/{package_id}/ship'), 1)
  await sandbox.control('DELETE', '/faults')
})

test('100 concurrent calls with an expired token: exactly one refresh', async () => {
  const { client: c, events: ev, tokens } = await connect()
  await sandbox.control('POST', '/tokens/expire', { access_token: tokens.access_token })
  await sandbox.control('DELETE', '/counters')
  // the client still believes the token is valid, so every call first gets 105002
  await Promise.all(Array.from({ length: 100 }, () => c.call(shop.id, 'seller.shops')))
  const counters = await sandbox.control('GET', '/counters')
  assert.equal(countFor(counters, '/api/v2/token/refresh'), 1)
  assert.equal(ev.filter((e) => e.type === 'tokensRefreshed').length, 1)
  const refreshed = ev.find((e) => e.type === 'tokensRefreshed').tokens
  assert.notEqual(refreshed.accessToken, tokens.access_token)
  assert.ok(refreshed.accessTokenExpireIn > Date.now() / 1000)
})

test('shops of one seller share its token pair: one refresh serves both, and both are told', async () => {
  const [gb, de] = sandbox.info.shops.filter((s) => s.open_id === 'sbxOpenId0000000002')
  const tokens = await sandbox.control('POST', '/tokens', { open_id: gb.open_id })
  const ev = []
  const c = new TikTokShopClient({ appKey: sandbox.info.app_key, appSecret: sandbox.info.app_secret, apiBase: sandbox.info.base_url, authBase: sandbox.info.base_url }, (e) => ev.push(e))
  for (const s of [gb, de]) {
    await c.addShop({ shopId: s.id, cipher: s.cipher, accessToken: tokens.access_token, accessTokenExpireIn: tokens.access_token_expire_in, refreshToken: tokens.refresh_token, refreshTokenExpireIn: tokens.refresh_token_expire_in })
  }
  await sandbox.control('POST', '/tokens/expire', { access_token: tokens.access_token })
  await sandbox.control('DELETE', '/counters')
  await Promise.all([gb, de].flatMap((s) => Array.from({ length: 10 }, () => c.call(s.id, 'logistics.warehouses'))))
  assert.equal(countFor(await sandbox.control('GET', '/counters'), '/api/v2/token/refresh'), 1)
  const refreshed = ev.filter((e) => e.type === 'tokensRefreshed')
  assert.deepEqual(refreshed.map((e) => e.shopId).sort(), [gb.id, de.id].sort(), 'each shop hears of the new pair')
  // after the refresh, the other shop works with the new token too
  await c.call(de.id, 'logistics.warehouses')
  await c.call(gb.id, 'logistics.warehouses')
})

test('a deauthorized seller is surfaced once, as an event and a distinct error, without a retry loop', async () => {
  const { client: c, events: ev } = await connect()
  await sandbox.control('POST', `/sellers/${shop.open_id}/deauthorize`, {})
  await sandbox.control('DELETE', '/counters')
  await assert.rejects(c.call(shop.id, 'seller.shops'), { code: 'TTS_REAUTHORIZATION_REQUIRED' })
  await assert.rejects(c.call(shop.id, 'seller.shops'), { code: 'TTS_REAUTHORIZATION_REQUIRED' })
  assert.equal((await sandbox.control('GET', '/counters')).totals.total, 1, 'the second call never left the process')
  assert.equal(ev.filter((e) => e.type === 'reauthorizationRequired').length, 1)
  await assert.rejects(c.call('no-such-shop', 'seller.shops'), { code: 'TTS_NOT_FOUND' })
})

test('a client with an event callback does not keep Node alive', () => {
  const script = `const { TikTokShopClient } = require(${JSON.stringify(new URL('../index.js', import.meta.url).pathname)});
    new TikTokShopClient({ appKey: 'k', appSecret: 's' }, () => {}); console.log('done')`
  const run = spawnSync(process.execPath, ['-e', script], { timeout: 10_000, encoding: 'utf8' })
  assert.equal(run.status, 0, run.stderr)
  assert.equal(run.stdout.trim(), 'done')
})
