// Compiled with `tsc --strict` in the test run: the generated typings must describe real usage, and
// reject wrong usage (each @ts-expect-error must stay an error).
import {
  authorizeUrl,
  buildRequest,
  errorCodes,
  exchangeAuthCode,
  generateEncryptionKey,
  getAuthorizedShops,
  OAuthStates,
  operations,
  parseWebhook,
  refreshAccessToken,
  Sealer,
  signRequest,
  signWebhook,
  verifyWebhook,
  type AuthorizedShopInfo,
  type Tokens,
  type WebhookNotification,
} from '../index.js'

const sign: string = signRequest({ appSecret: 's', path: '/seller/202309/shops', query: { app_key: 'k', ids: ['1', '2'] } })
const built = buildRequest({ operation: 'orders.search', appKey: 'k', appSecret: 's', body: Buffer.from('{}'), timestamp: 1 })
const url: string = built.url
const method: string = built.method
const headers: Record<string, string> = built.headers

const states = new OAuthStates({ secrets: ['s'], ttlSeconds: 600 })
const { state, expiresAt } = states.issue()
const redirect: string = authorizeUrl({ serviceId: '1', state, region: 'US' })

async function connect(): Promise<string> {
  const tokens: Tokens = await exchangeAuthCode({ appKey: 'k', appSecret: 's', authCode: 'c' })
  const refreshed: Tokens = await refreshAccessToken({ appKey: 'k', appSecret: 's', refreshToken: tokens.refreshToken })
  const shops: AuthorizedShopInfo[] = await getAuthorizedShops({ appKey: 'k', appSecret: 's', accessToken: refreshed.accessToken })
  return shops[0]?.cipher ?? ''
}

const rawBody = Buffer.from('{}')
const ok: boolean = verifyWebhook({ appKey: 'k', appSecret: 's', authorization: signWebhook({ appKey: 'k', appSecret: 's', rawBody }), rawBody })
const event: WebhookNotification = parseWebhook({ appKey: 'k', appSecrets: ['a', 'b'], authorization: 'x', rawBody: 'text' })
const topic: number = event.type

const sealer = new Sealer(generateEncryptionKey())
const sealed: string = sealer.seal('token', 'shop:1:access_token')
const ids: string[] = sealer.keyIds
const codes: string[] = errorCodes().map((c) => c.code)
const opIds: string[] = operations().map((o) => o.id)

// @ts-expect-error appSecret is required
signRequest({ path: '/x' })
// @ts-expect-error a parsed object is not a raw body
verifyWebhook({ appKey: 'k', appSecret: 's', authorization: 'x', rawBody: { type: 1 } })
// @ts-expect-error timestamp is a number of seconds
buildRequest({ operation: 'orders.search', appKey: 'k', appSecret: 's', timestamp: '1' })

export { sign, url, method, headers, expiresAt, redirect, connect, ok, topic, sealed, ids, codes, opIds }

// The API client and its pagination helpers.
import { TikTokShopClient, type CallResult, type ClientEventInfo, type PageResult } from '../index.js'
import { paginate, shopView } from '../pagination.js'

const client = new TikTokShopClient({ appKey: 'k', appSecret: 's', ratePerSecond: 50 }, (e: ClientEventInfo) => {
  if (e.type === 'tokensRefreshed' && e.tokens) void e.tokens.refreshToken
})
async function useClient(): Promise<number> {
  await client.addShop({ shopId: '1', cipher: 'c', accessToken: 'a', accessTokenExpireIn: 2, refreshToken: 'r' })
  const res: CallResult = await client.call('1', 'orders.search', { query: { page_size: '10' }, body: { order_status: 'UNPAID' } })
  const page: PageResult = await client.fetchPage('1', 'orders.search', {}, 20, page0(res))
  let n = page.items.length
  for await (const order of paginate(client, '1', 'orders.search', { body: {} }, 50)) n += order.id ? 1 : 0
  const shop = shopView(client, '1')
  n += (await shop.getOrders(['1', '2'])).length
  // @ts-expect-error a body is an object, not a string
  await client.call('1', 'orders.search', { body: 'text' })
  // @ts-expect-error not an operation of the table
  await client.call('1', 'orders.serach')
  return n
}
function page0(r: CallResult): string | undefined {
  return typeof r.data === 'object' ? undefined : undefined
}
export { useClient }

// The durable store.
import { openStore, type NativeStore, type StoredShop } from '../index.js'
async function useStore(): Promise<StoredShop | null> {
  const store: NativeStore = await openStore('sqlite:///tmp/x.db', 'key')
  const isNew: boolean = await store.insertInbox({ notificationId: '1', shopId: '2', eventType: 1, payload: Buffer.from('{}') })
  await store.finishSyncRun(1, 'succeeded', { isNew })
  // @ts-expect-error a run finishes as succeeded or failed
  await store.finishSyncRun(1, 'running', {})
  return store.getShop({ appKey: 'k', shopId: '2' })
}
export { useStore }

// The control plane and its engines.
import { createIntegration, type IntegrationStatus, type SyncRunEvent, type SyncRunResult, type WebhookReceipt } from '../index.js'
async function useSync(store: NativeStore, tiktok: TikTokShopClient): Promise<number> {
  const events: SyncRunEvent[] = []
  const sync = createIntegration(store, tiktok, { appKey: 'k', webhookSecrets: ['s'], syncIntervalMs: 60_000 }, (event) => events.push(event))
  await sync.attachEngines({
    plenty: { baseUrl: 'http://127.0.0.1:1', username: 'u', password: 'p' },
    shops: [{ shop_id: '1', region: 'DE', orders: { plenty_id: 1000 } }],
    timings: { firstRunLookbackSeconds: 3600 },
  })
  sync.addInboxHandler(async (event) => (event.eventType === 'UNKNOWN' ? { code: 'TTS_INVALID_ARGUMENT', message: 'not for us' } : null))
  sync.start()
  const receipt: WebhookReceipt = await sync.receiveWebhook(Buffer.from('{}'), 'signature')
  const result: SyncRunResult = await sync.run('1', 'inventory', { full: true })
  // @ts-expect-error only the five sync kinds
  await sync.run('1', 'stock')
  const queued = await sync.trigger({ shopId: '1', kind: 'inventory', full: true })
  const status: IntegrationStatus = await sync.status()
  await sync.stop()
  const eta: number | null | undefined = sync.active()[0]?.etaSeconds
  return (result.run?.done ?? 0) + (eta ?? 0) + status.inboxPending + queued.length + events.length + Number(receipt.inserted)
}
export { useSync }

// Typed operations (operations.d.ts): requests and answers per operation, through `shopView`.
import type {
  Cancellation,
  DecodedOrder,
  ExhaustiveFor,
  Order,
  OperationTypes,
  PageItem,
  ProductSummary,
  Return,
  TypedCallOptions,
  _Exhaustive,
} from '../pagination.js'
import type { Package } from 'tiktok-shop-plentyone/operations'

const exhaustive: _Exhaustive = true
type AssertTrue<T extends true> = T
type AssertFalse<T extends false> = T
// An operation added to the table without an entry (or an entry for no operation) is caught.
type _Missing = AssertFalse<ExhaustiveFor<keyof OperationTypes | 'orders.refund', OperationTypes>>
type _Extra = AssertFalse<ExhaustiveFor<Exclude<keyof OperationTypes, 'webhooks.delete'>, OperationTypes>>
type _Items = AssertTrue<PageItem<'orders.search'> extends Order ? (PageItem<'products.search'> extends ProductSummary ? true : false) : false>

async function useTypedShop(): Promise<string[]> {
  const shop = shopView(client, '1')
  const out: string[] = []

  // Paginated searches yield the item type of their list.
  for await (const order of shop.paginate('orders.search', { body: { order_status: 'AWAITING_SHIPMENT', update_time_ge: 1 }, query: { sort_field: 'update_time', sort_order: 'ASC' } }, 50)) {
    const id: string = order.id
    const status: string = order.status
    const firstSku: string | undefined = order.line_items?.[0]?.seller_sku
    const total: string | undefined = order.payment?.total_amount
    out.push(id, status, firstSku ?? '', total ?? '')
  }
  for await (const product of paginate(client, '1', 'products.search', { body: { status: 'ACTIVATE', seller_skus: ['A-1'] } })) {
    out.push(product.id, product.title ?? '', ...(product.skus ?? []).map((s) => s.seller_sku ?? ''))
  }
  for await (const r of shop.paginate('returns.search', { body: { return_types: ['REFUND'], order_ids: ['1'] } })) {
    const ret: Return = r
    out.push(ret.return_id, ret.refund_amount?.refund_total ?? '')
  }
  for await (const c of shop.paginate('cancellations.search', { body: { cancel_status: ['CANCELLATION_REQUEST_PENDING'] } })) {
    const cancellation: Cancellation = c
    out.push(cancellation.cancel_id)
  }
  for await (const p of shop.paginate('packages.search')) {
    const pkg: Package = p
    out.push(pkg.id)
  }
  for await (const b of shop.paginate('brands.list', { query: { brand_name: 'Acme' } })) out.push(b.id)
  const page = await shop.fetchPage('orders.search', undefined, 20)
  const pageOrders: Order[] = page.items
  out.push(page.nextPageToken ?? '', String(pageOrders.length))

  // getOrders: decoded by the Rust model, so its fields are all present.
  const decoded: DecodedOrder[] = await shop.getOrders(['1', '2'])
  const asOrders: Order[] = decoded
  out.push(...decoded.map((o) => o.buyer_email + o.line_items.map((l) => l.sku_id).join()), String(asOrders.length))

  // call: options typed for the operation; `data` typed by its answer.
  const detail = await shop.call('products.get', { pathParams: { product_id: '1' }, query: { locale: 'de-DE' } })
  out.push(detail.requestId, detail.data.id, detail.data.skus?.[0]?.price?.sale_price ?? '')
  const created = await shop.call('products.create', {
    body: { title: 'T', description: '<p>x</p>', category_id: '600001', main_images: [{ uri: 'u' }], skus: [{ seller_sku: 'A', price: { amount: '9.90', currency: 'EUR' }, inventory: [{ warehouse_id: 'W', quantity: 3 }] }] },
    idempotencyKey: 'create-1',
  })
  out.push(created.data.product_id)
  await shop.call('inventory.update', { pathParams: { product_id: '1' }, body: { skus: [{ id: '2', inventory: [{ warehouse_id: 'W', quantity: 0 }] }] } })
  await shop.call('prices.update', { pathParams: { product_id: '1' }, body: { skus: [{ id: '2', price: { amount: '1.00', currency: 'USD' } }] } })
  await shop.call('inventory.search', { body: { sku_ids: ['2'] } })
  const shipped = await shop.call('orders.mark_shipped', { pathParams: { order_id: '1' }, body: { tracking_number: 'T', shipping_provider_id: 'P' } })
  out.push(shipped.data.package_id)
  const fetched = await shop.call('orders.get', { query: { ids: ['1', '2'] } })
  out.push(...(fetched.data.orders ?? []).map((o) => o.id))
  const warehouses = await shop.call('logistics.warehouses')
  out.push(...(warehouses.data.warehouses ?? []).map((w) => w.id))
  await shop.call('returns.approve', { pathParams: { return_id: '1' }, body: { decision: 'APPROVE_REFUND' }, idempotencyKey: 'return-1-approve' })
  await shop.call('cancellations.approve', { pathParams: { cancel_id: '1' }, idempotencyKey: 'cancel-1-approve' })
  await shop.call('images.upload', { rawBody: Buffer.from('--b--'), contentType: 'multipart/form-data; boundary=b' })
  await shop.call('webhooks.update', { body: { address: 'https://shop.example/api/tiktok/webhooks', event_type: 'ORDER_STATUS_CHANGE' } })
  // An operation chosen at run time: the union of its members' options.
  const decision: 'returns.approve' | 'returns.reject' = out.length > 1 ? 'returns.approve' : 'returns.reject'
  const opts: TypedCallOptions<'returns.reject'> = { pathParams: { return_id: '1' }, body: { decision: 'REJECT_RETURN', reject_reason: 'r' } }
  if (decision === 'returns.reject') await shop.call(decision, opts)

  // Wrong operation ids, query fields, bodies and item fields are rejected.
  // @ts-expect-error not an operation of the table
  await shop.call('orders.serach')
  // @ts-expect-error get is not a paginated search
  shop.paginate('orders.get')
  // @ts-expect-error not a paginated search
  paginate(client, '1', 'products.get')
  // @ts-expect-error orders.search has no `status` query parameter
  await shop.call('orders.search', { query: { status: 'UNPAID' } })
  // @ts-expect-error query values are strings on the wire
  await shop.call('orders.search', { query: { page_size: 50 } })
  // @ts-expect-error sort_field is create_time or update_time
  await shop.call('orders.search', { query: { sort_field: 'paid_time' } })
  // @ts-expect-error order search bounds are _lt, not _le (that is products)
  shop.paginate('orders.search', { body: { update_time_le: 1 } })
  // @ts-expect-error not an order status
  shop.paginate('orders.search', { body: { order_status: 'SHIPPED' } })
  // @ts-expect-error the pagination sets page_size
  shop.paginate('products.search', { query: { page_size: '10' } })
  // @ts-expect-error products.get needs its product_id path param
  await shop.call('products.get')
  // @ts-expect-error a path param of another operation
  await shop.call('products.get', { pathParams: { order_id: '1' } })
  // @ts-expect-error a GET takes no body
  await shop.call('products.get', { pathParams: { product_id: '1' }, body: {} })
  // @ts-expect-error inventory.update needs a body
  await shop.call('inventory.update', { pathParams: { product_id: '1' } })
  // @ts-expect-error quantity is a number
  await shop.call('inventory.update', { pathParams: { product_id: '1' }, body: { skus: [{ id: '2', inventory: [{ warehouse_id: 'W', quantity: '3' }] }] } })
  // @ts-expect-error not a return decision
  await shop.call('returns.approve', { pathParams: { return_id: '1' }, body: { decision: 'APPROVE' } })
  // @ts-expect-error packages.ship takes no idempotency key (it is never retried blindly)
  await shop.call('packages.ship', { pathParams: { package_id: '1' }, body: {}, idempotencyKey: 'k' })
  // @ts-expect-error an upload is a multipart rawBody, not a JSON body
  await shop.call('images.upload', { body: { use_case: 'MAIN_IMAGE' } })
  // @ts-expect-error typed answers: an order id is a string
  const n: number = fetched.data.orders?.[0]?.id
  for await (const order of shop.paginate('orders.search')) {
    // @ts-expect-error unknown fields are tolerated but typed `unknown`
    out.push(order.buyer_emial)
    // @ts-expect-error a product field on an order
    out.push(order.title.toString())
  }
  for await (const product of shop.paginate('products.search')) {
    // @ts-expect-error product summaries have no line items
    out.push(product.line_items.length)
  }
  return out.concat(String(exhaustive), String(n))
}
export { useTypedShop }
