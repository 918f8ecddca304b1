// Requests/s and CPU per request through the addon's client vs a pure-Node baseline (fetch + node:crypto,
// same signing and headers), against the sandbox with rate limits lifted, at concurrency 1 and 64.
// Run: `npm run bench:client` (release builds of the addon and the sandbox; one run, side by side).
import { createHmac } from 'node:crypto'
import { cpus } from 'node:os'

import { TikTokShopClient } from '../index.js'
import { startSandbox } from '../scripts/sandbox.mjs'

const sandbox = await startSandbox(['--rate-limit', 'off'], { profile: 'release' })
const { base_url: base, app_key: appKey, app_secret: appSecret } = sandbox.info
const shop = sandbox.info.shops[0]
const tokens = await sandbox.control('POST', '/tokens', {})
const { order_ids: orderIds } = await sandbox.control('POST', `/shops/${shop.id}/orders`, { count: 5, status: 'AWAITING_SHIPMENT' })
const ids = orderIds.join(',')

const client = new TikTokShopClient({ appKey, appSecret, apiBase: base, authBase: base, ratePerSecond: 0 })
await client.addShop({ shopId: shop.id, cipher: shop.cipher, accessToken: tokens.access_token, accessTokenExpireIn: tokens.access_token_expire_in, refreshToken: tokens.refresh_token })
const viaAddon = async () => {
  const res = await client.call(shop.id, 'orders.get', { query: { ids: orderIds } })
  if (res.data.orders.length !== 5) throw new Error('addon: wrong answer')
}

// What an integrator would write in plain Node for the same call.
const path = '/order/202309/orders'
const viaNode = async () => {
  const query = { app_key: appKey, timestamp: String(Math.floor(Date.now() / 1000)), shop_cipher: shop.cipher, ids }
  const base_string = path + Object.keys(query).sort().map((k) => k + query[k]).join('')
  const sign = createHmac('sha256', appSecret).update(appSecret + base_string + appSecret).digest('hex')
  const url = `${base}${path}?${new URLSearchParams({ ...query, sign })}`
  const res = await fetch(url, { headers: { 'x-tts-access-token': tokens.access_token, 'content-type': 'application/json' } })
  const body = await res.json()
  if (body.code !== 0 || body.data.orders.length !== 5) throw new Error(`node: ${body.code} ${body.message}`)
}

async function run(fn, total, concurrency) {
  for (let i = 0; i < 200; i++) await fn() // warm-up (connections, JIT)
  let next = 0
  const cpu0 = process.cpuUsage()
  const t0 = process.hrtime.bigint()
  await Promise.all(Array.from({ length: concurrency }, async () => { while (next++ < total) await fn() }))
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  const cpu = process.cpuUsage(cpu0)
  return { rps: total / seconds, cpuUs: (cpu.user + cpu.system) / total }
}

const rows = []
for (const [concurrency, total] of [[1, 3000], [64, 30000]]) {
  const addon = await run(viaAddon, total, concurrency)
  const node = await run(viaNode, total, concurrency)
  rows.push({ concurrency, total, addon, node })
}
await sandbox.stop()

console.log(`Node ${process.version}, ${cpus()[0].model}, ${cpus().length} cores; sandbox (release) on loopback, rate limit off;`)
console.log('call: GET /order/202309/orders with 5 ids (signed, token header, JSON decoded); CPU = this process (user+system)\n')
console.log('| concurrency | requests | addon req/s | node req/s | addon CPU µs/req | node CPU µs/req |')
console.log('|---|---|---|---|---|---|')
for (const r of rows) {
  console.log(`| ${r.concurrency} | ${r.total} | ${r.addon.rps.toFixed(0)} | ${r.node.rps.toFixed(0)} | ${r.addon.cpuUs.toFixed(1)} | ${r.node.cpuUs.toFixed(1)} |`)
}
