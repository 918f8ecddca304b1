// A PlentyONE-style `apps/server/src/index.ts`: the Alokai middleware server, with the one addition the
// TikTok integration needs — body-parser's `verify` hook, which keeps the webhook's exact bytes.

import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

import { createServer, type MiddlewareConfig } from '@vue-storefront/middleware'
import { tiktokRawBody } from 'tiktok-shop-plentyone/server'

import { createConfig } from '../middleware.config'

export interface StartOptions {
  /** Default: the example's middleware.config (environment variables). */
  config?: MiddlewareConfig
  /** Default `PORT` or 8181; 0 picks a free port. */
  port?: number
  /** Default `HOST` or 127.0.0.1 (PlentyONE binds 0.0.0.0; this example stays on loopback). */
  host?: string
  /** Leave out the raw-body hook (to show what happens without it). */
  withoutRawBodyHook?: boolean
}

export interface StartedMiddleware {
  server: Server
  url: string
  port: number
  close(): Promise<void>
}

export async function startMiddleware(options: StartOptions = {}): Promise<StartedMiddleware> {
  const server = await createServer(options.config ?? createConfig(), {
    cors: { credentials: true, origin: process.env.API_URL ?? 'http://localhost:3000' },
    bodyParser: options.withoutRawBodyHook ? { limit: '50mb' } : { limit: '50mb', verify: tiktokRawBody },
    fileUpload: { enabled: true, maxFileSize: 14_155_776, maxFiles: 5 },
  })
  const host = options.host ?? process.env.HOST ?? '127.0.0.1'
  const port = options.port ?? Number(process.env.PORT ?? 8181)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const actual = (server.address() as AddressInfo).port
  return {
    server,
    port: actual,
    url: `http://${host}:${actual}`,
    close: () =>
      new Promise<void>((resolve) => {
        // the addon's HTTP client keeps sockets alive; don't wait for them
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

if (require.main === module) {
  startMiddleware()
    .then(({ url }) => console.log(`Middleware listening on ${url} — connect a TikTok shop at ${url}/api/tiktok/auth`))
    .catch((e: unknown) => {
      console.error(e instanceof Error ? e.message : e)
      process.exit(1)
    })
}
