// The engines through the addon's control plane (`createIntegration`): both stand-ins as processes, the
// native SQLite store, the client.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'

import { createIntegration, generateEncryptionKey, openStore, signWebhook, TikTokShopClient } from '../index.js'
import { startPlentySandbox, startSandbox } from '../scripts/sandbox.mjs'

let tiktok, plenty, store, client, sync, shop, salesWarehouse
const events = []
const dir = mkdtempSync(join(tmpdir(), 'tts-sync-js-'))

/** Every engine's settings for the sandbox shop: the stand-in's catalogue goes to one category. */
const shopSettings = () => ({
  shop_id: shop.id,
  region: shop.region,
  orders: { plenty_id: 1000 },
  products: {
    inventory: {
      warehouses: { links: [{ plenty_warehouse_id: 1, tiktok_warehouse_id: salesWarehouse }] },
      buffer: { absolute: '1', percent: '0' },
    },
    categories: { default_category_id: '601302' },
    category_product_attributes: { 601302: [{ id: '100198', values: [{ id: '3001', name: 'Cotton' }] }] },
  },
  tracking: { default_provider_id: 'sbx-provider' },
})

before(async () => {
  tiktok = await startSandbox()
  plenty = await startPlentySandbox(['--window-secs', '1'])
  shop = tiktok.info.shops[0]
  store = await openStore(`sqlite://${join(dir, 'sync.db')}`, generateEncryptionKey())
  const tokens = await tiktok.control('POST', '/tokens', {})
  client = new TikTokShopClient({ appKey: tiktok.info.app_key, appSecret: tiktok.info.app_secret, apiBase: tiktok.info.base_url, authBase: tiktok.info.base_url })
  await client.addShop({ shopId: shop.id, cipher: shop.cipher, accessToken: tokens.access_token, accessTokenExpireIn: tokens.access_token_expire_in, refreshToken: tokens.refresh_token })
  const { data } = await client.call(shop.id, 'logistics.warehouses')
  salesWarehouse = data.warehouses.find((w) => w.type === 'SALES_WAREHOUSE').id
  sync = createIntegration(store, client, { appKey: tiktok.info.app_key, webhookSecrets: [tiktok.info.app_secret] }, (event) => events.push(event))
  // without engines, a run cannot start and says why
  await assert.rejects(sync.run(shop.id, 'orders'), { code: 'TTS_CONFIG_INVALID' })
  await sync.attachEngines({
    plenty: { baseUrl: plenty.info.base_url, username: plenty.info.username, password: plenty.info.password },
    shops: [shopSettings()],
    timings: { firstRunLookbackSeconds: 3600, heartbeatMs: 20 },
  })
})

after(async () => {
  await sync?.stop()
  await store?.close()
  await Promise.all([tiktok?.stop(), plenty?.stop()])
  rmSync(dir, { recursive: true, force: true })
})

test('reconcile imports each paid order once; the inbox worker follows a cancellation', async () => {
  const { order_ids: ids } = await tiktok.control('POST', `/shops/${shop.id}/orders`, { count: 6, status: 'AWAITING_SHIPMENT' })
  const first = await sync.run(shop.id, 'orders')
  assert.equal(first.outcome, 'finished')
  assert.equal(first.run.state, 'succeeded')
  assert.equal(first.run.summary.report.created, 6)
  assert.equal(first.run.summary.report.failed, 0)
  const again = await sync.run(shop.id, 'orders')
  assert.equal(again.run.summary.report.created, 0, 'a second pass creates nothing')

  const mappings = await store.listOrderMappings({ shopId: shop.id, status: 'synced', limit: 100 })
  assert.deepEqual(new Set(mappings.map((m) => m.tiktokOrderId)), new Set(ids))
  for (const m of mappings) {
    const order = await plenty.control('GET', `/orders/${m.plentyOrderId}`)
    assert.equal(order.properties.find((p) => p.typeId === 7).value, `${shop.id}_${m.tiktokOrderId}`)
  }

  // the buyer cancels; TikTok's webhook is verified and stored in one call (what the middleware route does)
  const cancelled = ids[0]
  await tiktok.control('POST', `/orders/${cancelled}/advance`, { status: 'CANCELLED' })
  const body = Buffer.from(JSON.stringify({ type: 1, tts_notification_id: `n-${cancelled}`, shop_id: shop.id, timestamp: Math.floor(Date.now() / 1000), data: { order_id: cancelled, order_status: 'CANCELLED', update_time: Math.floor(Date.now() / 1000) } }))
  const authorization = signWebhook({ appKey: tiktok.info.app_key, appSecret: tiktok.info.app_secret, rawBody: body })
  await assert.rejects(sync.receiveWebhook(body, 'f'.repeat(64)), { code: 'TTS_SIGNATURE_INVALID' })
  await assert.rejects(async () => sync.receiveWebhook(JSON.parse(body), authorization), { code: 'TTS_WEBHOOK_RAW_BODY_REQUIRED' })
  const receipt = await sync.receiveWebhook(body, authorization)
  assert.deepEqual([receipt.inserted, receipt.notification.eventType, receipt.notification.data.order_id], [true, 'ORDER_STATUS_CHANGE', cancelled])
  assert.equal((await sync.receiveWebhook(body, authorization)).inserted, false, 'a second delivery is a duplicate')
  assert.deepEqual((await sync.status()).webhooks, { received: 4, accepted: 1, duplicates: 1, rejected: 2 })
  assert.equal((await store.getInbox(`n-${cancelled}`)).outcome, undefined, 'stored, waiting for the consumer')
  sync.start()
  let mapping
  for (let i = 0; i < 100; i++) {
    mapping = (await store.listOrderMappings({ shopId: shop.id, limit: 100 })).find((m) => m.tiktokOrderId === cancelled)
    if (mapping.tiktokStatus === 'CANCELLED') break
    await new Promise((r) => setTimeout(r, 50))
  }
  assert.equal(mapping.tiktokStatus, 'CANCELLED')
  const order = await plenty.control('GET', `/orders/${mapping.plentyOrderId}`)
  assert.ok(order.statusId >= 8 && order.statusId < 9, `PlentyONE status ${order.statusId}`)
  assert.equal(await sync.syncOrder(shop.id, cancelled), 'unchanged')
  await assert.rejects(sync.syncOrder('no-such-shop', '1'), { code: 'TTS_NOT_FOUND' })
})

test('a pass of each kind runs through the addon, recorded in the store with its progress', async () => {
  const products = await sync.run(shop.id, 'products')
  assert.equal(products.outcome, 'finished')
  const report = products.run.summary.report
  assert.ok(report.created > 0, `products created: ${JSON.stringify(report)}`)
  assert.equal(products.run.state, 'succeeded', JSON.stringify(report))
  // The stand-in announced its catalogue size: the pass knew its total and went through all of it.
  assert.equal(products.run.total, products.run.done)
  const mapped = await store.listProductMappings({ shopId: shop.id, limit: 1000 })
  assert.ok(mapped.some((m) => m.tiktokProductId), 'product mappings written')

  // PlentyONE stock of one mapped variation changes: the next inventory pass sends that SKU to TikTok.
  const one = mapped.find((m) => m.tiktokSkuId)
  const quantity = async () => (await tiktok.control('GET', `/products/${one.tiktokProductId}`)).skus.find((s) => s.id === one.tiktokSkuId).inventory[0].quantity
  const before = await quantity()
  await plenty.control('POST', '/stock', { variation_id: one.plentyVariationId, warehouse_id: 1, delta: 10 })
  const inventory = await sync.run(shop.id, 'inventory')
  assert.equal(inventory.run.state, 'succeeded', JSON.stringify(inventory.run.summary))
  assert.ok(inventory.run.summary.report.stock_updates >= 1, JSON.stringify(inventory.run.summary))
  assert.equal(await quantity(), before + 10, 'TikTok shows the 10 units PlentyONE gained')

  for (const kind of ['fulfillment', 'returns']) {
    const r = await sync.run(shop.id, kind)
    assert.equal(r.run.state, 'succeeded', `${kind}: ${JSON.stringify(r.run.summary)}`)
  }

  const runs = await store.listSyncRuns(shop.id, null, 20)
  for (const kind of ['orders', 'products', 'inventory', 'fulfillment', 'returns']) {
    const run = runs.find((r) => r.kind === kind)
    assert.equal(run?.status, 'succeeded', kind)
    assert.ok(run.summary.progress.elapsed_ms >= 0)
  }
  const finals = events.filter((e) => e.state !== 'running')
  assert.deepEqual(new Set(finals.map((e) => e.kind)), new Set(['orders', 'products', 'inventory', 'fulfillment', 'returns']), 'one final event per pass')
  assert.ok(events.some((e) => e.state === 'running' && e.kind === 'products' && e.done > 0), 'progress was emitted while the export ran')
  const running = events.find((e) => e.state === 'running' && e.total)
  if (running && running.done > 0) assert.equal(typeof running.etaSeconds, 'number')
  assert.deepEqual(sync.active(), [], 'nothing left running')
})

test('one pass per shop and kind at a time: a second one is told the first holds the lease', async () => {
  const [a, b] = await Promise.all([sync.run(shop.id, 'orders'), sync.run(shop.id, 'orders')])
  const outcomes = [a.outcome, b.outcome].sort()
  assert.deepEqual(outcomes, ['busy', 'finished'])
  assert.ok([a, b].find((r) => r.outcome === 'busy').holder)
  // a queued run is started once: the second request for it finds it taken
  const queued = await store.startSyncRun(shop.id, 'returns', 'queued')
  const first = await sync.run(shop.id, 'returns', { runId: queued.id })
  assert.equal(first.run.runId, queued.id)
  assert.equal((await sync.run(shop.id, 'returns', { runId: queued.id })).outcome, 'alreadyTaken')
  await assert.rejects(async () => sync.run(shop.id, 'stock'), { code: 'TTS_INVALID_ARGUMENT', field: 'kind' })
  assert.throws(() => sync.setShop({ shop_id: shop.id, region: 'DE' }), { code: 'TTS_INVALID_ARGUMENT', field: 'orders.plenty_id' })
  assert.throws(() => sync.setShop({ ...shopSettings(), tracking: { carriers: 5 } }), { code: 'TTS_INVALID_ARGUMENT', field: 'tracking' })
})
