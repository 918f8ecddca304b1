// Once-per-process state of the integration, created by `init`: the addon's client, OAuth states,
// the store and the native control plane (`Integration`: webhook inbox, its one consumer, the
// scheduler, the engines). Routes and API methods call into it; nothing here is created per request.

import { createHash, randomUUID, timingSafeEqual } from 'node:crypto'
import { inspect } from 'node:util'

import {
  authorizeUrl,
  createIntegration,
  exchangeAuthCode,
  generateEncryptionKey,
  getAuthorizedShops,
  OAuthStates,
  Sealer,
  TikTokShopClient,
  type ClientEventInfo,
  type InboxHandlerFailure,
  type Integration,
  type NativeStore,
  type SyncRunEvent,
  type SyncRunRecord,
  type WebhookNotification,
} from '../../index.js'
import { publicConfig, resolveConfig, SHOP_SETTINGS_KEYS, type ResolvedConfig, type TikTokIntegrationConfig } from './config.js'
import { describe, TikTokShopError } from './errors.js'
import { openStore } from './store-factory.js'
import type { InboxMessage, InboxState, MappingSyncStatus, OrderMapping, ProductMapping, ShopCredentials, SyncRun, TikTokStore } from './store.js'

/** The part of Alokai's logger (`@vue-storefront/logger` `LoggerInterface`) this layer uses. */
export interface Logger {
  error(data: unknown, metadata?: Record<string, unknown>): void
  warning(data: unknown, metadata?: Record<string, unknown>): void
  notice?(data: unknown, metadata?: Record<string, unknown>): void
  info(data: unknown, metadata?: Record<string, unknown>): void
  debug(data: unknown, metadata?: Record<string, unknown>): void
}

export const SYNC_KINDS = ['products', 'inventory', 'orders', 'fulfillment', 'returns'] as const
export type SyncKind = (typeof SYNC_KINDS)[number]

/** A connected shop as shown to a storefront or admin: no token, no cipher. */
export interface ShopSummary {
  shopId: string
  name: string | null
  region: string
  sellerType: string | null
  code: string | null
  status: ShopCredentials['status']
  grantedScopes: string[]
  accessTokenExpiresAt: number
  refreshTokenExpiresAt: number
  connectedAt: number
  updatedAt: number
}

export interface Connection {
  connected: boolean
  app: ReturnType<typeof publicConfig>
  storage: { backend: string; durable: boolean }
  shops: ShopSummary[]
}

export interface SyncRunView extends SyncRun {
  /** `queued` (waiting for its engine or lease), `running`, `succeeded`, `failed`. */
  state: 'queued' | 'running' | 'succeeded' | 'failed'
}

export interface SyncStatus {
  intervalMs: number
  stockIntervalMs: number
  /** Sync kinds with an engine installed; runs of other kinds stay queued. */
  engines: string[]
  note: string
  inbox: { pending: number }
  webhooks: WebhookStats
  shops: Array<{ shopId: string; runs: SyncRunView[]; progress: SyncRunEvent[]; settingsProblem?: string }>
}

export interface WebhookStats {
  received: number
  accepted: number
  duplicates: number
  rejected: number
}

/** An inbox message without its body. */
export type InboxEntry = Omit<InboxMessage, 'payload'> & { bytes: number }

export interface MappingQueryInput {
  shopId?: string
  status?: MappingSyncStatus
  after?: string
  limit?: number
}

/** A webhook as an inbox handler sees it (verified on receipt, typed and normalized). */
export type InboxEvent = WebhookNotification

/**
 * An extra consumer of webhook notifications, called by the native inbox consumer after the engines'
 * handler. At least once: it must be idempotent. A rejection is retried with the inbox's backoff.
 */
export type InboxHandler = (event: InboxEvent) => Promise<void> | void

const nowSeconds = () => Math.floor(Date.now() / 1000)

export const ENGINES_NOTE =
  'The sync engines are not running (they need PlentyONE REST access and PLENTY_ID): triggered runs stay queued until they run.'

/** A run from the addon (absent optional fields left out) as the views show it. */
function runView(r: SyncRunRecord): SyncRunView {
  return {
    ...r,
    status: r.status as SyncRun['status'],
    total: r.total ?? null,
    finishedAt: r.finishedAt ?? null,
    summary: r.summary ?? null,
    state: (r.state ?? r.status) as SyncRunView['state'],
  }
}

function summary(s: ShopCredentials): ShopSummary {
  return {
    shopId: s.shopId,
    name: s.shopName,
    region: s.region,
    sellerType: s.sellerType,
    code: s.shopCode,
    status: s.status,
    grantedScopes: s.grantedScopes,
    accessTokenExpiresAt: s.accessTokenExpiresAt,
    refreshTokenExpiresAt: s.refreshTokenExpiresAt,
    connectedAt: s.createdAt,
    updatedAt: s.updatedAt,
  }
}

export class TikTokRuntime {
  private closed = false
  /** The sync engines run (PlentyONE REST access and PLENTY_ID configured, login succeeded). */
  enginesRunning = false

  private constructor(
    readonly config: ResolvedConfig,
    readonly logger: Logger,
    readonly sealer: Sealer,
    readonly states: OAuthStates,
    readonly store: TikTokStore,
    readonly client: TikTokShopClient,
    /** The native control plane: webhook inbox, its one consumer, the scheduler, the engines. */
    readonly integration: Integration,
  ) {}

  /** Validates the configuration, opens the store, creates the client and loads the connected shops. */
  static async create(configuration: TikTokIntegrationConfig, env: Record<string, string | undefined>, logger: Logger): Promise<TikTokRuntime> {
    const config = resolveConfig(configuration, env)
    let key = config.encryptionKey
    if (key === undefined) {
      // Only possible with `memory:`: nothing outlives the process, so a per-process key is enough.
      key = generateEncryptionKey()
    }
    const sealer = new Sealer(key)
    const states = new OAuthStates({ secrets: [config.appSecret], ttlSeconds: config.stateTtlSeconds })
    const injected = configuration.store
    const opened = injected ? { store: injected } : await openStore(config.databaseUrl, { encryptionKey: key, sealer })
    if ('warning' in opened && opened.warning) logger.warning(opened.warning)
    const native = opened.store.native as NativeStore | undefined
    if (!native) {
      await opened.store.close().catch(() => undefined)
      throw new TikTokShopError('TTS_CONFIG_INVALID', 'configuration.store must be a store opened by openStore() (the native store the control plane runs on).', { field: 'store', statusCode: 500 })
    }

    let runtime: TikTokRuntime | undefined
    const client = new TikTokShopClient(
      {
        appKey: config.appKey,
        appSecret: config.appSecret,
        ...(config.apiBase ? { apiBase: config.apiBase } : {}),
        ...(config.authBase ? { authBase: config.authBase } : {}),
        ...config.client,
      },
      (event) => runtime?.onClientEvent(event),
    )
    // Names this process's leases and inbox claims: unique per start, so a restart never inherits a claim.
    const owner = `sync-${randomUUID()}`
    const integration = createIntegration(
      native,
      client,
      {
        appKey: config.appKey,
        webhookSecrets: config.webhookSecret ? [config.appSecret, config.webhookSecret] : [config.appSecret],
        owner,
        syncIntervalMs: config.syncIntervalMs,
        stockIntervalMs: config.stockIntervalMs,
      },
      (event) => runtime?.onProgress(event),
    )
    runtime = new TikTokRuntime(config, logger, sealer, states, opened.store, client, integration)
    try {
      await runtime.loadShops()
    } catch (e) {
      await opened.store.close().catch(() => undefined)
      throw e
    }
    await runtime.startSyncEngines()
    integration.start()
    if (config.adminAccess === 'open') {
      logger.warning(
        'INSECURE: TIKTOK_SHOP_INSECURE_OPEN_ADMIN is set, so the admin routes (/api/tiktok/auth, /connection, /products, /orders, /sync) and the tiktok SDK methods are open to anyone who can reach this middleware. For local development only: set TIKTOK_SHOP_ADMIN_TOKEN and remove the opt-out.',
      )
    } else if (config.adminAccess === 'closed') {
      logger.warning(
        'TIKTOK_SHOP_ADMIN_TOKEN is not set: the admin routes and the tiktok SDK methods answer 403 until it is (at least 24 characters, e.g. `openssl rand -base64 32`). Webhooks and the OAuth callback work without it.',
      )
    }
    logger.info('TikTok Shop integration ready', { tiktok: { ...publicConfig(config), storage: opened.store.backend } })
    return runtime
  }

  /**
   * Every engine's settings for a shop (snake_case: the Rust configs): `configuration.sync.defaults`
   * overlaid per section by `configuration.sync.shops[shopId]`, with the shop's id and region and
   * `orders.plenty_id` from PLENTY_ID.
   */
  shopSyncSettings(shopId: string, region: string): Record<string, unknown> {
    const { defaults, shops } = this.config.sync
    const own = shops[shopId] ?? {}
    const out: Record<string, unknown> = { shop_id: shopId, region }
    for (const key of SHOP_SETTINGS_KEYS) {
      const a = defaults[key]
      const b = own[key]
      if (a === undefined && b === undefined) continue
      out[key] = typeof a === 'object' && a !== null && typeof b === 'object' && b !== null ? { ...a, ...b } : (b ?? a)
    }
    const orders = (out.orders ?? {}) as Record<string, unknown>
    out.orders = { plenty_id: this.config.plenty?.plentyId, ...orders }
    return out
  }

  /**
   * Applies `configuration.sync` to a connected shop again, e.g. after its warehouse or carrier mapping
   * changed. Throws `TTS_CONFIG_INVALID` naming the refused setting.
   */
  async applyShopSettings(shopId: string): Promise<void> {
    const shop = await this.requireShop(shopId)
    if (!this.enginesRunning) throw new TikTokShopError('TTS_NOT_INITIALIZED', 'The sync engines are not running (they need PlentyONE REST access and PLENTY_ID).')
    const problem = this.configureShop(shop.shopId, shop.region)
    if (problem !== undefined) {
      throw new TikTokShopError('TTS_CONFIG_INVALID', `Sync settings of shop ${shop.shopId} refused: ${problem}`, { field: `sync.shops.${shop.shopId}` })
    }
  }

  /**
   * Gives the engines a shop's settings. A refusal is logged, shown by `syncStatus` (the control plane
   * keeps it) and returned.
   */
  private configureShop(shopId: string, region: string): string | undefined {
    if (!this.enginesRunning) return 'the sync engines are not running'
    try {
      this.integration.setShop(this.shopSyncSettings(shopId, region))
      return undefined
    } catch (e) {
      const { code, message, field } = describe(e) as { code: string; message: string; field?: string }
      this.logger.error('TikTok Shop sync settings refused for a shop: it is not synced until they are fixed', { tiktok: { shopId, code, field, message } })
      return `${code}${field ? ` (${field})` : ''}: ${message}`
    }
  }

  /**
   * Attaches the native sync engines when PlentyONE is configured (with `plentyId`): the inbox consumer
   * then hands webhooks (orders, product audits, cancellations, returns) to them and the scheduler runs
   * each sync kind. A PlentyONE that cannot be reached is logged, not fatal: the middleware (and
   * plentysystems) keep serving, and webhooks keep landing in the inbox.
   */
  private async startSyncEngines(): Promise<void> {
    const plenty = this.config.plenty
    if (!plenty) return
    if (plenty.plentyId === undefined) {
      this.logger.warning('TikTok Shop sync needs PLENTY_ID (configuration.plenty.plentyId), the PlentyONE client orders are created in: not started')
      return
    }
    try {
      await this.integration.attachEngines({
        plenty: { baseUrl: plenty.restUrl, username: plenty.username, password: plenty.password },
        ...(this.config.sync.timings ? { timings: this.config.sync.timings } : {}),
      })
    } catch (e) {
      this.logger.error('TikTok Shop sync could not start (PlentyONE REST login or referrer failed)', { tiktok: describe(e) })
      return
    }
    this.enginesRunning = true
    for (const s of await this.store.listShops(this.config.appKey)) {
      if (s.status === 'connected') this.configureShop(s.shopId, s.region)
    }
    this.logger.info('TikTok Shop sync running', { tiktok: { shops: this.integration.shops, kinds: SYNC_KINDS } })
  }

  private onProgress(event: SyncRunEvent): void {
    if (event.state !== 'running') {
      const { summary, ...rest } = event
      this.logger[event.state === 'failed' ? 'warning' : 'info'](`TikTok Shop ${event.kind} pass ${event.state}`, { tiktok: { ...rest, report: (summary as { report?: unknown } | undefined)?.report } })
    }
  }

  private async loadShops(): Promise<void> {
    for (const shop of await this.store.listShops(this.config.appKey)) {
      if (shop.status !== 'connected') continue
      await this.client.addShop({
        shopId: shop.shopId,
        ...(shop.cipher ? { cipher: shop.cipher } : {}),
        accessToken: shop.accessToken,
        accessTokenExpireIn: shop.accessTokenExpiresAt,
        refreshToken: shop.refreshToken,
        refreshTokenExpireIn: shop.refreshTokenExpiresAt,
      })
    }
  }

  /** The client refreshed a token (persist it: the old one stops working) or lost an authorization. */
  private onClientEvent(event: ClientEventInfo): void {
    if (event.type === 'tokensRefreshed' && event.tokens) {
      const tokens = event.tokens
      void (async () => {
        const shop = await this.store.getShop({ appKey: this.config.appKey, shopId: event.shopId })
        if (!shop) return
        await this.store.upsertShop({
          ...shop,
          accessToken: tokens.accessToken,
          accessTokenExpiresAt: tokens.accessTokenExpireIn,
          refreshToken: tokens.refreshToken,
          refreshTokenExpiresAt: tokens.refreshTokenExpireIn,
        })
        this.logger.info('TikTok Shop tokens refreshed and stored', { tiktok: { shopId: event.shopId } })
      })().catch((e) => this.logger.error('Could not store refreshed TikTok Shop tokens', { tiktok: { shopId: event.shopId, ...describe(e) } }))
    } else if (event.type === 'reauthorizationRequired') {
      void this.store
        .markShopDeauthorized({ appKey: this.config.appKey, shopId: event.shopId })
        .then(() => this.logger.warning('TikTok Shop authorization revoked: the seller must connect the shop again', { tiktok: { shopId: event.shopId } }))
        .catch((e) => this.logger.error('Could not mark the shop deauthorized', { tiktok: { shopId: event.shopId, ...describe(e) } }))
    } else if (event.type === 'retry') {
      this.logger.debug('TikTok Shop call retried', { tiktok: { shopId: event.shopId, operation: event.operation, attempt: event.attempt, code: event.code } })
    }
  }

  // ---- OAuth ----

  /** A fresh state and the seller-facing authorize URL. */
  async authorizationUrl(): Promise<{ url: string; expiresAt: number }> {
    const { state, expiresAt } = this.states.issue()
    await this.store.saveOAuthState(state, expiresAt)
    const url = authorizeUrl({
      serviceId: this.config.serviceId,
      state,
      region: this.config.region,
      ...(this.config.authorizeBase ? { authorizeBase: this.config.authorizeBase } : {}),
    })
    return { url, expiresAt }
  }

  /**
   * The callback: state checked (signature, expiry, single use in this process and in the store), code
   * exchanged, authorized shops fetched, shops and sealed tokens stored, shops added to the client.
   * Nothing is stored unless every step before succeeded.
   */
  async completeAuthorization(query: Record<string, unknown>): Promise<{ sellerName: string; shops: ShopSummary[] }> {
    const one = (v: unknown) => (typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : undefined)
    const error = one(query.error)
    const state = one(query.state)
    const code = one(query.code)
    if (error !== undefined) {
      if (error === 'auth_denied') {
        throw new TikTokShopError('TTS_AUTHORIZATION_DENIED', 'The seller declined the authorization on TikTok; nothing was connected. Start the connection again to retry.')
      }
      throw new TikTokShopError('TTS_INVALID_ARGUMENT', `TikTok returned an error instead of an authorization code (error=${error.slice(0, 64)}); nothing was connected.`, { field: 'error' })
    }
    if (!state) throw new TikTokShopError('TTS_STATE_INVALID', 'The callback has no state parameter; start the connection from /api/tiktok/auth.', { field: 'state' })
    this.states.verify(state)
    await this.store.consumeOAuthState(state, nowSeconds())
    if (!code || code === 'null') throw new TikTokShopError('TTS_INVALID_ARGUMENT', 'The callback has no authorization code.', { field: 'code' })

    const tokens = await exchangeAuthCode({
      appKey: this.config.appKey,
      appSecret: this.config.appSecret,
      authCode: code,
      ...(this.config.authBase ? { authBase: this.config.authBase } : {}),
    })
    const shops = await getAuthorizedShops({
      appKey: this.config.appKey,
      appSecret: this.config.appSecret,
      accessToken: tokens.accessToken,
      ...(this.config.apiBase ? { apiBase: this.config.apiBase } : {}),
    })
    if (shops.length === 0) throw new TikTokShopError('TTS_NOT_FOUND', 'The seller authorized the app but has no shop it may act for.')
    const out: ShopSummary[] = []
    for (const s of shops) {
      await this.store.upsertShop({
        appKey: this.config.appKey,
        shopId: s.id,
        region: s.region,
        shopName: s.name,
        sellerType: s.sellerType,
        shopCode: s.code,
        cipher: s.cipher || null,
        accessToken: tokens.accessToken,
        accessTokenExpiresAt: tokens.accessTokenExpireIn,
        refreshToken: tokens.refreshToken,
        refreshTokenExpiresAt: tokens.refreshTokenExpireIn,
        grantedScopes: tokens.grantedScopes,
        status: 'connected',
      })
      await this.client.addShop({
        shopId: s.id,
        ...(s.cipher ? { cipher: s.cipher } : {}),
        accessToken: tokens.accessToken,
        accessTokenExpireIn: tokens.accessTokenExpireIn,
        refreshToken: tokens.refreshToken,
        refreshTokenExpireIn: tokens.refreshTokenExpireIn,
      })
      this.configureShop(s.id, s.region)
      const stored = await this.store.getShop({ appKey: this.config.appKey, shopId: s.id })
      if (stored) out.push(summary(stored))
    }
    this.logger.info('TikTok Shop connected', { tiktok: { shops: out.map((s) => ({ shopId: s.shopId, region: s.region })) } })
    return { sellerName: tokens.sellerName, shops: out }
  }

  // ---- connection ----

  async connection(): Promise<Connection> {
    const shops = (await this.store.listShops(this.config.appKey)).map(summary)
    return {
      connected: shops.some((s) => s.status === 'connected'),
      app: publicConfig(this.config),
      storage: { backend: this.store.backend, durable: this.store.durable },
      shops,
    }
  }

  private async requireShop(shopId: unknown): Promise<ShopCredentials> {
    if (typeof shopId !== 'string' || shopId.trim() === '') {
      throw new TikTokShopError('TTS_INVALID_ARGUMENT', 'shopId is required', { field: 'shopId' })
    }
    const shop = await this.store.getShop({ appKey: this.config.appKey, shopId })
    if (!shop) throw new TikTokShopError('TTS_NOT_FOUND', `No TikTok shop ${shopId} is connected.`, { field: 'shopId' })
    return shop
  }

  /** Forgets a shop's credentials here (mappings stay). TikTok has no revoke call: the seller removes the app in Seller Center. */
  async disconnect(shopId: unknown): Promise<{ shopId: string; disconnected: true }> {
    const shop = await this.requireShop(shopId)
    await this.store.deleteShop({ appKey: this.config.appKey, shopId: shop.shopId })
    this.client.removeShop(shop.shopId)
    this.logger.info('TikTok Shop disconnected', { tiktok: { shopId: shop.shopId } })
    return { shopId: shop.shopId, disconnected: true }
  }

  // ---- webhooks ----

  /**
   * Verifies the raw bytes, writes the notification to the inbox and wakes its consumer: one call into
   * the addon. Throws `TTS_SIGNATURE_INVALID`, `TTS_WEBHOOK_PAYLOAD_INVALID`,
   * `TTS_WEBHOOK_RAW_BODY_REQUIRED` or a store error.
   */
  receiveWebhook(rawBody: Buffer, authorization: string | undefined): Promise<{ inserted: boolean; notification: WebhookNotification }> {
    return this.integration.receiveWebhook(rawBody, authorization ?? null)
  }

  // ---- mappings ----

  private async shopsFor(shopId: unknown): Promise<string[]> {
    if (shopId !== undefined && shopId !== null && shopId !== '') return [(await this.requireShop(shopId)).shopId]
    return (await this.store.listShops(this.config.appKey)).map((s) => s.shopId)
  }

  private static query(input: MappingQueryInput | undefined): { status?: MappingSyncStatus; limit: number; after?: string } {
    const q = input ?? {}
    if (q.status !== undefined && !['pending', 'synced', 'error'].includes(q.status)) {
      throw new TikTokShopError('TTS_INVALID_ARGUMENT', 'status must be pending, synced or error', { field: 'status' })
    }
    const limit = q.limit === undefined ? 100 : Number(q.limit)
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new TikTokShopError('TTS_INVALID_ARGUMENT', 'limit must be between 1 and 1000', { field: 'limit' })
    return { ...(q.status ? { status: q.status } : {}), limit, ...(q.after ? { after: String(q.after) } : {}) }
  }

  async productMappings(input?: MappingQueryInput): Promise<{ mappings: ProductMapping[]; errors: number }> {
    const q = TikTokRuntime.query(input)
    const after = q.after === undefined ? undefined : Number(q.after)
    if (after !== undefined && !Number.isInteger(after)) throw new TikTokShopError('TTS_INVALID_ARGUMENT', 'after must be a PlentyONE variation id', { field: 'after' })
    const mappings: ProductMapping[] = []
    for (const shopId of await this.shopsFor(input?.shopId)) {
      mappings.push(...(await this.store.listProductMappings({ shopId, limit: q.limit, ...(q.status ? { status: q.status } : {}), ...(after !== undefined ? { afterVariationId: after } : {}) })))
    }
    return { mappings, errors: mappings.filter((m) => m.syncStatus === 'error').length }
  }

  async orderMappings(input?: MappingQueryInput): Promise<{ mappings: OrderMapping[]; errors: number }> {
    const q = TikTokRuntime.query(input)
    const mappings: OrderMapping[] = []
    for (const shopId of await this.shopsFor(input?.shopId)) {
      mappings.push(...(await this.store.listOrderMappings({ shopId, limit: q.limit, ...(q.status ? { status: q.status } : {}), ...(q.after ? { afterTiktokOrderId: q.after } : {}) })))
    }
    return { mappings, errors: mappings.filter((m) => m.syncStatus === 'error').length }
  }

  // ---- sync ----

  /**
   * Queues a run per (shop, kind) unless one is already waiting; the native scheduler starts it at
   * once. `full` (inventory only) sends every mapped SKU instead of only changed ones.
   */
  async triggerSync(input?: { shopId?: string; kind?: string; full?: boolean }): Promise<{ runs: SyncRunView[]; note: string }> {
    if (input?.kind !== undefined && input.kind !== null && !(SYNC_KINDS as readonly string[]).includes(input.kind)) {
      throw new TikTokShopError('TTS_INVALID_ARGUMENT', `kind must be one of ${SYNC_KINDS.join(', ')}`, { field: 'kind' })
    }
    const runs = await this.integration.trigger({
      ...(input?.shopId ? { shopId: input.shopId } : {}),
      ...(input?.kind ? { kind: input.kind as SyncKind } : {}),
      ...(input?.full ? { full: true } : {}),
    })
    return { runs: runs.map(runView), note: this.enginesRunning ? 'Runs are queued and start within a few seconds.' : ENGINES_NOTE }
  }

  /** Webhooks in the inbox by state, without their bodies (they hold buyer data): for an errors view. */
  async inbox(input?: { state?: string; shopId?: string; after?: string; limit?: number }): Promise<{ messages: InboxEntry[] }> {
    const state = input?.state ?? 'failing'
    if (!['pending', 'done', 'given_up', 'failing'].includes(state)) {
      throw new TikTokShopError('TTS_INVALID_ARGUMENT', 'state must be pending, done, given_up or failing', { field: 'state' })
    }
    const limit = input?.limit === undefined ? 100 : Number(input.limit)
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new TikTokShopError('TTS_INVALID_ARGUMENT', 'limit must be between 1 and 1000', { field: 'limit' })
    const rows = await this.store.listInbox({
      state: state as InboxState,
      limit,
      ...(input?.shopId ? { shopId: input.shopId } : {}),
      ...(input?.after ? { afterNotificationId: input.after } : {}),
    })
    return {
      messages: rows.map(({ payload, ...m }) => ({ ...m, bytes: payload.length })),
    }
  }

  async syncStatus(): Promise<SyncStatus> {
    const status = await this.integration.status()
    return {
      intervalMs: this.config.syncIntervalMs,
      stockIntervalMs: this.config.stockIntervalMs,
      engines: status.engines,
      note: status.engines.length === 0 ? ENGINES_NOTE : '',
      inbox: { pending: status.inboxPending },
      webhooks: status.webhooks,
      shops: status.shops.map((shop) => ({
        shopId: shop.shopId,
        runs: shop.runs.map(runView),
        progress: shop.progress,
        ...(shop.settingsProblem ? { settingsProblem: shop.settingsProblem } : {}),
      })),
    }
  }

  /**
   * Adds a consumer of webhook notifications to the native dispatch, after the engines' handler (one
   * consumer, one retry policy: a rejection is retried with backoff, given up after the attempts).
   */
  registerInboxHandler(handler: InboxHandler): void {
    this.integration.addInboxHandler(async (event): Promise<InboxHandlerFailure | null> => {
      try {
        await handler(event)
        return null
      } catch (e) {
        const { code, message } = describe(e)
        return { code, message }
      }
    })
  }

  /** Never print the configuration (it holds the app secret) when a context or config is logged. */
  [inspect.custom](): string {
    return `TikTokRuntime { appKey: ${this.config.appKey}, storage: ${this.store.backend} }`
  }

  toJSON(): Record<string, string> {
    return { appKey: this.config.appKey, storage: this.store.backend }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.integration.stop()
    await this.store.close()
  }
}

// ---- handing the runtime from `init` to `extendApp` and `onCreate` ----

/** Where `init` leaves the runtime: a symbol-keyed property, copied by Alokai's object spreads. */
export const RUNTIME = Symbol.for('tiktok-shop-plentyone.runtime')

let lastInitialized: TikTokRuntime | undefined

export function rememberRuntime(runtime: TikTokRuntime): void {
  lastInitialized = runtime
}

/** The runtime for a configuration object seen by `extendApp`/`onCreate`. */
export function runtimeOf(configuration: unknown): TikTokRuntime {
  const r = configuration && typeof configuration === 'object' ? (configuration as Record<symbol, unknown>)[RUNTIME] : undefined
  if (r instanceof TikTokRuntime) return r
  if (lastInitialized) return lastInitialized
  throw new TikTokShopError('TTS_NOT_INITIALIZED', 'The TikTok Shop integration was used before its init() ran: register it in middleware.config.ts (location: "tiktok-shop-plentyone/server").')
}

// ---- admin token ----


const digest = (s: string) => createHash('sha256').update(s).digest()

/** The token a request carries: `Authorization: Bearer <token>` or `x-tiktok-admin-token`. */
export function presentedAdminToken(headers: Record<string, string | string[] | undefined>): string | undefined {
  const h = headers['x-tiktok-admin-token']
  if (typeof h === 'string' && h !== '') return h
  const auth = headers.authorization
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim())
    if (m) return m[1]
  }
  return undefined
}

/**
 * Throws unless the request may use the admin routes: `TTS_ADMIN_TOKEN_NOT_SET` (403) when no token is
 * configured (closed by default), `TTS_UNAUTHORIZED` (401) when the request lacks the configured token.
 * The token is compared in constant time (over fixed-length digests, so its length does not leak either).
 */
export function checkAdmin(runtime: TikTokRuntime, headers: Record<string, string | string[] | undefined> | undefined): void {
  const { adminAccess, adminToken } = runtime.config
  if (adminAccess === 'open') return
  if (adminAccess === 'closed' || adminToken === undefined) {
    throw new TikTokShopError(
      'TTS_ADMIN_TOKEN_NOT_SET',
      'The TikTok Shop admin routes are closed: no admin token is configured. Set TIKTOK_SHOP_ADMIN_TOKEN (configuration.adminToken, at least 24 characters, e.g. `openssl rand -base64 32`) and send it as `Authorization: Bearer <token>` or an `x-tiktok-admin-token` header.',
    )
  }
  const given = headers ? presentedAdminToken(headers) : undefined
  if (given === undefined || !timingSafeEqual(digest(given), digest(adminToken))) {
    throw new TikTokShopError('TTS_UNAUTHORIZED', 'This TikTok Shop admin call needs the admin token (TIKTOK_SHOP_ADMIN_TOKEN) as `Authorization: Bearer <token>` or an `x-tiktok-admin-token` header.')
  }
}
