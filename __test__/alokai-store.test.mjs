// The `TikTokStore` contract (server/src/store.ts) as one battery. It runs against the in-memory store
// today; bind the native durable store to the same interface and add a line at the bottom to run it there.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'

import * as addon from 'tiktok-shop-plentyone'
import { openStore } from 'tiktok-shop-plentyone/server'

const { generateEncryptionKey, Sealer } = addon
const tmp = mkdtempSync(join(tmpdir(), 'tts-alokai-store-'))
after(() => rmSync(tmp, { recursive: true, force: true }))
let files = 0

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

function shop(overrides = {}) {
  return {
    appKey: 'app-1',
    shopId: '7494049642642440001',
    region: 'US',
    shopName: 'Müller Mode 🧦',
    sellerType: 'LOCAL',
    shopCode: 'USLC1',
    cipher: 'ROW_cipher_1',
    accessToken: 'TTP_access_1',
    accessTokenExpiresAt: 1_900_000_000,
    refreshToken: 'TTP_refresh_1',
    refreshTokenExpiresAt: 1_930_000_000,
    grantedScopes: ['seller.order.info'],
    status: 'connected',
    ...overrides,
  }
}

/** The battery. `make()` returns a fresh, empty store. */
export function conformance(name, make) {
  describe(`TikTokStore conformance: ${name}`, () => {
    test('shops: upsert keeps createdAt, get opens the secrets, list is ordered, delete and deauthorize', async () => {
      const store = await make()
      await store.upsertShop(shop({ shopId: '2' }))
      await store.upsertShop(shop({ shopId: '1' }))
      await store.upsertShop(shop({ appKey: 'app-0', shopId: '9' }))
      const first = await store.getShop({ appKey: 'app-1', shopId: '1' })
      assert.equal(first.accessToken, 'TTP_access_1')
      assert.equal(first.cipher, 'ROW_cipher_1')
      assert.equal(first.shopName, 'Müller Mode 🧦')
      await sleep(1100)
      await store.upsertShop(shop({ shopId: '1', accessToken: 'TTP_access_2' }))
      const second = await store.getShop({ appKey: 'app-1', shopId: '1' })
      assert.equal(second.accessToken, 'TTP_access_2')
      assert.equal(second.createdAt, first.createdAt)
      assert.ok(second.updatedAt > first.updatedAt)
      assert.deepEqual((await store.listShops('app-1')).map((s) => s.shopId), ['1', '2'])
      assert.deepEqual((await store.listShops()).map((s) => `${s.appKey}/${s.shopId}`), ['app-0/9', 'app-1/1', 'app-1/2'])
      assert.equal(await store.getShop({ appKey: 'app-1', shopId: 'nope' }), null)
      assert.equal(await store.markShopDeauthorized({ appKey: 'app-1', shopId: '2' }), true)
      assert.equal((await store.getShop({ appKey: 'app-1', shopId: '2' })).status, 'deauthorized')
      assert.equal(await store.markShopDeauthorized({ appKey: 'app-1', shopId: 'nope' }), false)
      assert.equal(await store.deleteShop({ appKey: 'app-1', shopId: '2' }), true)
      assert.equal(await store.deleteShop({ appKey: 'app-1', shopId: '2' }), false)
      await store.close()
    })

    test('OAuth state: single use, expiry, unknown', async () => {
      const store = await make()
      await store.saveOAuthState('state-1', 2000)
      await assert.rejects(store.consumeOAuthState('state-1', 2000), { code: 'TTS_STATE_EXPIRED' })
      await store.saveOAuthState('state-2', 2000)
      await store.consumeOAuthState('state-2', 1999)
      await assert.rejects(store.consumeOAuthState('state-2', 1999), { code: 'TTS_STATE_REUSED' })
      await assert.rejects(store.consumeOAuthState('state-3', 1), { code: 'TTS_STATE_INVALID' })
      await store.close()
    })

    test('inbox: insert once per notification id, exact bytes, claim/complete/fail with leases', async () => {
      const store = await make()
      const payload = Buffer.from('{\n "type": 1, "note": "Größe 🧦"\n}')
      assert.equal(await store.insertInbox({ notificationId: 'n1', shopId: 's', eventType: 1, payload }), true)
      assert.equal(await store.insertInbox({ notificationId: 'n1', shopId: 's', eventType: 1, payload: Buffer.from('other') }), false)
      assert.ok((await store.getInbox('n1')).payload.equals(payload))
      await store.insertInbox({ notificationId: 'n2', shopId: 's', eventType: 2, payload })
      await store.insertInbox({ notificationId: 'n3', shopId: 't', eventType: 2, payload })
      assert.equal(await store.countInboxPending(), 3)

      const claimed = await store.claimInbox('worker-a', 2, 60_000)
      assert.equal(claimed.length, 2)
      assert.ok(claimed.every((m) => m.leaseOwner === 'worker-a' && m.attempts === 1))
      const rest = await store.claimInbox('worker-b', 10, 60_000)
      assert.equal(rest.length, 1, 'a claimed message is not handed out twice')
      assert.ok(!claimed.some((m) => m.notificationId === rest[0].notificationId))

      const [a, b] = claimed
      assert.equal(await store.completeInbox(a.notificationId, 'worker-b'), false, 'only the owner completes')
      assert.equal(await store.completeInbox(a.notificationId, 'worker-a'), true)
      assert.equal((await store.getInbox(a.notificationId)).outcome, 'done')
      assert.equal(await store.failInbox(b.notificationId, 'worker-a', 'PlentyONE said 503', 50), true)
      assert.equal((await store.listInbox({ state: 'failing', limit: 10 })).map((m) => m.notificationId).join(), b.notificationId)
      assert.equal((await store.claimInbox('worker-c', 10, 60_000)).length, 0, 'not before the retry time')
      await sleep(80)
      const retried = await store.claimInbox('worker-c', 10, 60_000)
      assert.deepEqual(retried.map((m) => m.notificationId), [b.notificationId])
      assert.equal(retried[0].attempts, 2)
      assert.equal(await store.failInbox(b.notificationId, 'worker-c', 'bad payload', null), true)
      assert.equal((await store.getInbox(b.notificationId)).outcome, 'given_up')

      // a lease that runs out makes the message claimable by someone else
      const [c] = rest
      const short = await make()
      await short.insertInbox({ notificationId: 'x', shopId: 's', eventType: 1, payload })
      await short.claimInbox('dies', 1, 30)
      await sleep(60)
      assert.equal((await short.claimInbox('lives', 1, 60_000))[0].notificationId, 'x')
      assert.equal(await short.completeInbox('x', 'dies'), false, 'the lost lease cannot complete')
      await short.close()

      assert.equal(await store.countInboxPending(), 1)
      assert.deepEqual((await store.listInbox({ state: 'pending', limit: 10 })).map((m) => m.notificationId), [c.notificationId])
      assert.deepEqual((await store.listInbox({ state: 'pending', shopId: 'nobody', limit: 10 })), [])
      await store.close()
    })

    test('mappings: insert-if-absent for orders, update, filters and pages', async () => {
      const store = await make()
      const order = { shopId: 's', tiktokOrderId: '100', plentyOrderId: null, tiktokStatus: 'AWAITING_SHIPMENT', tiktokUpdateTime: 1, syncStatus: 'pending', syncError: null, lastSyncedAt: null }
      assert.equal(await store.insertOrderMappingIfAbsent(order), true)
      assert.equal(await store.insertOrderMappingIfAbsent({ ...order, plentyOrderId: 7 }), false, 'one PlentyONE order per TikTok order')
      await store.updateOrderMapping({ ...order, plentyOrderId: 7, syncStatus: 'synced' })
      await store.insertOrderMappingIfAbsent({ ...order, tiktokOrderId: '101', syncStatus: 'error', syncError: 'unknown SKU' })
      await assert.rejects(store.updateOrderMapping({ ...order, tiktokOrderId: '999' }), { code: 'TTS_NOT_FOUND' })
      assert.deepEqual((await store.listOrderMappings({ shopId: 's', limit: 10 })).map((m) => [m.tiktokOrderId, m.plentyOrderId]), [['100', 7], ['101', null]])
      assert.deepEqual((await store.listOrderMappings({ shopId: 's', status: 'error', limit: 10 })).map((m) => m.syncError), ['unknown SKU'])
      assert.deepEqual((await store.listOrderMappings({ shopId: 's', afterTiktokOrderId: '100', limit: 10 })).map((m) => m.tiktokOrderId), ['101'])

      const product = { shopId: 's', plentyItemId: 1, plentyVariationId: 10, tiktokProductId: null, tiktokSkuId: null, sellerSku: 'SKU-10', syncStatus: 'pending', syncError: null, lastSyncedAt: null, auditStatus: null, auditReasons: [] }
      await store.upsertProductMapping(product)
      await store.upsertProductMapping({ ...product, plentyVariationId: 5, syncStatus: 'error', syncError: 'title too long', auditReasons: ['x'] })
      await store.upsertProductMapping({ ...product, tiktokProductId: 'p1', syncStatus: 'synced' })
      assert.deepEqual((await store.listProductMappings({ shopId: 's', limit: 10 })).map((m) => [m.plentyVariationId, m.syncStatus]), [[5, 'error'], [10, 'synced']])
      assert.deepEqual((await store.listProductMappings({ shopId: 's', afterVariationId: 5, limit: 1 })).map((m) => m.plentyVariationId), [10])
      await assert.rejects(store.listProductMappings({ shopId: 's', limit: 0 }), { code: 'TTS_INVALID_ARGUMENT' })
      await store.close()
    })

    test('sync runs: start, progress, finish, newest first', async () => {
      const store = await make()
      const r1 = await store.startSyncRun('s', 'orders', 'queued')
      const r2 = await store.startSyncRun('s', 'products', 'queued')
      assert.equal(r1.status, 'running')
      await store.updateSyncRun(r1.id, { phase: 'importing', done: 3, total: 10, errors: 1 })
      await store.finishSyncRun(r1.id, 'succeeded', { imported: 3 })
      const done = await store.getSyncRun(r1.id)
      assert.equal(done.status, 'succeeded')
      assert.deepEqual(done.summary, { imported: 3 })
      assert.equal(done.done, 3)
      assert.ok(done.finishedAt >= done.startedAt)
      assert.deepEqual((await store.listSyncRuns('s', null, 10)).map((r) => r.id), [r2.id, r1.id])
      assert.deepEqual((await store.listSyncRuns('s', 'orders', 10)).map((r) => r.id), [r1.id])
      await assert.rejects(store.updateSyncRun(99999, { phase: 'x', done: 0, total: null, errors: 0 }), { code: 'TTS_NOT_FOUND' })
      assert.equal(await store.getSyncRun(99999), null)
      await store.close()
    })
  })
}

// Every backend is the native store, through the same factory the integration uses.
conformance('native memory: via openStore()', async () => {
  const key = generateEncryptionKey()
  const { store, warning } = await openStore('memory:', { encryptionKey: key, sealer: new Sealer(key) })
  assert.equal(store.backend, 'memory')
  assert.equal(store.durable, false)
  assert.match(warning, /lost on restart/)
  return store
})
conformance('native sqlite via openStore()', async () => {
  const key = generateEncryptionKey()
  const { store } = await openStore(`sqlite://${join(tmp, `store-${++files}.db`)}`, { encryptionKey: key, sealer: new Sealer(key) })
  assert.equal(store.backend, 'sqlite')
  assert.equal(store.durable, true)
  return store
})

describe('store factory', () => {
  test('the factory: memory: and sqlite: are the native store; an unknown scheme is refused with its variable', async () => {
    const key = generateEncryptionKey()
    const opts = { encryptionKey: key, sealer: new Sealer(key) }
    const mem = await openStore('memory:', opts)
    assert.deepEqual([mem.store.backend, mem.store.durable], ['memory', false])
    await mem.store.close()
    const sqlite = await openStore(`sqlite://${join(tmp, 'factory.db')}`, opts)
    assert.deepEqual([sqlite.store.backend, sqlite.store.durable, sqlite.warning], ['sqlite', true, undefined])
    await assert.rejects(openStore('mysql://u@h/db', opts), { code: 'TTS_CONFIG_INVALID', field: 'TIKTOK_SHOP_DATABASE_URL' })
    await sqlite.store.close()
  })
})
