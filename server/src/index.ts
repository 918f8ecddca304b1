// tiktok-shop-plentyone/server: the Alokai middleware integration module (`location:` in
// middleware.config.ts). Exports `createApiClient` (built with `apiClientFactory`) and `init`.
//
//   integrations: {
//     plentysystems: { location: '@plentymarkets/shop-api/server', configuration: { … } },
//     tiktok: { location: 'tiktok-shop-plentyone/server', configuration: {}, errorHandler: tiktokErrorHandler },
//   }
//
// and, where the server is created: createServer(config, { bodyParser: { limit: '50mb', verify: tiktokRawBody } }).

import { apiClientFactory, type ApiClientExtension } from '@vue-storefront/middleware'

import { api, type TikTokContext } from './api.js'
import type { TikTokIntegrationConfig } from './config.js'
import { registerRoutes, ROUTES } from './routes.js'
import { rememberRuntime, RUNTIME, runtimeOf, TikTokRuntime, type Logger } from './runtime.js'

/**
 * Once per integration at server start: validates the configuration (one error listing every problem),
 * opens the store, creates the addon client and the scheduler. The runtime reaches `extendApp` through
 * a symbol-keyed property of the configuration (Alokai copies it into the objects it passes on) and the
 * API methods through the returned init config.
 */
export async function init(configuration: TikTokIntegrationConfig, alokai: { logger: Logger }): Promise<Record<symbol, unknown>> {
  const runtime = await TikTokRuntime.create(configuration ?? {}, process.env, alokai.logger)
  if (configuration && typeof configuration === 'object' && Object.isExtensible(configuration)) {
    Object.defineProperty(configuration, RUNTIME, { value: runtime, enumerable: true, configurable: true, writable: true })
  }
  rememberRuntime(runtime)
  return { [RUNTIME]: runtime }
}

const routesExtension: ApiClientExtension = {
  name: 'tiktok-shop-routes',
  extendApp: ({ app, configuration, logger }) => {
    const runtime = runtimeOf(configuration)
    registerRoutes(app, runtime, logger)
    logger.info(`TikTok Shop routes: GET ${ROUTES.auth}, GET ${ROUTES.callback}, POST ${ROUTES.webhooks}, ${ROUTES.products}, ${ROUTES.orders}, ${ROUTES.syncStatus}, POST ${ROUTES.syncTrigger}`)
  },
}

/** Runs on every request: must stay cheap (it only looks the runtime up). */
function onCreate(config: Record<string | symbol, unknown>): { config: Record<string | symbol, unknown>; client: TikTokRuntime } {
  return { config, client: runtimeOf(config) }
}

const factory = apiClientFactory<Record<string, unknown>, typeof api>({
  onCreate,
  api: api as unknown as typeof api,
  extensions: [routesExtension],
})

export const createApiClient = factory.createApiClient

export { api, type Endpoints, type OrderMappingsResult, type ProductMappingsResult, type TikTokContext, type TriggerSyncResult } from './api.js'
export { DEFAULT_DATABASE_URL, publicConfig, resolveConfig, type ResolvedConfig, type TikTokIntegrationConfig } from './config.js'
export { errorBody, httpStatusFor, INTEGRATION_ERROR_CODES, TikTokShopError, tiktokErrorHandler, withStatus } from './errors.js'
export { RAW_BODY, RAW_BODY_MISSING_MESSAGE, tiktokRawBody, WEBHOOK_PATH, withTiktokRawBody } from './raw-body.js'
export { ROUTES } from './routes.js'
export {
  ENGINES_NOTE,
  runtimeOf,
  SYNC_KINDS,
  TikTokRuntime,
  type Connection,
  type InboxEntry,
  type InboxEvent,
  type InboxHandler,
  type Logger,
  type MappingQueryInput,
  type ShopSummary,
  type SyncKind,
  type SyncRunView,
  type SyncStatus,
  type WebhookStats,
} from './runtime.js'
export { openStore, registerStoreDriver, type StoreDriver, type StoreDriverOptions } from './store-factory.js'
export * from './store.js'
export type { TikTokContext as IntegrationContext }
