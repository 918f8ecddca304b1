// Errors of the integration layer and the one mapping from error codes to HTTP statuses.
//
// The addon throws `Error`s with a stable `code` (`TTS_*`); this layer adds a few codes of its own
// (listed in INTEGRATION_ERROR_CODES) and never invents a status anywhere else than `httpStatusFor`.

import type { Request, Response } from 'express'

/** Codes this layer adds to the addon's (`errorCodes()`). */
export const INTEGRATION_ERROR_CODES = {
  TTS_AUTHORIZATION_DENIED: 'The seller declined the authorization on TikTok (error=auth_denied); start the connection again.',
  TTS_WEBHOOKS_DISABLED: 'Webhooks are switched off (TIKTOK_SHOP_ENABLE_WEBHOOKS=false).',
  TTS_RAW_BODY_MISSING:
    'The webhook raw body was not kept: add `verify: tiktokRawBody` to the `bodyParser` option of `createServer`.',
  TTS_UNAUTHORIZED: 'This admin route or SDK method needs the admin token (TIKTOK_SHOP_ADMIN_TOKEN) as `Authorization: Bearer <token>` or `x-tiktok-admin-token`.',
  TTS_ADMIN_TOKEN_NOT_SET:
    'The admin routes and SDK methods are closed because no admin token is configured: set TIKTOK_SHOP_ADMIN_TOKEN (TIKTOK_SHOP_INSECURE_OPEN_ADMIN=true opens them for local development only).',
  TTS_NOT_INITIALIZED: 'The integration was used before its `init` ran (load it through middleware.config.ts).',
} as const

/** An error of this layer: a stable `code`, the HTTP `statusCode` Alokai's error handler uses, a safe message. */
export class TikTokShopError extends Error {
  readonly code: string
  statusCode: number
  /** For `TTS_CONFIG_INVALID`: every problem found, one line each. */
  readonly problems?: string[]
  field?: string

  constructor(code: string, message: string, options: { statusCode?: number; problems?: string[]; field?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'TikTokShopError'
    this.code = code
    this.statusCode = options.statusCode ?? httpStatusFor(code)
    if (options.problems) this.problems = options.problems
    if (options.field) this.field = options.field
  }
}

/**
 * The HTTP status for an error code.
 *
 * - 400: the caller sent something wrong (arguments, OAuth state, auth code, denied consent, webhook payload).
 * - 401: a webhook signature did not verify, or an admin call came without the admin token.
 * - 403: the app lacks the scope, TikTok refuses our IP, or no admin token is configured (admin closed).
 * - 404: no such shop/record; webhooks switched off.
 * - 409: the shop's authorization is gone (`TTS_REAUTHORIZATION_REQUIRED`) or the order is on hold: the request
 *        was fine, the state of the connection is not. Not 401, which a storefront would read as "log the
 *        shopper in again".
 * - 429: TikTok's rate limit.
 * - 502/504: TikTok failed or answered something we could not use; 504 for timeouts.
 * - 500: our configuration, storage, sealing keys, server wiring (missing raw-body hook) or a bug.
 */
export function httpStatusFor(code: string | undefined): number {
  switch (code) {
    case 'TTS_INVALID_ARGUMENT':
    case 'TTS_STATE_INVALID':
    case 'TTS_STATE_EXPIRED':
    case 'TTS_STATE_REUSED':
    case 'TTS_AUTH_CODE_INVALID':
    case 'TTS_AUTHORIZATION_DENIED':
    case 'TTS_WEBHOOK_PAYLOAD_INVALID':
      return 400
    case 'TTS_SIGNATURE_INVALID':
    case 'TTS_UNAUTHORIZED':
      return 401
    case 'TTS_PERMISSION_DENIED':
    case 'TTS_IP_NOT_ALLOWED':
    case 'TTS_ADMIN_TOKEN_NOT_SET':
      return 403
    case 'TTS_NOT_FOUND':
    case 'TTS_WEBHOOKS_DISABLED':
      return 404
    case 'TTS_REAUTHORIZATION_REQUIRED':
    case 'TTS_ORDER_ON_HOLD':
      return 409
    case 'TTS_RATE_LIMITED':
      return 429
    case 'TTS_TIMEOUT':
      return 504
    case 'TTS_TOKEN_EXPIRED':
    case 'TTS_SHOP_CIPHER_REQUIRED':
    case 'TTS_REQUEST_REJECTED':
    case 'TTS_SERVICE_UNAVAILABLE':
    case 'TTS_NETWORK':
    case 'TTS_VERSION_INVALID':
    case 'TTS_API_ERROR':
    case 'TTS_INVALID_RESPONSE':
      return 502
    default:
      // TTS_CONFIG_INVALID, TTS_STORE, TTS_SEAL_*, TTS_WEBHOOK_RAW_BODY_REQUIRED, TTS_RAW_BODY_MISSING,
      // TTS_NOT_INITIALIZED, TTS_INTERNAL, and anything without a code.
      return 500
  }
}

/** The `code` of an error if it has a `TTS_*` one. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code
    if (typeof code === 'string' && code.startsWith('TTS_')) return code
  }
  return undefined
}

/** The JSON body sent for an error: `{ code, message }`. Unknown errors get a generic message (it may hold anything). */
export function errorBody(error: unknown): { code: string; message: string; field?: string } {
  const code = errorCode(error)
  if (code && error instanceof Error) {
    // The argument or setting to fix, when the error names one.
    const field = (error as { field?: unknown }).field
    return typeof field === 'string' ? { code, message: error.message, field } : { code, message: error.message }
  }
  return { code: 'TTS_INTERNAL', message: 'Internal error in the TikTok Shop integration; see the middleware log.' }
}

/**
 * Gives an error the `statusCode` Alokai's `defaultErrorHandler` reads (first `status`/`statusCode` found),
 * so an SDK call fails with a meaningful status. Returns the same error object (or a wrapped one for non-errors).
 */
export function withStatus(error: unknown): Error & { statusCode: number; code: string } {
  const code = errorCode(error) ?? 'TTS_INTERNAL'
  const err = error instanceof Error ? error : new TikTokShopError('TTS_INTERNAL', String(error))
  const target = err as Error & { statusCode: number; code: string }
  try {
    target.statusCode = httpStatusFor(code)
    if (!errorCode(err)) target.code = code
  } catch {
    // frozen error objects: wrap instead
    return Object.assign(new TikTokShopError(code, err.message, { cause: err }), { code }) as Error & { statusCode: number; code: string }
  }
  return target
}

/** Sends `{ code, message }` with the mapped status. */
export function sendError(res: Response, error: unknown): void {
  if (res.headersSent) return
  const body = errorBody(error)
  res.status(httpStatusFor(errorCode(error))).json(body)
}

/**
 * An `errorHandler` for the integration entry in middleware.config.ts: like Alokai's default, but it also
 * sends `{ code, message }` for 5xx answers of our own coded errors (the default replaces them with a fixed
 * text). Messages of coded errors never contain secrets (the addon guarantees it; so does this layer).
 */
export function tiktokErrorHandler(error: unknown, _req: Request, res: Response): void {
  sendError(res, error)
}

/** Safe one-line description of an error for logs (code + message, never request data). */
export function describe(error: unknown): { code: string; message: string } {
  const code = errorCode(error) ?? 'TTS_INTERNAL'
  const message = error instanceof Error ? error.message : String(error)
  return { code, message }
}
