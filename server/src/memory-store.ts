// In-process implementation of `TikTokStore`: for the demo, tests and a single instance until the
// native durable store is bound. Same semantics as the Rust store (single-use states, insert-if-absent
// inbox, claims with leases), shop secrets kept sealed in memory.

import type { Sealer } from '../../index.js'
import { TikTokShopError } from './errors.js'
import {
  shopSecretAad,
  type InboxMessage,
  type InboxQuery,
  type NewInboxMessage,
  type OrderMapping,
  type OrderMappingQuery,
  type ProductMapping,
  type ProductMappingQuery,
  type RunStatus,
  type ShopCredentials,
  type ShopInput,
  type ShopKey,
  type SyncProgress,
  type SyncRun,
  type TikTokStore,
} from './store.js'

/** A shop row as held: secrets sealed. */
interface SealedShopRow {
  appKey: string
  shopId: string
  region: string
  shopName: string | null
  sellerType: string | null
  shopCode: string | null
  cipherSealed: string | null
  accessTokenSealed: string
  accessTokenExpiresAt: number
  refreshTokenSealed: string
  refreshTokenExpiresAt: number
  grantedScopes: string[]
  status: ShopCredentials['status']
  createdAt: number
  updatedAt: number
}

const nowSeconds = () => Math.floor(Date.now() / 1000)
const keyOf = (k: ShopKey) => `${k.appKey}\u0000${k.shopId}`

function checkId(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > 256 || /[\u0000-\u001f]/.test(value)) {
    throw new TikTokShopError('TTS_INVALID_ARGUMENT', `${field} must be a non-empty id without control characters (≤256 bytes)`, { field })
  }
  return value
}

function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new TikTokShopError('TTS_INVALID_ARGUMENT', 'limit must be between 1 and 1000', { field: 'limit' })
  }
  return limit
}

export class MemoryStore implements TikTokStore {
  readonly backend = 'memory'
  readonly durable = false
  private readonly shops = new Map<string, SealedShopRow>()
  private readonly states = new Map<string, { expiresAt: number; used: boolean }>()
  private readonly inbox = new Map<string, InboxMessage>()
  private readonly products = new Map<string, ProductMapping>()
  private readonly orders = new Map<string, OrderMapping>()
  private readonly runs = new Map<number, SyncRun>()
  private nextRunId = 1
  private closed = false

  constructor(private readonly sealer: Sealer) {}

  private open(): void {
    if (this.closed) throw new TikTokShopError('TTS_STORE', 'the store is closed')
  }

  // ---- shops ----

  async upsertShop(shop: ShopInput): Promise<void> {
    this.open()
    checkId('appKey', shop.appKey)
    checkId('shopId', shop.shopId)
    if (!shop.accessToken || !shop.refreshToken) throw new TikTokShopError('TTS_INVALID_ARGUMENT', 'accessToken and refreshToken are required', { field: 'accessToken' })
    const k = keyOf(shop)
    const existing = this.shops.get(k)
    const t = nowSeconds()
    const seal = (value: string, column: 'cipher' | 'access_token' | 'refresh_token') => this.sealer.seal(value, shopSecretAad(shop.appKey, shop.shopId, column))
    this.shops.set(k, {
      appKey: shop.appKey,
      shopId: shop.shopId,
      region: shop.region,
      shopName: shop.shopName,
      sellerType: shop.sellerType,
      shopCode: shop.shopCode,
      cipherSealed: shop.cipher ? seal(shop.cipher, 'cipher') : null,
      accessTokenSealed: seal(shop.accessToken, 'access_token'),
      accessTokenExpiresAt: shop.accessTokenExpiresAt,
      refreshTokenSealed: seal(shop.refreshToken, 'refresh_token'),
      refreshTokenExpiresAt: shop.refreshTokenExpiresAt,
      grantedScopes: [...shop.grantedScopes],
      status: shop.status,
      createdAt: existing?.createdAt ?? t,
      updatedAt: t,
    })
  }

  private openRow(row: SealedShopRow): ShopCredentials {
    const open = (sealed: string, column: 'cipher' | 'access_token' | 'refresh_token') => this.sealer.open(sealed, shopSecretAad(row.appKey, row.shopId, column))
    return {
      appKey: row.appKey,
      shopId: row.shopId,
      region: row.region,
      shopName: row.shopName,
      sellerType: row.sellerType,
      shopCode: row.shopCode,
      cipher: row.cipherSealed === null ? null : open(row.cipherSealed, 'cipher'),
      accessToken: open(row.accessTokenSealed, 'access_token'),
      accessTokenExpiresAt: row.accessTokenExpiresAt,
      refreshToken: open(row.refreshTokenSealed, 'refresh_token'),
      refreshTokenExpiresAt: row.refreshTokenExpiresAt,
      grantedScopes: [...row.grantedScopes],
      status: row.status,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    }
  }

  /** For tests: the row as held, secrets sealed. */
  sealedRow(key: ShopKey): Readonly<SealedShopRow> | undefined {
    const row = this.shops.get(keyOf(key))
    return row ? { ...row } : undefined
  }

  async getShop(key: ShopKey): Promise<ShopCredentials | null> {
    this.open()
    const row = this.shops.get(keyOf(key))
    return row ? this.openRow(row) : null
  }

  async listShops(appKey?: string): Promise<ShopCredentials[]> {
    this.open()
    return [...this.shops.values()]
      .filter((r) => appKey === undefined || r.appKey === appKey)
      .sort((a, b) => (a.appKey === b.appKey ? a.shopId.localeCompare(b.shopId) : a.appKey.localeCompare(b.appKey)))
      .map((r) => this.openRow(r))
  }

  async deleteShop(key: ShopKey): Promise<boolean> {
    this.open()
    return this.shops.delete(keyOf(key))
  }

  async markShopDeauthorized(key: ShopKey): Promise<boolean> {
    this.open()
    const row = this.shops.get(keyOf(key))
    if (!row) return false
    row.status = 'deauthorized'
    row.updatedAt = nowSeconds()
    return true
  }

  // ---- OAuth state ----

  async saveOAuthState(state: string, expiresAt: number): Promise<void> {
    this.open()
    checkId('state', state)
    const t = nowSeconds()
    for (const [s, v] of this.states) if (v.expiresAt < t - 3600) this.states.delete(s) // housekeeping
    this.states.set(state, { expiresAt, used: false })
  }

  async consumeOAuthState(state: string, now: number): Promise<void> {
    this.open()
    const row = typeof state === 'string' ? this.states.get(state) : undefined
    if (!row) throw new TikTokShopError('TTS_STATE_INVALID', 'The OAuth state is unknown to this store; restart the connection.')
    if (row.used) throw new TikTokShopError('TTS_STATE_REUSED', 'The OAuth state was already used once; restart the connection.')
    if (now >= row.expiresAt) throw new TikTokShopError('TTS_STATE_EXPIRED', 'The OAuth state expired; restart the connection.')
    row.used = true
  }

  // ---- inbox ----

  async insertInbox(message: NewInboxMessage): Promise<boolean> {
    this.open()
    checkId('notificationId', message.notificationId)
    if (this.inbox.has(message.notificationId)) return false
    this.inbox.set(message.notificationId, {
      notificationId: message.notificationId,
      shopId: message.shopId,
      eventType: message.eventType,
      payload: Buffer.from(message.payload),
      receivedAt: nowSeconds(),
      processedAt: null,
      outcome: null,
      attempts: 0,
      lastError: null,
      leaseOwner: null,
      availableAtMs: Date.now(),
    })
    return true
  }

  private copy(m: InboxMessage): InboxMessage {
    return { ...m, payload: Buffer.from(m.payload) }
  }

  async getInbox(notificationId: string): Promise<InboxMessage | null> {
    this.open()
    const m = this.inbox.get(notificationId)
    return m ? this.copy(m) : null
  }

  async claimInbox(owner: string, limit: number, leaseMs: number): Promise<InboxMessage[]> {
    this.open()
    checkId('owner', owner)
    checkLimit(limit)
    const now = Date.now()
    const out: InboxMessage[] = []
    const claimable = [...this.inbox.values()]
      .filter((m) => m.processedAt === null && m.availableAtMs <= now)
      .sort((a, b) => a.receivedAt - b.receivedAt || a.notificationId.localeCompare(b.notificationId))
    for (const m of claimable.slice(0, limit)) {
      m.leaseOwner = owner
      m.attempts += 1
      m.availableAtMs = now + leaseMs
      out.push(this.copy(m))
    }
    return out
  }

  private held(notificationId: string, owner: string): InboxMessage | undefined {
    const m = this.inbox.get(notificationId)
    if (!m || m.processedAt !== null || m.leaseOwner !== owner || m.availableAtMs < Date.now()) return undefined
    return m
  }

  async completeInbox(notificationId: string, owner: string): Promise<boolean> {
    this.open()
    const m = this.held(notificationId, owner)
    if (!m) return false
    m.processedAt = nowSeconds()
    m.outcome = 'done'
    return true
  }

  async failInbox(notificationId: string, owner: string, error: string, retryAfterMs: number | null): Promise<boolean> {
    this.open()
    const m = this.held(notificationId, owner)
    if (!m) return false
    m.lastError = error.slice(0, 64 * 1024)
    if (retryAfterMs === null) {
      m.processedAt = nowSeconds()
      m.outcome = 'given_up'
    } else m.availableAtMs = Date.now() + retryAfterMs
    return true
  }

  async countInboxPending(): Promise<number> {
    this.open()
    let n = 0
    for (const m of this.inbox.values()) if (m.processedAt === null) n++
    return n
  }

  async listInbox(query: InboxQuery): Promise<InboxMessage[]> {
    this.open()
    checkLimit(query.limit)
    const match = (m: InboxMessage) => {
      switch (query.state) {
        case 'pending':
          return m.processedAt === null
        case 'done':
          return m.outcome === 'done'
        case 'given_up':
          return m.outcome === 'given_up'
        case 'failing':
          return m.processedAt === null && m.lastError !== null
      }
    }
    return [...this.inbox.values()]
      .filter((m) => match(m) && (query.shopId === undefined || m.shopId === query.shopId))
      .filter((m) => query.afterNotificationId === undefined || m.notificationId > query.afterNotificationId)
      .sort((a, b) => (a.notificationId < b.notificationId ? -1 : a.notificationId > b.notificationId ? 1 : 0))
      .slice(0, query.limit)
      .map((m) => this.copy(m))
  }

  // ---- mappings ----

  async upsertProductMapping(mapping: Omit<ProductMapping, 'createdAt' | 'updatedAt'>): Promise<void> {
    this.open()
    const k = `${mapping.shopId}\u0000${mapping.plentyVariationId}`
    const t = nowSeconds()
    this.products.set(k, { ...mapping, auditReasons: [...mapping.auditReasons], createdAt: this.products.get(k)?.createdAt ?? t, updatedAt: t })
  }

  async listProductMappings(query: ProductMappingQuery): Promise<ProductMapping[]> {
    this.open()
    checkLimit(query.limit)
    return [...this.products.values()]
      .filter((m) => m.shopId === query.shopId && (query.status === undefined || m.syncStatus === query.status))
      .filter((m) => query.afterVariationId === undefined || m.plentyVariationId > query.afterVariationId)
      .sort((a, b) => a.plentyVariationId - b.plentyVariationId)
      .slice(0, query.limit)
      .map((m) => ({ ...m, auditReasons: [...m.auditReasons] }))
  }

  async insertOrderMappingIfAbsent(mapping: Omit<OrderMapping, 'createdAt' | 'updatedAt'>): Promise<boolean> {
    this.open()
    const k = `${mapping.shopId}\u0000${mapping.tiktokOrderId}`
    if (this.orders.has(k)) return false
    const t = nowSeconds()
    this.orders.set(k, { ...mapping, createdAt: t, updatedAt: t })
    return true
  }

  async updateOrderMapping(mapping: Omit<OrderMapping, 'createdAt' | 'updatedAt'>): Promise<void> {
    this.open()
    const k = `${mapping.shopId}\u0000${mapping.tiktokOrderId}`
    const existing = this.orders.get(k)
    if (!existing) throw new TikTokShopError('TTS_NOT_FOUND', `no order mapping for TikTok order ${mapping.tiktokOrderId} of shop ${mapping.shopId}`)
    this.orders.set(k, { ...mapping, createdAt: existing.createdAt, updatedAt: nowSeconds() })
  }

  async listOrderMappings(query: OrderMappingQuery): Promise<OrderMapping[]> {
    this.open()
    checkLimit(query.limit)
    return [...this.orders.values()]
      .filter((m) => m.shopId === query.shopId && (query.status === undefined || m.syncStatus === query.status))
      .filter((m) => query.afterTiktokOrderId === undefined || m.tiktokOrderId > query.afterTiktokOrderId)
      .sort((a, b) => (a.tiktokOrderId < b.tiktokOrderId ? -1 : a.tiktokOrderId > b.tiktokOrderId ? 1 : 0))
      .slice(0, query.limit)
      .map((m) => ({ ...m }))
  }

  // ---- sync runs ----

  async startSyncRun(shopId: string, kind: string, phase: string): Promise<SyncRun> {
    this.open()
    checkId('shopId', shopId)
    checkId('kind', kind)
    const run: SyncRun = { id: this.nextRunId++, shopId, kind, status: 'running', phase, done: 0, total: null, errors: 0, startedAt: nowSeconds(), finishedAt: null, summary: null }
    this.runs.set(run.id, run)
    return { ...run }
  }

  async updateSyncRun(id: number, progress: SyncProgress): Promise<void> {
    this.open()
    const run = this.runs.get(id)
    if (!run) throw new TikTokShopError('TTS_NOT_FOUND', `no sync run ${id}`)
    Object.assign(run, { phase: progress.phase, done: progress.done, total: progress.total, errors: progress.errors })
  }

  async finishSyncRun(id: number, status: Exclude<RunStatus, 'running'>, summary: unknown): Promise<void> {
    this.open()
    const run = this.runs.get(id)
    if (!run) throw new TikTokShopError('TTS_NOT_FOUND', `no sync run ${id}`)
    Object.assign(run, { status, summary, finishedAt: nowSeconds() })
  }

  async getSyncRun(id: number): Promise<SyncRun | null> {
    this.open()
    const run = this.runs.get(id)
    return run ? { ...run } : null
  }

  async listSyncRuns(shopId: string, kind: string | null, limit: number): Promise<SyncRun[]> {
    this.open()
    checkLimit(limit)
    return [...this.runs.values()]
      .filter((r) => r.shopId === shopId && (kind === null || r.kind === kind))
      .sort((a, b) => b.id - a.id)
      .slice(0, limit)
      .map((r) => ({ ...r }))
  }

  async close(): Promise<void> {
    this.closed = true
  }
}
