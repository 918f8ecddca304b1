// A PlentyONE-style `apps/server/middleware.config.ts` with TikTok Shop registered beside plentysystems.
//
// In a PlentyONE shop (`npm i tiktok-shop-plentyone`) the tiktok entry is simply:
//
//   tiktok: {
//     location: 'tiktok-shop-plentyone/server',
//     configuration: {},                  // every setting defaults to its TIKTOK_SHOP_* environment variable
//     errorHandler: tiktokErrorHandler,   // `{ code, message }` with the mapped status, also for 5xx
//   },
//
// Inside this repository the package is not in node_modules, so `location` is the resolved file of the
// same subpath export (Alokai accepts a module id or a path).

import type { Integration, MiddlewareConfig } from '@vue-storefront/middleware'
import { tiktokErrorHandler, type TikTokIntegrationConfig } from 'tiktok-shop-plentyone/server'

function installed(id: string): boolean {
  try {
    require.resolve(id, { paths: [process.cwd()] })
    return true
  } catch {
    return false
  }
}

/**
 * plentysystems, exactly as PlentyONE registers it (`plentymarkets/plentyshop-pwa` apps/server/middleware.config.ts).
 * Registered only when `@plentymarkets/shop-api` is installed: this repository does not depend on it, and
 * Alokai refuses to start with an integration it cannot resolve.
 */
export function plentysystemsIntegration(): Record<string, Integration> {
  if (!installed('@plentymarkets/shop-api/server')) return {}
  return {
    plentysystems: {
      location: '@plentymarkets/shop-api/server',
      configuration: {
        api: {
          url: process.env.API_ENDPOINT,
          securityToken: process.env.API_SECURITY_TOKEN ?? '',
        },
      },
      errorHandler: (error: unknown, _req, res) => {
        const e = error as { response?: { status?: number; data?: unknown } }
        if (e?.response) res.status(e.response.status ?? 500).send(e.response.data)
        else res.status(500).send(error)
      },
    },
  }
}

/** The tiktok integration; `configuration` overrides the TIKTOK_SHOP_* environment variables. */
export function tiktokIntegration(configuration: TikTokIntegrationConfig = {}): Integration {
  return {
    location: require.resolve('tiktok-shop-plentyone/server'), // in a shop: 'tiktok-shop-plentyone/server'
    configuration,
    errorHandler: tiktokErrorHandler,
  }
}

export function createConfig(options: { tiktok?: TikTokIntegrationConfig; plentysystems?: boolean } = {}): MiddlewareConfig {
  return {
    integrations: {
      ...(options.plentysystems === false ? {} : plentysystemsIntegration()),
      tiktok: tiktokIntegration(options.tiktok),
    },
  }
}

export const config = createConfig()
export default config
