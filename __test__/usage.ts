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

// Order import.
import { createOrderSync, type OrderReconcileReport } from '../index.js'
async function useSync(store: NativeStore, tiktok: TikTokShopClient): Promise<number> {
  const sync = await createOrderSync(store, tiktok, {
    plenty: { baseUrl: 'http://127.0.0.1:1', username: 'u', password: 'p' },
    shops: [{ shop_id: '1', plenty_id: 1000 }],
  })
  sync.start()
  const report: OrderReconcileReport = await sync.reconcile('1', { lookbackSeconds: 3600 })
  await sync.stop()
  return report.created + (await sync.processInbox()).done
}
export { useSync }
