// The sandbox binary end to end from Node: first-line contract, a signed subscription through the
// events API, an order advanced through the control API, and the webhook checked with the addon's
// verifyWebhook. Needs `cargo build --workspace --bins` (npm test runs it first).
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createHmac } from 'node:crypto'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { after, before, test } from 'node:test'

import { TikTokShopClient, authorizeUrl, exchangeAuthCode, getAuthorizedShops, verifyWebhook } from '../index.js'
import { repoRoot } from './helpers.mjs'

const bin = join(repoRoot, 'target', 'x86_64-unknown-linux-gnu', 'debug', 'tts-sandbox')
let child
let info
let server
const received = []
let onReceived = () => {}

/** Independent request signer (spec §1.1), so the test does not depend on the addon's signer either. */
function sign(secret, path, query, body = '') {
  const keys = Object.keys(query).filter((k) => k !== 'sign' && k !== 'access_token').sort()
  const base = path + keys.map((k) => k + query[k]).join('') + body
  return createHmac('sha256', secret).update(secret + base + secret).digest('hex')
}

async function control(method, path, body) {
  const res = await fetch(`${info.base_url}/_sandbox${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) })
  const json = await res.json()
  assert.ok(res.ok, `${method} ${path}: ${JSON.stringify(json)}`)
  return json
}

before(async () => {
  child = spawn(bin, ['--port', '0'], { stdio: ['ignore', 'pipe', 'ignore'] })
  const lines = createInterface({ input: child.stdout })
  info = JSON.parse(await new Promise((resolve, reject) => {
    lines.once('line', resolve)
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`tts-sandbox exited with ${code}`)))
  }))
  server = createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      received.push({ authorization: req.headers.authorization, rawBody: Buffer.concat(chunks) })
      res.writeHead(200).end()
      onReceived()
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
})

after(async () => {
  child?.kill()
  if (server) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
})

test('first stdout line is the documented JSON', () => {
  assert.match(info.base_url, /^http:\/\/127\.0\.0\.1:\d+$/)
  for (const k of ['app_key', 'app_secret', 'service_id', 'redirect_uri']) assert.equal(typeof info[k], 'string', k)
  assert.ok(info.shops.some((s) => s.seller_type === 'CROSS_BORDER'))
})

test('an advanced order sends a webhook that verifyWebhook accepts', async () => {
  const { access_token: token } = await control('POST', '/tokens', {})
  const shop = info.shops.find((s) => s.seller_type === 'LOCAL')
  // Subscribe through the real, signed events API.
  const path = '/event/202309/webhooks'
  const url = `http://127.0.0.1:${server.address().port}/tiktok/webhook`
  const body = JSON.stringify({ address: url, event_type: 'ORDER_STATUS_CHANGE' })
  const query = { app_key: info.app_key, timestamp: String(Math.floor(Date.now() / 1000)), shop_cipher: shop.cipher }
  const qs = new URLSearchParams({ ...query, sign: sign(info.app_secret, path, query, body) })
  const res = await fetch(`${info.base_url}${path}?${qs}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', 'x-tts-access-token': token },
    body,
  })
  const put = await res.json()
  assert.equal(put.code, 0, JSON.stringify(put))

  const { order_ids: [orderId] } = await control('POST', `/shops/${shop.id}/orders`, { count: 1 })
  const advanced = await control('POST', `/orders/${orderId}/advance`, {})
  assert.equal(advanced.status, 'ON_HOLD')

  const wanted = (r) => JSON.parse(r.rawBody).data.order_status === 'ON_HOLD'
  if (!received.some(wanted)) {
    await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no ON_HOLD webhook within 5 s')), 5000)
      onReceived = () => received.some(wanted) && (clearTimeout(t), resolve())
    })
  }
  const hook = received.find(wanted)
  const event = JSON.parse(hook.rawBody)
  assert.equal(event.type, 1)
  assert.equal(event.shop_id, shop.id)
  assert.equal(event.data.order_id, orderId)
  assert.equal(event.data.is_on_hold_order, true)
  const input = { appKey: info.app_key, appSecret: info.app_secret, authorization: hook.authorization, rawBody: hook.rawBody }
  assert.equal(verifyWebhook(input), true)
  // Every delivery verifies, and a tampered body does not.
  for (const r of received) assert.equal(verifyWebhook({ ...input, authorization: r.authorization, rawBody: r.rawBody }), true)
  const tampered = Buffer.from(hook.rawBody.toString().replace('ON_HOLD', 'AWAITING_SHIPMENT'))
  assert.equal(verifyWebhook({ ...input, rawBody: tampered }), false)
})

test("the addon's own client (OAuth, signed calls, pagination, retries) works against the sandbox", async () => {
  // OAuth: authorize URL → auto-consent redirect → token exchange → authorized shops.
  const url = authorizeUrl({ serviceId: info.service_id, state: 'st-1', authorizeBase: info.base_url })
  const redirect = await fetch(url, { redirect: 'manual' })
  assert.equal(redirect.status, 302)
  const callback = new URL(redirect.headers.get('location'))
  assert.equal(callback.searchParams.get('state'), 'st-1')
  const tokens = await exchangeAuthCode({ appKey: info.app_key, appSecret: info.app_secret, authCode: callback.searchParams.get('code'), authBase: info.base_url })
  assert.ok(tokens.accessTokenExpireIn > Date.now() / 1000 + 6 * 86400)
  const shops = await getAuthorizedShops({ appKey: info.app_key, appSecret: info.app_secret, accessToken: tokens.accessToken, apiBase: info.base_url })
  const shop = shops.find((s) => s.sellerType === 'LOCAL')
  assert.equal(shop.cipher, info.shops[0].cipher)

  // Signed calls through the client: the sandbox verifies every sign with its own implementation.
  await control('POST', `/shops/${shop.id}/orders`, { count: 25 })
  const events = []
  const client = new TikTokShopClient(
    { appKey: info.app_key, appSecret: info.app_secret, apiBase: info.base_url, authBase: info.base_url, retryBaseDelayMs: 10, retryMaxDelayMs: 50 },
    (e) => events.push(e),
  )
  await client.addShop({ shopId: shop.id, cipher: shop.cipher, accessToken: tokens.accessToken, accessTokenExpireIn: tokens.accessTokenExpireIn, refreshToken: tokens.refreshToken, refreshTokenExpireIn: tokens.refreshTokenExpireIn })
  const ids = []
  let pageToken
  do {
    // page tokens contain '+' and '/': they must be percent-encoded on the wire and signed decoded
    const page = await client.fetchPage(shop.id, 'orders.search', { body: { order_status: 'UNPAID' } }, 10, pageToken)
    ids.push(...page.items.map((o) => o.id))
    pageToken = page.nextPageToken
  } while (pageToken)
  assert.ok(ids.length >= 25, `paged through ${ids.length} orders`)
  const orders = await client.getOrders(shop.id, ids)
  assert.equal(orders.length, ids.length)

  // A 503 burst is retried by the client; the sandbox counted both attempts.
  await control('POST', '/faults', { kind: 'server_error', count: 1, endpoint: 'GET /logistics/202309/warehouses' })
  const wh = await client.call(shop.id, 'logistics.warehouses')
  assert.ok(wh.data.warehouses.length >= 1)
  assert.ok(events.some((e) => e.type === 'retry'), JSON.stringify(events))
  const counters = await control('GET', '/counters')
  assert.deepEqual(
    [counters.endpoints['GET /logistics/202309/warehouses'].faults, counters.endpoints['GET /logistics/202309/warehouses'].ok],
    [1, 1],
  )
})
