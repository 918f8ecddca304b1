// The durable store through the addon: the same checks on SQLite (a temp file) and, when
// TIKTOK_SHOP_TEST_POSTGRES_URL is set (CI sets it), on the real PostgreSQL.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'

import { generateEncryptionKey, openStore } from '../index.js'

const key = generateEncryptionKey()
const dir = mkdtempSync(join(tmpdir(), 'tts-store-js-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const backends = [['sqlite', () => `sqlite://${join(dir, 'shop.db')}`]]
const pg = process.env.TIKTOK_SHOP_TEST_POSTGRES_URL
if (pg) backends.push(['postgres', () => pg])
else console.error('SKIPPED: PostgreSQL store tests (TIKTOK_SHOP_TEST_POSTGRES_URL not set)')

for (const [name, url] of backends) {
  describe(`native store on ${name}`, () => {
    const run = randomUUID().slice(0, 8) // several runs may share one PostgreSQL database
    const shopId = `7495${run}`
    const appKey = `app-js-${run}`
    const shop = {
      appKey, shopId, region: 'DE', shopName: 'Müller Mode 🧦', sellerType: 'LOCAL', shopCode: 'DE1',
      cipher: `ROW_cipher_${run}`, accessToken: `TTP_access_${run}`, accessTokenExpiresAt: 1_900_000_000,
      refreshToken: `TTP_refresh_${run}`, refreshTokenExpiresAt: 1_930_000_000, grantedScopes: ['seller.order.info'], status: 'connected',
    }

    test('shops round-trip with their secrets sealed at rest', async () => {
      const store = await openStore(url(), key)
      assert.equal(store.backend, name)
      assert.equal(store.durable, true)
      await store.upsertShop(shop)
      const back = await store.getShop({ appKey, shopId })
      for (const field of Object.keys(shop)) assert.deepEqual(back[field], shop[field], field)
      assert.ok(back.createdAt > 0)
      assert.ok((await store.listShops(appKey)).some((s) => s.shopId === shopId))
      assert.equal(await store.getShop({ appKey, shopId: 'nope' }), null)
      await assert.rejects(store.upsertShop({ ...shop, status: 'maybe' }), { code: 'TTS_INVALID_ARGUMENT', field: 'status' })
      if (name === 'sqlite') {
        const bytes = readdirSync(dir).map((f) => readFileSync(join(dir, f)).toString('latin1')).join('')
        assert.ok(bytes.includes(shopId), 'the shop is on disk')
        for (const secret of [shop.accessToken, shop.refreshToken, shop.cipher]) assert.ok(!bytes.includes(secret), 'sealed at rest')
      }
      await store.close()
      // a store opened with another key cannot read the secrets, and says so
      const other = await openStore(url(), generateEncryptionKey())
      await assert.rejects(other.getShop({ appKey, shopId }), { code: 'TTS_SEAL_OPEN_FAILED' })
      await other.close()
    })

    test('inbox: one row per notification id, claimed once, completed', async () => {
      const store = await openStore(url(), key)
      const message = { notificationId: `n-${run}`, shopId, eventType: 1, payload: Buffer.from('{"type":1,"data":{"note":"Größe"}}') }
      const inserted = await Promise.all(Array.from({ length: 10 }, () => store.insertInbox(message)))
      assert.equal(inserted.filter(Boolean).length, 1)
      const got = await store.getInbox(message.notificationId)
      assert.ok(got.payload.equals(message.payload), 'payload bytes kept exactly')
      const claimed = (await store.claimInbox(`worker-${run}`, 1000, 30_000)).filter((m) => m.notificationId === message.notificationId)
      assert.equal(claimed.length, 1)
      assert.equal((await store.claimInbox(`other-${run}`, 1000, 30_000)).filter((m) => m.notificationId === message.notificationId).length, 0)
      assert.equal(await store.completeInbox(message.notificationId, `other-${run}`), false, 'only the claimer completes')
      assert.equal(await store.completeInbox(message.notificationId, `worker-${run}`), true)
      assert.equal((await store.getInbox(message.notificationId)).outcome, 'done')
      await store.close()
    })

    test('order mappings: 50 concurrent inserts of one order, exactly one wins', async () => {
      const store = await openStore(url(), key)
      const mapping = { shopId, tiktokOrderId: `5766${run}`, syncStatus: 'pending' }
      const wins = await Promise.all(Array.from({ length: 50 }, () => store.insertOrderMappingIfAbsent(mapping)))
      assert.equal(wins.filter(Boolean).length, 1)
      await store.updateOrderMapping({ ...mapping, plentyOrderId: 4711, syncStatus: 'error', syncError: 'Adresse unvollständig' })
      const [row] = await store.listOrderMappings({ shopId, status: 'error', limit: 10 })
      assert.equal(row.plentyOrderId, 4711)
      assert.equal(row.syncError, 'Adresse unvollständig')
      await store.upsertProductMapping({ shopId, plentyItemId: 1, plentyVariationId: 11, sellerSku: 'SKU-11', syncStatus: 'error', syncError: 'title too long', auditReasons: [] })
      assert.equal((await store.listProductMappings({ shopId, limit: 10 }))[0].syncError, 'title too long')
      await store.close()
    })

    test('OAuth state is accepted once; sync runs record progress', async () => {
      const store = await openStore(url(), key)
      const state = `state-${run}`
      await store.saveOAuthState(state, 2_000_000_000)
      await store.consumeOAuthState(state, 1_900_000_000)
      await assert.rejects(store.consumeOAuthState(state, 1_900_000_001), { code: 'TTS_STATE_REUSED' })
      await assert.rejects(store.consumeOAuthState(`unknown-${run}`, 1_900_000_001), { code: 'TTS_STATE_INVALID' })
      const runRecord = await store.startSyncRun(shopId, 'orders', 'search')
      await store.updateSyncRun(runRecord.id, { phase: 'import', done: 5, total: 10, errors: 1 })
      await store.finishSyncRun(runRecord.id, 'succeeded', { imported: 9 })
      const done = await store.getSyncRun(runRecord.id)
      assert.equal(done.status, 'succeeded')
      assert.deepEqual(done.summary, { imported: 9 })
      assert.equal((await store.listSyncRuns(shopId, 'orders', 5))[0].id, runRecord.id)
      await assert.rejects(store.finishSyncRun(runRecord.id, 'running', {}), { code: 'TTS_INVALID_ARGUMENT' })
      await store.close()
    })
  })
}
