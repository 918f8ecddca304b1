// Orders in, through the Alokai integration: with PlentyONE REST configured (and PLENTY_ID) and the
// durable store, a connected shop's paid orders become PlentyONE orders from their webhooks, once each,
// and a buyer's cancellation follows. Both stand-ins run as processes (debug builds).
import assert from 'node:assert/strict'
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
      databaseUrl: `sqlite://${join(dir, 'mw.db')}`, encryptionKey: generateEncryptionKey(),
      plenty: { restUrl: plenty.info.base_url, username: plenty.info.username, password: plenty.info.password, plentyId: 1000 },
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
  assert.ok(runtime.orderSync, 'order import runs when PlentyONE and a durable store are configured')
  const connected = await (await fetch(`${mw.url}/api/tiktok/auth`, { headers: { accept: 'application/json' } })).json()
  const shopId = connected.shops[0].shopId
  assert.deepEqual(runtime.orderSync.shops, [shopId], 'the connected shop was added to the import')

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
