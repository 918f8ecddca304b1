// Order import through the addon: both stand-ins as processes, the native SQLite store, the client.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'

import { createOrderSync, generateEncryptionKey, openStore, signWebhook, TikTokShopClient } from '../index.js'
import { startPlentySandbox, startSandbox } from '../scripts/sandbox.mjs'

let tiktok, plenty, store, client, sync, shop
const dir = mkdtempSync(join(tmpdir(), 'tts-sync-js-'))

before(async () => {
  tiktok = await startSandbox()
  plenty = await startPlentySandbox(['--window-secs', '1'])
  shop = tiktok.info.shops[0]
  store = await openStore(`sqlite://${join(dir, 'sync.db')}`, generateEncryptionKey())
  const tokens = await tiktok.control('POST', '/tokens', {})
  client = new TikTokShopClient({ appKey: tiktok.info.app_key, appSecret: tiktok.info.app_secret, apiBase: tiktok.info.base_url, authBase: tiktok.info.base_url })
  await client.addShop({ shopId: shop.id, cipher: shop.cipher, accessToken: tokens.access_token, accessTokenExpireIn: tokens.access_token_expire_in, refreshToken: tokens.refresh_token })
  sync = await createOrderSync(store, client, {
    plenty: { baseUrl: plenty.info.base_url, username: plenty.info.username, password: plenty.info.password },
    shops: [{ shop_id: shop.id, plenty_id: 1000 }],
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
  const first = await sync.reconcile(shop.id, { lookbackSeconds: 3600 })
  assert.equal(first.created, 6)
  assert.equal(first.failed, 0)
  const again = await sync.reconcile(shop.id, { lookbackSeconds: 3600 })
  assert.equal(again.created, 0, 'a second pass creates nothing')

  const mappings = await store.listOrderMappings({ shopId: shop.id, status: 'synced', limit: 100 })
  assert.deepEqual(new Set(mappings.map((m) => m.tiktokOrderId)), new Set(ids))
  for (const m of mappings) {
    const order = await plenty.control('GET', `/orders/${m.plentyOrderId}`)
    assert.equal(order.properties.find((p) => p.typeId === 7).value, `${shop.id}_${m.tiktokOrderId}`)
  }

  // the buyer cancels; TikTok's webhook reaches the inbox (as the middleware route stores it)
  const cancelled = ids[0]
  await tiktok.control('POST', `/orders/${cancelled}/advance`, { status: 'CANCELLED' })
  const body = Buffer.from(JSON.stringify({ type: 1, tts_notification_id: `n-${cancelled}`, shop_id: shop.id, timestamp: Math.floor(Date.now() / 1000), data: { order_id: cancelled, order_status: 'CANCELLED', update_time: Math.floor(Date.now() / 1000) } }))
  assert.ok(signWebhook({ appKey: tiktok.info.app_key, appSecret: tiktok.info.app_secret, rawBody: body }))
  assert.equal(await store.insertInbox({ notificationId: `n-${cancelled}`, shopId: shop.id, eventType: 1, payload: body }), true)
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
