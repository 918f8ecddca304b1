#!/usr/bin/env node
// `npm start`: the non-interactive demo. Builds what is missing, starts the TikTok Shop sandbox, the
// PlentyONE REST stand-in and the example PlentyONE-style Alokai middleware (examples/plentyone-middleware)
// with the tiktok integration, connects a shop through the real OAuth routes (the sandbox auto-consents),
// creates and pays demo orders in the sandbox, waits for the signed webhooks to land in the inbox, reads the
// orders back through the integration's TikTok client, imports them into PlentyONE (webhook-driven, then a
// reconciliation run), follows a buyer's cancellation, exports the PlentyONE catalogue to TikTok (with a
// progress line and TikTok's audit results), sends a stock change and a shipment's tracking to TikTok, and
// prints a summary.
//
//   npm start                      run the scripted demo and exit 0
//   npm start -- --keep-running    then stay up until Ctrl-C (open the printed URLs yourself)
//
// Environment: PORT (default 8181; a free port if busy), TIKTOK_SHOP_DATABASE_URL (default
// sqlite://./data/demo.db), TIKTOK_SHOP_ENCRYPTION_KEY (default: a demo key kept in data/, mode 600).
import { spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer as createNetServer } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)
const keepRunning = process.argv.includes('--keep-running')
const t0 = Date.now()

const say = (msg) => console.log(`[demo ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${msg}`)
const fail = (msg) => {
  console.error(`[demo] FAILED: ${msg}`)
  process.exitCode = 1
}

// ---- build what is missing ----

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    say(`$ ${cmd} ${args.join(' ')}`)
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] })
    children.add(child)
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      children.delete(child)
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited with ${signal ?? code}`))
    })
  })
}

function newest(dir, ext) {
  let t = 0
  if (!existsSync(dir)) return t
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'dist' || e.name === 'node_modules') continue
    const p = join(dir, e.name)
    if (e.isDirectory()) t = Math.max(t, newest(p, ext))
    else if (e.name.endsWith(ext)) t = Math.max(t, statSync(p).mtimeMs)
  }
  return t
}

const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0)

async function buildIfNeeded() {
  // Rebuilt when missing or older than the Rust sources (e.g. after a pull).
  const rust = Math.max(...['src', 'crates', 'sandbox'].map((d) => newest(join(root, d), '.rs')), mtime(join(root, 'Cargo.lock')))
  const addon = join(root, 'tiktok-shop.linux-x64-gnu.node')
  if (!existsSync(addon) || mtime(addon) < rust) {
    say('building the native addon (release; takes a few minutes the first time)')
    await run('npx', ['napi', 'build', '--platform', '--release', '--no-const-enum'])
  }
  const { sandboxBinary } = await import('./sandbox.mjs')
  for (const [name, pkg] of [['tts-sandbox', 'tts-sandbox'], ['plenty-sandbox', 'tts-plenty-sandbox']]) {
    const binary = sandboxBinary('release', name)
    if (!existsSync(binary) || mtime(binary) < rust) {
      say(`building ${name} (release)`)
      await run('cargo', ['build', '--release', '-p', pkg])
    }
  }
  const serverOut = join(root, 'server', 'dist', 'index.js')
  const exampleOut = join(root, 'examples', 'plentyone-middleware', 'dist', 'src', 'index.js')
  const sources = Math.max(newest(join(root, 'server', 'src'), '.ts'), newest(join(root, 'examples', 'plentyone-middleware'), '.ts'))
  if (sources > Math.min(mtime(serverOut), mtime(exampleOut))) {
    say('compiling the TypeScript integration (npm run build:ts)')
    await run('npm', ['run', '-s', 'build:ts'])
  }
}

// ---- helpers ----

function portFree(port) {
  return new Promise((resolve) => {
    const s = createNetServer()
    s.once('error', () => resolve(undefined))
    s.listen(port, '127.0.0.1', () => {
      const p = s.address().port
      s.close(() => resolve(p))
    })
  })
}

function demoKey() {
  if (process.env.TIKTOK_SHOP_ENCRYPTION_KEY) return process.env.TIKTOK_SHOP_ENCRYPTION_KEY
  const file = join(root, 'data', '.demo-encryption-key')
  if (existsSync(file)) return readFileSync(file, 'utf8').trim()
  mkdirSync(join(root, 'data'), { recursive: true })
  const key = require('tiktok-shop-plentyone').generateEncryptionKey()
  writeFileSync(file, key + '\n', { mode: 0o600 })
  chmodSync(file, 0o600)
  return key
}

/**
 * The admin token guarding the admin routes and SDK methods (closed without one): TIKTOK_SHOP_ADMIN_TOKEN if
 * set, else one generated once and kept in data/.demo-admin-token (0600), never printed.
 */
function demoAdminToken() {
  if (process.env.TIKTOK_SHOP_ADMIN_TOKEN) return process.env.TIKTOK_SHOP_ADMIN_TOKEN
  const file = join(root, 'data', '.demo-admin-token')
  if (existsSync(file)) return readFileSync(file, 'utf8').trim()
  mkdirSync(join(root, 'data'), { recursive: true })
  const token = require('node:crypto').randomBytes(32).toString('base64url')
  writeFileSync(file, token + '\n', { mode: 0o600 })
  chmodSync(file, 0o600)
  return token
}

/** Alokai's logger handler for the demo: warnings and errors as one readable line each, the rest dropped. */
const demoLogger = (() => {
  const line = (level) => (data, meta) => {
    const text = typeof data === 'string' ? data : data instanceof Error ? data.message : JSON.stringify(data)
    const extra = meta?.tiktok ? ` ${JSON.stringify(meta.tiktok)}` : ''
    console.log(`[middleware ${level}] ${text}${extra}`)
  }
  const quiet = () => {}
  return { emergency: line('emergency'), alert: line('alert'), critical: line('critical'), error: line('error'), warning: line('warning'), notice: quiet, info: quiet, debug: quiet }
})()

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

async function waitFor(what, check, timeoutMs = 15000) {
  const until = Date.now() + timeoutMs
  for (;;) {
    const v = await check()
    if (v) return v
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
}

// ---- lifecycle ----

const children = new Set()
let sandbox
let plenty
let middleware
let stopping = false

async function stopAll(code) {
  if (stopping) return
  stopping = true
  for (const c of children) c.kill('SIGTERM')
  try {
    await middleware?.close()
  } catch {}
  try {
    await sandbox?.stop()
  } catch {}
  try {
    await plenty?.stop()
  } catch {}
  if (code !== undefined) process.exit(code)
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    console.log(`\n[demo] ${sig}: stopping the middleware and the sandbox`)
    stopAll(process.exitCode ?? 0)
  })
}

async function main() {
  await buildIfNeeded()
  const { startPlentySandbox, startSandbox } = await import('./sandbox.mjs')
  const { startMiddleware } = require('../examples/plentyone-middleware/dist/src/index.js')
  const { createConfig } = require('../examples/plentyone-middleware/dist/middleware.config.js')
  const { runtimeOf } = require('tiktok-shop-plentyone/server')
  const { paginate } = require('tiktok-shop-plentyone/pagination')

  const wanted = Number(process.env.PORT ?? 8181)
  const port = (await portFree(wanted)) ?? (await portFree(0))
  if (port !== wanted) say(`port ${wanted} is busy: using ${port}`)
  const base = `http://127.0.0.1:${port}`

  sandbox = await startSandbox(['--redirect-uri', `${base}/api/tiktok/callback`, '--webhook-url', `${base}/api/tiktok/webhooks`, '--audit-delay-ms', '200'], { profile: 'release' })
  const info = sandbox.info
  say(`sandbox (TikTok Shop stand-in) on ${info.base_url}: app ${info.app_key}, ${info.shops.length} seeded shops`)
  // PlentyONE's Basic plan (40 writes, 80 reads per window) with a 2 s window instead of a minute, so the
  // demo runs the same pacing rules in seconds.
  plenty = await startPlentySandbox(['--window-secs', '2'], { profile: 'release' })
  say(`PlentyONE REST stand-in on ${plenty.info.base_url} (Basic plan limits, 2 s windows)`)

  // The sandbox starts empty every time, so the demo's own database does too (a URL you set is left alone).
  const databaseUrl = process.env.TIKTOK_SHOP_DATABASE_URL ?? 'sqlite://./data/demo.db'
  if (!process.env.TIKTOK_SHOP_DATABASE_URL) {
    for (const f of ['demo.db', 'demo.db-wal', 'demo.db-shm']) rmSync(join(root, 'data', f), { force: true })
  }
  const adminToken = demoAdminToken()
  const adminHeaders = { authorization: `Bearer ${adminToken}` }
  // how a shell refers to the token without printing it
  const tokenRef = process.env.TIKTOK_SHOP_ADMIN_TOKEN ? '$TIKTOK_SHOP_ADMIN_TOKEN' : '$(cat data/.demo-admin-token)'
  const config = createConfig({
    tiktok: {
      appKey: info.app_key,
      appSecret: info.app_secret,
      serviceId: info.service_id,
      region: 'US',
      redirectUri: `${base}/api/tiktok/callback`,
      apiBase: info.base_url,
      authBase: info.base_url,
      authorizeBase: info.base_url,
      databaseUrl,
      encryptionKey: demoKey(),
      adminToken,
      plenty: { restUrl: plenty.info.base_url, username: plenty.info.username, password: plenty.info.password, plentyId: 1000 },
      sync: {
        defaults: {
          // The stand-in's catalogue has no TikTok categories: everything is listed as T-shirts (which
          // require the Material attribute); shipments without a mapped profile go out with USPS.
          products: {
            categories: { default_category_id: '601302' },
            category_product_attributes: { 601302: [{ id: '100198', values: [{ id: '3001', name: 'Cotton' }] }] },
            inventory: { buffer: { absolute: '1', percent: '0' } },
          },
          tracking: { default_provider_id: '7117858858072016686' },
        },
        timings: { heartbeatMs: 250 },
      },
    },
  })
  middleware = await startMiddleware({ config: { ...config, logger: { handler: demoLogger } }, port, host: '127.0.0.1' })
  const runtime = runtimeOf(config.integrations.tiktok.configuration)
  say(`Alokai middleware on ${middleware.url} with integrations: ${Object.keys(config.integrations).join(', ')} (plentysystems is registered when @plentymarkets/shop-api is installed)`)
  say(`storage: ${runtime.store.backend}${runtime.store.durable ? ` (${databaseUrl}, tokens sealed with the demo key in data/.demo-encryption-key)` : ' (memory: not durable)'}`)
  console.log('')
  console.log(`  Connect a TikTok shop:  ${middleware.url}/api/tiktok/auth   (the sandbox consents at once)`)
  console.log(`  Connection:             ${middleware.url}/api/tiktok/connection`)
  console.log(`  Sync status:            ${middleware.url}/api/tiktok/sync/status`)
  console.log(`  SDK endpoint:           POST ${middleware.url}/tiktok/getConnection`)
  console.log(`  Admin routes and SDK methods need the admin token (${process.env.TIKTOK_SHOP_ADMIN_TOKEN ? 'TIKTOK_SHOP_ADMIN_TOKEN' : 'generated in data/.demo-admin-token'}):`)
  console.log(`    curl -H "Authorization: Bearer ${tokenRef}" ${middleware.url}/api/tiktok/sync/status`)
  console.log('')

  // 1. connect, exactly as a merchant's browser would (redirects followed)
  say(`following the connect URL ${middleware.url}/api/tiktok/auth`)
  const connectRes = await fetch(`${middleware.url}/api/tiktok/auth`, { headers: { accept: 'application/json', ...adminHeaders } })
  const connected = await connectRes.json()
  if (connectRes.status !== 200) throw new Error(`connect failed: ${connectRes.status} ${JSON.stringify(connected)}`)
  for (const s of connected.shops) say(`connected ${s.name} (${s.region}, shop ${s.shopId}) for ${connected.sellerName}; tokens sealed in the store`)
  const shop = connected.shops[0]

  // 2. the SDK view of the connection (what a storefront/admin page gets)
  const { initSDK, buildModule, middlewareModule } = require('@vue-storefront/sdk')
  const sdk = initSDK({ tiktok: buildModule(middlewareModule, { apiUrl: `${middleware.url}/tiktok`, defaultRequestConfig: { headers: adminHeaders }, logger: { onRequest() {}, onResponse() {} } }) })
  const connection = await sdk.tiktok.getConnection()
  say(`sdk.tiktok.getConnection(): connected=${connection.connected}, shops=[${connection.shops.map((s) => s.shopId).join(', ')}] (no tokens in the answer)`)

  // 3. demo orders in the sandbox: created (UNPAID) then paid (AWAITING_SHIPMENT); each change is a signed webhook
  const orderCount = 3
  const { order_ids: orderIds } = await sandbox.control('POST', `/shops/${shop.shopId}/orders`, { count: orderCount })
  for (const id of orderIds) await sandbox.control('POST', `/orders/${id}/advance`, { status: 'AWAITING_SHIPMENT' })
  say(`created ${orderIds.length} orders in the sandbox and moved them to AWAITING_SHIPMENT (paid): ${orderIds.join(', ')}`)

  // 4. wait until every delivery the sandbox made was acknowledged and is in the inbox
  // (each order changes status at least twice: created, paid; wait until the count stops growing)
  let last = -1
  const deliveries = await waitFor('webhook deliveries', async () => {
    const d = (await sandbox.control('GET', '/webhooks/deliveries')).deliveries
    const settled = d.length >= orderCount * 2 && d.length === last && d.every((x) => x.status !== null || x.error)
    last = d.length
    if (!settled) await sleep(200)
    return settled ? d : undefined
  })
  const acknowledged = deliveries.filter((d) => d.status === 200)
  const inInbox = (await Promise.all(acknowledged.map((d) => runtime.store.getInbox(d.tts_notification_id)))).filter(Boolean)
  say(`webhooks: ${deliveries.length} delivered by the sandbox, ${acknowledged.length} acknowledged with 200, ${inInbox.length} in the inbox (verified from their raw bytes)`)

  // 5. a forged webhook is refused
  const forged = await fetch(`${middleware.url}/api/tiktok/webhooks`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: '0'.repeat(64) }, body: deliveries[0].body })
  say(`a forged webhook (same body, wrong signature) was answered ${forged.status}`)

  // 6. the orders, read back through the integration's TikTok client (throttled, signed, paginated)
  const seen = []
  for await (const o of paginate(runtime.client, shop.shopId, 'orders.search', { body: {} }, 50)) seen.push(o)
  const ours = seen.filter((o) => orderIds.includes(o.id))
  say(`orders.search through the client: ${seen.length} orders in the shop, ${ours.length}/${orderIds.length} demo orders: ${ours.map((o) => `${o.id}=${o.status}`).join(', ')}`)

  // 7. order import: the native worker drains the inbox into PlentyONE (webhook-driven), and a triggered
  //    "orders" run reconciles with TikTok (what catches lost or late webhooks). Exactly one PlentyONE order
  //    per TikTok order, looked up by its external order id before it is created.
  const imported = await waitFor('the PlentyONE orders', async () => {
    const { mappings } = await sdk.tiktok.listOrderMappings({ shopId: shop.shopId })
    const done = orderIds.map((id) => mappings.find((m) => m.tiktokOrderId === id && m.syncStatus === 'synced'))
    return done.every(Boolean) ? done : undefined
  }, 30000)
  for (const m of imported) {
    const order = await plenty.control('GET', `/orders/${m.plentyOrderId}`)
    const external = order.properties.find((p) => p.typeId === 7)?.value
    say(`TikTok order ${m.tiktokOrderId} → PlentyONE order ${order.id} (status ${order.statusId}, external order id ${external}, ${order.orderItems.length} items)`)
  }
  const triggered = await sdk.tiktok.triggerSync({ shopId: shop.shopId, kind: 'orders' })
  say(`sdk.tiktok.triggerSync({ kind: 'orders' }): ${triggered.runs.length} run queued`)
  const run = await waitFor('the orders run', async () => {
    const st = await sdk.tiktok.getSyncStatus()
    const r = st.shops.find((x) => x.shopId === shop.shopId)?.runs.find((x) => x.kind === 'orders')
    return r && r.state !== 'queued' && r.state !== 'running' ? r : undefined
  }, 30000)
  say(`sync run #${run.id} (orders) ${run.state}: ${JSON.stringify(run.summary)}`)

  // 8. the buyer cancels one order: TikTok's webhook reaches the inbox, and the PlentyONE order follows
  const cancelled = orderIds[0]
  await sandbox.control('POST', `/orders/${cancelled}/advance`, { status: 'CANCELLED' })
  const cancelledMapping = await waitFor('the cancellation', async () => {
    const { mappings } = await sdk.tiktok.listOrderMappings({ shopId: shop.shopId })
    const m = mappings.find((x) => x.tiktokOrderId === cancelled)
    return m?.tiktokStatus === 'CANCELLED' ? m : undefined
  }, 30000)
  const cancelledOrder = await plenty.control('GET', `/orders/${cancelledMapping.plentyOrderId}`)
  say(`buyer cancelled ${cancelled} on TikTok → PlentyONE order ${cancelledOrder.id} now has status ${cancelledOrder.statusId}`)

  // 9. the catalogue out: the merchant maps the shop's TikTok sales warehouse (both PlentyONE warehouses
  //    feed it) and triggers a products run; its progress is polled as an admin page would show it.
  const { data: wh } = await runtime.client.call(shop.shopId, 'logistics.warehouses')
  const salesWarehouse = wh.warehouses.find((w) => w.type === 'SALES_WAREHOUSE').id
  runtime.config.sync.shops[shop.shopId] = { products: { inventory: { warehouses: { links: [1, 2].map((id) => ({ plenty_warehouse_id: id, tiktok_warehouse_id: salesWarehouse })) } } } }
  await runtime.applyShopSettings(shop.shopId)
  say(`PlentyONE warehouses 1 and 2 feed TikTok sales warehouse ${salesWarehouse}`)
  const products = await runKind(sdk, shop.shopId, 'products')
  const exported = products.summary.report
  say(`products run #${products.id} ${products.state}: ${exported.created} created, ${exported.updated ?? 0} updated, ${exported.invalid ?? 0} refused before sending, errors ${exported.errors}`)
  const audited = await waitFor('TikTok audit results', async () => {
    const { mappings } = await sdk.tiktok.listProductMappings({ shopId: shop.shopId, limit: 1000 })
    const listed = mappings.filter((m) => m.tiktokProductId)
    return listed.length > 0 && listed.every((m) => m.auditStatus && m.auditStatus !== 'PENDING') ? listed : undefined
  }, 30000).catch(() => undefined)
  const byAudit = {}
  for (const m of audited ?? []) byAudit[m.auditStatus] = (byAudit[m.auditStatus] ?? 0) + 1
  const rejected = (audited ?? []).find((m) => m.auditReasons?.length)
  say(`TikTok audit of the ${(audited ?? []).length} listed variations (webhooks into the inbox): ${JSON.stringify(byAudit)}${rejected ? `; e.g. variation ${rejected.plentyVariationId}: ${rejected.auditReasons[0]}` : ''}`)

  // 10. stock: PlentyONE gains 10 units of one listed variation; the inventory run sends the new quantity
  const listedOne = (audited ?? (await sdk.tiktok.listProductMappings({ shopId: shop.shopId, limit: 1000 })).mappings).find((m) => m.tiktokSkuId)
  const tiktokQuantity = async () => (await sandbox.control('GET', `/products/${listedOne.tiktokProductId}`)).skus.find((x) => x.id === listedOne.tiktokSkuId).inventory.reduce((n, i) => n + i.quantity, 0)
  const quantityBefore = await tiktokQuantity()
  await plenty.control('POST', '/stock', { variation_id: listedOne.plentyVariationId, warehouse_id: 1, delta: 10 })
  const inventory = await runKind(sdk, shop.shopId, 'inventory')
  const quantityAfter = await tiktokQuantity()
  say(`stock: PlentyONE variation ${listedOne.plentyVariationId} +10 → TikTok SKU ${listedOne.tiktokSkuId} ${quantityBefore} → ${quantityAfter} (inventory run #${inventory.id} ${inventory.state}, ${inventory.summary.report.stock_updates} SKU sent)`)

  // 11. tracking: the warehouse ships a paid order in PlentyONE (status 7, package number); the
  //     fulfillment run sends it to TikTok once
  const toShip = imported.find((m) => m.tiktokOrderId !== cancelled)
  await plenty.control('POST', `/orders/${toShip.plentyOrderId}/ship`, { package_number: 'DEMO-PKG-0001' })
  const fulfillment = await runKind(sdk, shop.shopId, 'fulfillment')
  const shipped = await sandbox.control('GET', `/orders/${toShip.tiktokOrderId}`)
  say(`tracking: PlentyONE order ${toShip.plentyOrderId} shipped → TikTok order ${toShip.tiktokOrderId} ${shipped.status}, tracking ${shipped.tracking_number ?? shipped.packages?.[0]?.tracking_number} (fulfillment run #${fulfillment.id} ${fulfillment.state})`)
  const returns = await runKind(sdk, shop.shopId, 'returns')

  const mapped = await sdk.tiktok.listOrderMappings({ shopId: shop.shopId })
  const status = await sdk.tiktok.getSyncStatus()

  console.log('')
  console.log('Summary')
  console.log(`  shops connected      ${connection.shops.filter((s) => s.status === 'connected').length} (${connection.shops.map((s) => s.name).join(', ')})`)
  console.log(`  webhooks             received ${status.webhooks.received}, verified and stored ${status.webhooks.accepted}, duplicates ${status.webhooks.duplicates}, refused ${status.webhooks.rejected}; inbox pending ${status.inbox.pending}`)
  console.log(`  orders via client    ${ours.length} of ${orderIds.length} demo orders (${seen.length} in the shop)`)
  const runs = status.shops.flatMap((s) => s.runs)
  console.log(`  sync runs            ${runs.filter((r) => r.state === 'succeeded').map((r) => `${r.kind} #${r.id}`).join(', ')} succeeded`)
  console.log(`  PlentyONE orders     ${mapped.mappings.filter((m) => m.syncStatus === 'synced').length} imported, one per TikTok order (${mapped.mappings.filter((m) => m.tiktokStatus === 'CANCELLED').length} cancelled on both sides); errors ${mapped.errors}`)
  console.log(`  TikTok products      ${exported.created} created from the PlentyONE catalogue; audit per variation ${JSON.stringify(byAudit)}`)
  console.log(`  stock                TikTok SKU ${quantityBefore} → ${quantityAfter} after PlentyONE +10`)
  console.log(`  tracking             ${shipped.status === 'IN_TRANSIT' || shipped.status === 'AWAITING_COLLECTION' ? 'sent' : 'NOT sent'} for PlentyONE order ${toShip.plentyOrderId}`)
  console.log(`  storage              ${runtime.store.backend}${runtime.store.durable ? '' : ' (in memory: lost on exit)'}`)
  console.log('')

  const ok =
    connection.connected &&
    inInbox.length === acknowledged.length &&
    acknowledged.length === deliveries.length &&
    forged.status === 401 &&
    ours.length === orderIds.length &&
    run.state === 'succeeded' &&
    new Set(imported.map((m) => m.plentyOrderId)).size === orderIds.length &&
    cancelledOrder.statusId >= 8 && cancelledOrder.statusId < 9 &&
    [products, inventory, fulfillment, returns].every((r) => r.state === 'succeeded') &&
    exported.created > 0 &&
    quantityAfter === quantityBefore + 10 &&
    (shipped.status === 'IN_TRANSIT' || shipped.status === 'AWAITING_COLLECTION')
  if (!ok) fail('the demo did not complete as expected (see above)')

  if (keepRunning) {
    say(`running until Ctrl-C: connect another shop with curl -H "Authorization: Bearer ${tokenRef}" -H 'accept: application/json' ${middleware.url}/api/tiktok/auth`)
    return
  }
  say(ok ? 'demo complete' : 'demo finished with problems')
  await stopAll()
}

/** Triggers a run of one kind and shows its progress until it ends; resolves to the finished run. */
async function runKind(sdk, shopId, kind) {
  const { runs } = await sdk.tiktok.triggerSync({ shopId, kind })
  const id = runs[0].id
  let shown = ''
  return waitFor(`the ${kind} run`, async () => {
    const st = await sdk.tiktok.getSyncStatus()
    const shopStatus = st.shops.find((x) => x.shopId === shopId)
    const run = shopStatus?.runs.find((x) => x.id === id)
    const live = shopStatus?.progress.find((p) => p.kind === kind && p.state === 'running')
    if (live) {
      const line = `${kind}: ${live.phase} ${live.done}${live.total != null ? `/${live.total}` : ''} (${live.ratePerSec.toFixed(0)}/s${live.etaSeconds != null ? `, ETA ${live.etaSeconds.toFixed(1)} s` : ''}, errors ${live.errors})`
      if (line !== shown) say(line)
      shown = line
    }
    return run && run.state !== 'queued' && run.state !== 'running' ? run : undefined
  }, 120000)
}

main().catch(async (e) => {
  fail(e instanceof Error ? e.message : String(e))
  await stopAll(1)
})
