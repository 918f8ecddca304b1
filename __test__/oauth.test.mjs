import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'

import { authorizeUrl, exchangeAuthCode, getAuthorizedShops, OAuthStates, refreshAccessToken, signRequest } from '../index.js'
import { json, startServer } from './helpers.mjs'

const APP = { appKey: 'app-key-1', appSecret: 'app-secret-0123456789' }
let server

// A stand-in for TikTok's auth host and the authorized-shops endpoint that checks each call exactly.
before(async () => {
  server = await startServer((req, body, res) => {
    const url = new URL(req.url, 'http://x')
    const q = Object.fromEntries(url.searchParams)
    if (req.method === 'GET' && url.pathname === '/api/v2/token/get') {
      if (q.auth_code === 'used-code') return json(res, 200, { code: 36004004, message: 'Invalid auth code.', request_id: 'req-1' })
      return json(res, 200, {
        code: 0, message: 'success', request_id: 'req-2',
        data: {
          access_token: 'TTP_access_1', access_token_expire_in: 1900000000,
          refresh_token: 'TTP_refresh_1', refresh_token_expire_in: 1930000000,
          open_id: 'open-1', seller_name: 'Müller Mode', seller_base_region: 'DE', user_type: 0,
          granted_scopes: ['seller.order.info', 'seller.product.basic'],
        },
      })
    }
    if (req.method === 'GET' && url.pathname === '/api/v2/token/refresh') {
      if (q.refresh_token === 'revoked') return json(res, 200, { code: 105001, message: 'access token is invalid; detail: your token has been deauthorized', request_id: 'req-3' })
      return json(res, 200, { code: 0, request_id: 'req-4', data: { access_token: 'TTP_access_2', access_token_expire_in: 1900003600, refresh_token: 'TTP_refresh_2', refresh_token_expire_in: 1930003600 } })
    }
    if (req.method === 'GET' && url.pathname === '/authorization/202309/shops') {
      const { sign, ...rest } = q
      const expected = signRequest({ appSecret: APP.appSecret, path: url.pathname, query: rest })
      if (sign !== expected) return json(res, 401, { code: 106001, message: 'Invalid credentials', request_id: 'req-5' })
      if (req.headers['x-tts-access-token'] !== 'TTP_access_1') return json(res, 200, { code: 105002, message: 'Expired credentials', request_id: 'req-6' })
      return json(res, 200, { code: 0, request_id: 'req-7', data: { shops: [{ id: '7495540735365777507', name: 'Müller DE', region: 'DE', seller_type: 'LOCAL', cipher: 'ROW_abc', code: 'DEL123' }] } })
    }
    json(res, 404, { code: 36009009, message: 'Invalid path', request_id: 'req-404' })
  })
})
after(() => server.close())

test('authorize URL per region and override', () => {
  assert.equal(authorizeUrl({ serviceId: '7123', state: 's1', region: 'US' }), 'https://services.tiktokshops.us/open/authorize?service_id=7123&state=s1')
  assert.match(authorizeUrl({ serviceId: '7123', state: 's1' }), /^https:\/\/services\.tiktokshop\.com\/open\/authorize\?/)
  assert.equal(authorizeUrl({ serviceId: '7', state: 'a', authorizeBase: 'http://127.0.0.1:9/' }), 'http://127.0.0.1:9/open/authorize?service_id=7&state=a')
  assert.throws(() => authorizeUrl({ serviceId: '7', state: 'a', region: 'MARS' }), { code: 'TTS_CONFIG_INVALID' })
})

test('state: tampered, expired, reused and foreign states are rejected', () => {
  const states = new OAuthStates({ secrets: [APP.appSecret], ttlSeconds: 600 })
  const { state, expiresAt } = states.issue(1_000_000)
  assert.equal(expiresAt, 1_000_600)
  assert.ok(Buffer.from(state.split('.')[0], 'base64url').length >= 32 + 8, 'carries ≥32 random bytes')

  const tampered = (state[5] === 'A' ? 'B' : 'A')
  assert.throws(() => states.verify(state.slice(0, 5) + tampered + state.slice(6), 1_000_100), { code: 'TTS_STATE_INVALID' })
  assert.throws(() => states.verify(state, 1_000_600), { code: 'TTS_STATE_EXPIRED' })
  assert.throws(() => new OAuthStates({ secrets: ['another-app'] }).verify(state, 1_000_100), { code: 'TTS_STATE_INVALID' })
  assert.deepEqual(states.verify(state, 1_000_100), { issuedAt: 1_000_000, expiresAt: 1_000_600 })
  assert.throws(() => states.verify(state, 1_000_101), { code: 'TTS_STATE_REUSED' })
  assert.throws(() => states.verify('', 1_000_101), { code: 'TTS_STATE_INVALID' })
  assert.throws(() => new OAuthStates({ secrets: [] }), { code: 'TTS_INVALID_ARGUMENT' })
})

test('token exchange sends exactly GET /api/v2/token/get with the four query parameters', async () => {
  const tokens = await exchangeAuthCode({ ...APP, authCode: 'code-1', authBase: server.url })
  const call = server.requests.at(-1)
  assert.equal(call.method, 'GET')
  assert.equal(call.url.pathname, '/api/v2/token/get')
  assert.deepEqual(Object.fromEntries(call.url.searchParams), { app_key: APP.appKey, app_secret: APP.appSecret, auth_code: 'code-1', grant_type: 'authorized_code' })
  assert.equal(call.body.length, 0)
  assert.equal(tokens.accessToken, 'TTP_access_1')
  assert.equal(tokens.accessTokenExpireIn, 1900000000, 'absolute Unix seconds, as sent')
  assert.equal(tokens.sellerName, 'Müller Mode')
  assert.deepEqual(tokens.grantedScopes, ['seller.order.info', 'seller.product.basic'])
})

test('a used auth code rejects with TTS_AUTH_CODE_INVALID and no secret in the error', async () => {
  await assert.rejects(exchangeAuthCode({ ...APP, authCode: 'used-code', authBase: server.url }), (err) => {
    assert.equal(err.code, 'TTS_AUTH_CODE_INVALID')
    assert.equal(err.tiktokCode, 36004004)
    assert.equal(err.requestId, 'req-1')
    assert.ok(!err.message.includes(APP.appSecret) && !err.message.includes('used-code'))
    return true
  })
})

test('refresh sends exactly GET /api/v2/token/refresh; a revoked grant needs re-authorization', async () => {
  const tokens = await refreshAccessToken({ ...APP, refreshToken: 'TTP_refresh_1', authBase: server.url })
  const call = server.requests.at(-1)
  assert.equal(call.url.pathname, '/api/v2/token/refresh')
  assert.deepEqual(Object.fromEntries(call.url.searchParams), { app_key: APP.appKey, app_secret: APP.appSecret, refresh_token: 'TTP_refresh_1', grant_type: 'refresh_token' })
  assert.equal(tokens.accessToken, 'TTP_access_2')
  await assert.rejects(refreshAccessToken({ ...APP, refreshToken: 'revoked', authBase: server.url }), { code: 'TTS_REAUTHORIZATION_REQUIRED', tiktokCode: 105001 })
})

test('authorized shops: signed request with the token header and no cipher', async () => {
  const shops = await getAuthorizedShops({ ...APP, accessToken: 'TTP_access_1', apiBase: server.url })
  assert.deepEqual(shops, [{ id: '7495540735365777507', name: 'Müller DE', region: 'DE', sellerType: 'LOCAL', cipher: 'ROW_abc', code: 'DEL123' }])
  const call = server.requests.at(-1)
  assert.equal(call.headers['x-tts-access-token'], 'TTP_access_1')
  assert.ok(!call.url.searchParams.has('shop_cipher') && !call.url.searchParams.has('access_token'))
  await assert.rejects(getAuthorizedShops({ ...APP, accessToken: 'TTP_old', apiBase: server.url }), { code: 'TTS_TOKEN_EXPIRED', httpStatus: 200 })
  await assert.rejects(getAuthorizedShops({ ...APP, appSecret: 'wrong-secret', accessToken: 'TTP_access_1', apiBase: server.url }), { code: 'TTS_SIGNATURE_INVALID', httpStatus: 401 })
})

test('an unreachable host is a network error without the URL (which would carry the app secret)', async () => {
  await assert.rejects(exchangeAuthCode({ ...APP, authCode: 'c', authBase: 'http://127.0.0.1:1' }), (err) => {
    assert.equal(err.code, 'TTS_NETWORK')
    assert.ok(!err.message.includes(APP.appSecret))
    return true
  })
})
