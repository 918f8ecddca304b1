// The sync through the Alokai integration: with PlentyONE REST configured (and PLENTY_ID) and the
// durable store, a connected shop's paid orders become PlentyONE orders from their webhooks, once each,
// a buyer's cancellation follows, and triggered runs of every kind export the catalogue, push stock and
// report their progress. Both stand-ins run as processes (debug builds).
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'

import { generateEncryptionKey } from 'tiktok-shop-plentyone'
import { runtimeOf } from 'tiktok-shop-plentyone/server'

import { startPlentySandbox, startSandbox } from '../scripts/sandbox.mjs'

const require = createRequire(import.meta.url)
const { startMiddleware } = require('../examples/plentyone-middleware/dist/src/index.js')
const { createConfig } = require('../examples/plentyone-middleware/dist/middleware.config.js')

const quiet = { handler: Object.fromEntries(['emergency', 'alert', 'critical', 'error', 'warning', 'notice', 'info', 'debug'].map((s) => [s, () => {}])) }
const dir = mkdtempSync(join(tmpdir(), 'tts-alokai-orders-'))
let tiktok, plenty, mw, runtime
const adminToken = randomBytes(24).toString('base64url')
/** The admin routes are closed without the token: this suite's calls to them carry it. */
const ADMIN = { authorization: `Bearer ${adminToken}` }

before(async () => {
  plenty = await startPlentySandbox(['--window-secs', '1'])
  // the middleware's port is known only once it listens: start the TikTok sandbox first without a webhook URL
  tiktok = await startSandbox()
  const info = tiktok.info
  const config = createConfig({
    plentysystems: false,
    tiktok: {
      appKey: info.app_key, appSecret: info.app_secret, serviceId: info.service_id, region: 'US',
      redirectUri: 'http://127.0.0.1/api/tiktok/callback', apiBase: info.base_url, authBase: info.base_url, authorizeBase: info.base_url,
      databaseUrl: `sqlite://${join(dir, 'mw.db')}`, encryptionKey: generateEncryptionKey(), adminToken,
      plenty: { restUrl: plenty.info.base_url, username: plenty.info.username, password: plenty.info.password, plentyId: 1000 },
      sync: {
        defaults: {
          // The stand-in's catalogue has no TikTok categories: everything goes to one that needs Material.
          products: {
            categories: { default_category_id: '601302' },
            category_product_attributes: { 601302: [{ id: '100198', values: [{ id: '3001', name: 'Cotton' }] }] },
          },
        },
        timings: { firstRunLookbackSeconds: 3600, heartbeatMs: 50 },
      },
    },
  })
  mw = await startMiddleware({ port: 0, config: { ...config, logger: quiet } })
  runtime = runtimeOf(config.integrations.tiktok.configuration)
  await tiktok.control('POST', '/apps', { app_key: info.app_key, app_secret: info.app_secret, service_id: info.service_id, redirect_uri: `${mw.url}/api/tiktok/callback` })
  await tiktok.control('PUT', '/webhooks', { default_url: `${mw.url}/api/tiktok/webhooks`, duplicates: true })
})

after(async () => {
  await mw?.close()
  await Promise.all([tiktok?.stop(), plenty?.stop()])
  rmSync(dir, { recursive: true, force: true })
})

/** Orders the PlentyONE stand-in created (successful `POST /rest/orders`). */
const plentyOrderCreates = (counters) => counters.routes['POST /rest/orders']?.ok ?? 0

async function waitFor(check, ms = 20000) {
  const until = Date.now() + ms
  for (;;) {
    const v = await check()
    if (v) return v
    if (Date.now() > until) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 50))
  }
}

test('paid orders become one PlentyONE order each; a cancellation follows', async () => {
  assert.ok(runtime.enginesRunning, 'the sync runs when PlentyONE is configured')
  const connected = await (await fetch(`${mw.url}/api/tiktok/auth`, { headers: { accept: 'application/json', ...ADMIN } })).json()
  const shopId = connected.shops[0].shopId
  assert.deepEqual(runtime.integration.shops, [shopId], 'the connected shop was added to the engines')

  const { order_ids: ids } = await tiktok.control('POST', `/shops/${shopId}/orders`, { count: 4, status: 'AWAITING_SHIPMENT' })
  const mappings = await waitFor(async () => {
    const all = await runtime.store.listOrderMappings({ shopId, status: 'synced', limit: 100 })
    return ids.every((id) => all.some((m) => m.tiktokOrderId === id)) ? all : undefined
  })
  assert.equal(new Set(mappings.map((m) => m.plentyOrderId)).size, ids.length, 'one PlentyONE order per TikTok order')
  for (const m of mappings) {
    const order = await plenty.control('GET', `/orders/${m.plentyOrderId}`)
    assert.equal(order.properties.find((p) => p.typeId === 7).value, `${shopId}_${m.tiktokOrderId}`)
  }

  await tiktok.control('POST', `/orders/${ids[1]}/advance`, { status: 'CANCELLED' })
  const cancelled = await waitFor(async () => {
    const m = (await runtime.store.listOrderMappings({ shopId, limit: 100 })).find((x) => x.tiktokOrderId === ids[1])
    return m.tiktokStatus === 'CANCELLED' ? m : undefined
  })
  const order = await plenty.control('GET', `/orders/${cancelled.plentyOrderId}`)
  assert.ok(order.statusId >= 8 && order.statusId < 9, `PlentyONE status ${order.statusId}`)
})

test('a JS inbox handler added while the native engines run is one more handler in the same dispatch: the order is still created, once', async () => {
  const shopId = (await runtime.connection()).shops[0].shopId
  const seen = []
  let failFirst = true
  runtime.registerInboxHandler(async (event) => {
    if (event.shopId !== shopId || event.eventType !== 'ORDER_STATUS_CHANGE') return
    seen.push(event)
    // a flaky extra consumer: its failure retries the message, which must not duplicate the order
    if (failFirst) {
      failFirst = false
      throw Object.assign(new Error('the ERP bridge answered 503'), { code: 'TTS_SERVICE_UNAVAILABLE' })
    }
  })
  const createsBefore = plentyOrderCreates(await plenty.control('GET', '/counters'))
  const { order_ids: [id] } = await tiktok.control('POST', `/shops/${shopId}/orders`, { count: 1, status: 'AWAITING_SHIPMENT' })
  const mapping = await waitFor(async () => (await runtime.store.listOrderMappings({ shopId, status: 'synced', limit: 1000 })).find((m) => m.tiktokOrderId === id))
  await waitFor(() => seen.filter((e) => e.data.order_id === id).length >= 2, 30000)
  await new Promise((r) => setTimeout(r, 300)) // let any duplicate create happen before counting
  assert.equal(plentyOrderCreates(await plenty.control('GET', '/counters')) - createsBefore, 1, 'exactly one PlentyONE order was created')
  const order = await plenty.control('GET', `/orders/${mapping.plentyOrderId}`)
  assert.equal(order.properties.find((p) => p.typeId === 7).value, `${shopId}_${id}`)
  assert.equal((await runtime.store.listOrderMappings({ shopId, limit: 1000 })).filter((m) => m.tiktokOrderId === id).length, 1)
  const status = await runtime.syncStatus()
  assert.ok(status.webhooks.accepted >= 1 && status.webhooks.duplicates >= 1, `TikTok's duplicate deliveries are counted: ${JSON.stringify(status.webhooks)}`)
})

test('triggered runs of every kind finish; products, stock and progress are visible through the API', async () => {
  const shopId = (await runtime.connection()).shops[0].shopId
  const { data: wh } = await runtime.client.call(shopId, 'logistics.warehouses')
  const sales = wh.warehouses.find((w) => w.type === 'SALES_WAREHOUSE').id
  // Settings can change at runtime (e.g. after a merchant maps warehouses): the shop is set again.
  runtime.config.sync.shops[shopId] = { products: { inventory: { warehouses: { links: [{ plenty_warehouse_id: 1, tiktok_warehouse_id: sales }] } } } }
  await runtime.applyShopSettings(shopId)

  const res = await fetch(`${mw.url}/api/tiktok/sync/trigger`, { method: 'POST', headers: { 'content-type': 'application/json', ...ADMIN }, body: JSON.stringify({ shopId }) })
  assert.equal(res.status, 202, await res.clone().text())
  const status = await waitFor(async () => {
    const s = await runtime.syncStatus()
    const runs = s.shops.find((x) => x.shopId === shopId).runs
    const latest = ['orders', 'products', 'inventory', 'fulfillment', 'returns'].map((k) => runs.find((r) => r.kind === k))
    return latest.every((r) => r && (r.state === 'succeeded' || r.state === 'failed')) ? { s, latest } : undefined
  }, 60000)
  for (const run of status.latest) assert.equal(run.state, 'succeeded', `${run.kind}: ${JSON.stringify(run.summary)}`)
  const products = status.latest.find((r) => r.kind === 'products')
  assert.ok(products.summary.report.created > 0, 'the catalogue was exported')
  assert.equal(products.total, products.done, 'the export knew its total and went through it')
  assert.equal(status.latest.find((r) => r.kind === 'inventory').summary.full, false, 'a triggered inventory pass sends changes only')
  assert.deepEqual(status.s.engines.sort(), ['fulfillment', 'inventory', 'orders', 'products', 'returns'])
  const shopStatus = status.s.shops.find((x) => x.shopId === shopId)
  assert.ok(shopStatus.progress.some((p) => p.kind === 'products' && p.state === 'succeeded'), 'the last progress event of each pass is kept')
  const mapped = await runtime.store.listProductMappings({ shopId, limit: 1000 })
  assert.ok(mapped.filter((m) => m.tiktokProductId).length >= products.summary.report.created)
})

test('a full inventory pass can be asked for; a bad flag is refused with its field', async () => {
  const shopId = (await runtime.connection()).shops[0].shopId
  const post = (body) => fetch(`${mw.url}/api/tiktok/sync/trigger`, { method: 'POST', headers: { 'content-type': 'application/json', ...ADMIN }, body: JSON.stringify(body) })
  const bad = await post({ shopId, kind: 'inventory', full: 'yes' })
  assert.equal(bad.status, 400)
  assert.equal((await bad.json()).field, 'full')
  const { runs } = await (await post({ shopId, kind: 'inventory', full: true })).json()
  assert.equal(runs[0].phase, 'queued:full')
  const done = await waitFor(async () => {
    const [run] = await runtime.store.listSyncRuns(shopId, 'inventory', 1)
    return run.id === runs[0].id && run.status !== 'running' ? run : undefined
  })
  assert.equal(done.status, 'succeeded', JSON.stringify(done.summary))
  assert.equal(done.summary.full, true)
  assert.ok(done.summary.report.stock_updates + done.summary.report.unchanged > 0, 'every mapped SKU was looked at')
})
