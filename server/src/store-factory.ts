// Picks the store from the database URL: the native store (crates/store) for `sqlite:`, `postgres://`
// and `memory:` (an in-memory SQLite database: nothing outlives the process). Every backend is the same
// Rust code, so the control plane's claims, leases and sealing have one implementation.

import * as addon from '../../index.js'
import type { Sealer } from '../../index.js'
import { TikTokShopError } from './errors.js'
import type { InboxMessage, OrderMapping, ProductMapping, ShopCredentials, SyncRun, TikTokStore } from './store.js'

export interface StoreDriverOptions {
  /** The key ring text (`TIKTOK_SHOP_ENCRYPTION_KEY`), for a native store that seals by itself. */
  encryptionKey: string
  /** The same key ring, opened: for stores that seal in JS. */
  sealer: Sealer
}

/** Opens a store for a URL of its scheme. */
export type StoreDriver = (url: string, options: StoreDriverOptions) => Promise<TikTokStore>

const drivers = new Map<string, StoreDriver>()

/** Registers the driver for a URL scheme (`sqlite`, `postgres`). The last registration wins. */
export function registerStoreDriver(scheme: string, driver: StoreDriver): void {
  drivers.set(scheme.toLowerCase(), driver)
}

export function schemeOf(url: string): string {
  const s = url.split(':')[0]!.toLowerCase()
  return s === 'postgresql' ? 'postgres' : s
}

/** The addon's durable store (`openStore` → `NativeStore`), when this build has it. */
type NativeOpen = (url: string, encryptionKeys: string) => Promise<Record<string, (...args: any[]) => Promise<any>> & { backend: string; durable: boolean }>

function nativeDriver(): StoreDriver | undefined {
  const open = (addon as unknown as { openStore?: NativeOpen }).openStore
  if (typeof open !== 'function') return undefined
  return async (url, { encryptionKey }) => adaptNative(await open(url, encryptionKey))
}

// The binding leaves absent optional fields out (`undefined`); the interface says `null`. Inputs go the
// other way: `null` becomes `undefined`.
const nul = <T>(v: T | undefined | null): T | null => (v === undefined ? null : v)
function defined<T extends object>(o: T): T {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(o)) if (v !== null && v !== undefined) out[k] = v
  return out as T
}
function shopOut(s: any): ShopCredentials {
  return { ...s, shopName: nul(s.shopName), sellerType: nul(s.sellerType), shopCode: nul(s.shopCode), cipher: nul(s.cipher), createdAt: s.createdAt ?? 0, updatedAt: s.updatedAt ?? 0 }
}
function inboxOut(m: any): InboxMessage {
  return { ...m, processedAt: nul(m.processedAt), outcome: nul(m.outcome), lastError: nul(m.lastError), leaseOwner: nul(m.leaseOwner) }
}
function productOut(m: any): ProductMapping {
  return {
    ...m,
    tiktokProductId: nul(m.tiktokProductId),
    tiktokSkuId: nul(m.tiktokSkuId),
    sellerSku: nul(m.sellerSku),
    syncError: nul(m.syncError),
    lastSyncedAt: nul(m.lastSyncedAt),
    auditStatus: nul(m.auditStatus),
    auditReasons: m.auditReasons ?? [],
    createdAt: m.createdAt ?? 0,
    updatedAt: m.updatedAt ?? 0,
  }
}
function orderOut(m: any): OrderMapping {
  return {
    ...m,
    plentyOrderId: nul(m.plentyOrderId),
    tiktokStatus: nul(m.tiktokStatus),
    tiktokUpdateTime: nul(m.tiktokUpdateTime),
    syncError: nul(m.syncError),
    lastSyncedAt: nul(m.lastSyncedAt),
    createdAt: m.createdAt ?? 0,
    updatedAt: m.updatedAt ?? 0,
  }
}
function runOut(r: any): SyncRun {
  return { ...r, total: nul(r.total), finishedAt: nul(r.finishedAt), summary: nul(r.summary) }
}
const maybe = <T, U>(f: (v: T) => U) => (v: T | null | undefined): U | null => (v === null || v === undefined ? null : f(v))

/** Wraps the addon's `NativeStore` as a `TikTokStore` (same methods; field conventions aligned). */
export function adaptNative(n: Awaited<ReturnType<NativeOpen>>): TikTokStore {
  return {
    native: n,
    get backend() {
      return n.backend
    },
    get durable() {
      return n.durable
    },
    upsertShop: (shop) => n.upsertShop!(defined(shop)),
    getShop: async (key) => maybe(shopOut)(await n.getShop!(key)),
    listShops: async (appKey) => (await n.listShops!(appKey)).map(shopOut),
    deleteShop: (key) => n.deleteShop!(key),
    markShopDeauthorized: (key) => n.markShopDeauthorized!(key),
    saveOAuthState: (state, expiresAt) => n.saveOAuthState!(state, expiresAt),
    consumeOAuthState: (state, now) => n.consumeOAuthState!(state, now),
    insertInbox: (m) => n.insertInbox!(m),
    getInbox: async (id) => maybe(inboxOut)(await n.getInbox!(id)),
    claimInbox: async (owner, limit, leaseMs) => (await n.claimInbox!(owner, limit, leaseMs)).map(inboxOut),
    completeInbox: (id, owner) => n.completeInbox!(id, owner),
    failInbox: (id, owner, error, retryAfterMs) => n.failInbox!(id, owner, error, retryAfterMs ?? undefined),
    countInboxPending: () => n.countInboxPending!(),
    listInbox: async (q) => (await n.listInbox!(defined(q))).map(inboxOut),
    upsertProductMapping: (m) => n.upsertProductMapping!(defined(m)),
    listProductMappings: async (q) => (await n.listProductMappings!(defined(q))).map(productOut),
    insertOrderMappingIfAbsent: (m) => n.insertOrderMappingIfAbsent!(defined(m)),
    updateOrderMapping: (m) => n.updateOrderMapping!(defined(m)),
    listOrderMappings: async (q) => (await n.listOrderMappings!(defined(q))).map(orderOut),
    startSyncRun: async (shopId, kind, phase) => runOut(await n.startSyncRun!(shopId, kind, phase)),
    updateSyncRun: (id, p) => n.updateSyncRun!(id, defined(p)),
    finishSyncRun: (id, status, summary) => n.finishSyncRun!(id, status, summary ?? null),
    getSyncRun: async (id) => maybe(runOut)(await n.getSyncRun!(id)),
    listSyncRuns: async (shopId, kind, limit) => (await n.listSyncRuns!(shopId, kind ?? undefined, limit)).map(runOut),
    close: () => n.close!(),
  }
}

export interface OpenedStore {
  store: TikTokStore
  /** Set when the store is not what the URL asked for (fallback), for the start-up log. */
  warning?: string
}

export async function openStore(url: string, options: StoreDriverOptions): Promise<OpenedStore> {
  const scheme = schemeOf(url)
  const driver = drivers.get(scheme) ?? nativeDriver()
  if (!driver) {
    throw new TikTokShopError('TTS_CONFIG_INVALID', 'TIKTOK_SHOP_DATABASE_URL: this build of the addon has no native store (openStore)', { statusCode: 500 })
  }
  const store = await driver(url, options)
  if (!store.durable) {
    return {
      store,
      warning: 'TIKTOK_SHOP_DATABASE_URL=memory:: connected shops and the webhook inbox are lost on restart (TikTok re-delivers unacknowledged webhooks only). Use sqlite: or postgres:// in production.',
    }
  }
  return { store }
}
