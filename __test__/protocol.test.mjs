import assert from 'node:assert/strict'
import { createHmac, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'

import { buildRequest, OperationId, operations, signatureBaseString, signRequest } from '../index.js'
import { vectors } from './helpers.mjs'

const signVectors = vectors('sign-vectors.json')

test('every shared signing vector: sign and base string', () => {
  assert.ok(signVectors.length >= 7)
  for (const v of signVectors) {
    const input = {
      appSecret: v.app_secret,
      path: v.path,
      query: v.query,
      body: v.body ?? undefined,
      contentType: v.content_type ?? undefined,
      legacy: v.legacy,
    }
    assert.equal(signRequest(input), v.sign, v.name)
    assert.equal(signatureBaseString(input), v.base_string, v.name)
    if (v.body !== null) {
      assert.equal(signRequest({ ...input, body: Buffer.from(v.body) }), v.sign, `${v.name} (Buffer body)`)
    }
  }
})

// An independent reference implementation in plain JS, to cross-check the addon on random inputs.
function referenceSign({ appSecret, path, query, body, contentType }) {
  const keys = Object.keys(query).filter((k) => k !== 'sign' && k !== 'access_token').sort()
  let base = path + keys.map((k) => k + [].concat(query[k]).join(',')).join('')
  const multipart = /^multipart\/form-data\b/i.test(contentType ?? '')
  const hmac = createHmac('sha256', appSecret).update(appSecret).update(base)
  if (body && !multipart) hmac.update(body)
  return hmac.update(appSecret).digest('hex')
}

test('matches a reference implementation on random inputs, whatever the key order', () => {
  for (let i = 0; i < 300; i++) {
    const query = {}
    const n = 1 + (i % 7)
    for (let j = 0; j < n; j++) query[randomBytes(4).toString('hex')] = randomBytes(6).toString('base64')
    if (i % 5 === 0) query.ids = ['576486316948490001', '576486316948490002']
    const body = i % 3 === 0 ? undefined : randomBytes(i % 50).toString('latin1')
    const contentType = i % 4 === 0 ? 'multipart/form-data; boundary=z' : 'application/json'
    const input = { appSecret: randomBytes(20).toString('hex'), path: '/order/202309/orders/search', query, body, contentType }
    const reversed = { ...input, query: Object.fromEntries(Object.entries(query).reverse()) }
    const expected = referenceSign({ ...input, body: body && Buffer.from(body) })
    assert.equal(signRequest(input), expected)
    assert.equal(signRequest(reversed), expected)
    // the query string already built for the URL signs the same (decoded, a repeated key a list)
    const built = new URLSearchParams()
    for (const [k, v] of Object.entries(query)) for (const one of [].concat(v)) built.append(k, one)
    assert.equal(signRequest({ ...input, query: built.toString() }), expected, built.toString())
  }
})

test('changing any byte of path, a query value or the body changes the sign', () => {
  const base = { appSecret: 's', path: '/product/202309/products', query: { a: '1', b: 'xy' }, body: Buffer.from('{"k":1}') }
  const original = signRequest(base)
  for (let i = 0; i < base.body.length; i++) {
    const body = Buffer.from(base.body)
    body[i] ^= 1
    assert.notEqual(signRequest({ ...base, body }), original)
  }
  assert.notEqual(signRequest({ ...base, path: '/product/202309/productz' }), original)
  assert.notEqual(signRequest({ ...base, query: { a: '1', b: 'xz' } }), original)
  // multipart: the body is not part of the sign
  const mp = { ...base, contentType: 'multipart/form-data; boundary=X' }
  assert.equal(signRequest(mp), signRequest({ ...mp, body: Buffer.from('other bytes') }))
})

test('bad arguments get coded errors', () => {
  assert.throws(() => signRequest({ appSecret: '', path: '/x' }), { code: 'TTS_INVALID_ARGUMENT' })
  assert.throws(() => signRequest({ appSecret: 's', path: 'x' }), { code: 'TTS_INVALID_ARGUMENT', field: 'path' })
})

test('buildRequest: common parameters, cipher per the table, token header, percent-encoding', () => {
  const built = buildRequest({
    operation: 'orders.search',
    appKey: '6a1b2c3d4e5f6',
    appSecret: '0123456789abcdef0123456789abcdef01234567',
    apiBase: 'http://127.0.0.1:1',
    query: { page_size: '50', sort_field: 'create_time', sort_order: 'ASC', page_token: 'aDU2c2Z+Ymc9/PQ==' },
    body: '{"order_status":"AWAITING_SHIPMENT","update_time_ge":1700000000,"update_time_lt":1700086400}',
    shopCipher: 'ROW_AbCdEfGhIjKlMnOp',
    accessToken: 'TTP_token',
    timestamp: 1700000000,
  })
  assert.equal(built.method, 'POST')
  const url = new URL(built.url)
  assert.equal(url.pathname, '/order/202309/orders/search')
  assert.ok(built.url.includes('page_token=aDU2c2Z%2BYmc9%2FPQ%3D%3D'), 'signed decoded, sent encoded')
  assert.equal(url.searchParams.get('page_token'), 'aDU2c2Z+Ymc9/PQ==')
  assert.equal(url.searchParams.get('sign'), 'ca31238c26e21cf0bf7d9c11de5f980fef080cf6ac34d246b7258d306c02abee')
  assert.equal(built.headers['x-tts-access-token'], 'TTP_token')
  assert.equal(built.headers['content-type'], 'application/json')
  assert.ok(!built.url.includes('TTP_token'))

  const shops = buildRequest({ operation: 'authorization.shops', appKey: 'k', appSecret: 's', shopCipher: 'ROW_x', timestamp: 1 })
  assert.ok(!shops.url.includes('shop_cipher'), 'authorization.shops rejects the cipher')
  assert.equal(shops.body, undefined)

  assert.throws(() => buildRequest({ operation: 'orders.nope', appKey: 'k', appSecret: 's' }), { code: 'TTS_INVALID_ARGUMENT', field: 'operation' })
  assert.throws(() => buildRequest({ operation: 'products.get', appKey: 'k', appSecret: 's' }), { field: 'pathParams.product_id' })
  assert.throws(() => buildRequest({ operation: 'orders.search', appKey: 'k', appSecret: 's', query: { sign: 'x' } }), { field: 'query.sign' })
  assert.throws(() => buildRequest({ operation: 'orders.search', appKey: 'k', appSecret: 's', query: { page_size: '500' } }), { field: 'query.page_size' })
})

test('the operation table is exposed and consistent', () => {
  const ops = operations()
  assert.ok(ops.length >= 45)
  const byId = new Map(ops.map((o) => [o.id, o]))
  assert.equal(byId.size, ops.length)
  assert.equal(byId.get('orders.search').maxPageSize, 100)
  assert.equal(byId.get('images.upload').body, 'multipart')
  assert.equal(byId.get('images.upload').takesShopCipher, false)
  assert.equal(byId.get('packages.ship').retry, 'unsafe')
  assert.equal(byId.get('returns.approve').retry, 'idempotency-key-query')
  assert.deepEqual(byId.get('inventory.update').pathParams, ['product_id'])
  for (const op of ops) assert.match(op.path, new RegExp(`^/[a-z_]+/${op.version}/`))
})

test('the OperationId type lists exactly the operations of the table', () => {
  assert.deepEqual(Object.values(OperationId).sort(), operations().map((o) => o.id).sort())
})

test('operations.d.ts types exactly the operations of the table, with their path params and bodies', () => {
  // Parsed as text: the d.ts is hand-written, so nothing else ties it to the Rust table.
  const dts = readFileSync(new URL('../operations.d.ts', import.meta.url), 'utf8')
  // An interface's body (to its closing brace at column 0), or a type's lines (to the next blank line).
  const block = (kind, name) =>
    dts.match(new RegExp(`^export ${kind} ${name}\\b[^\\n]*\\n([\\s\\S]*?)\\n${kind === 'interface' ? '\\}' : '\\n'}`, 'm'))[1]
  const entries = new Map(
    [...block('interface', 'OperationTypes').matchAll(/^ {2}'([a-z_]+\.[a-z_]+)': \{\n([\s\S]*?)\n {2}\}$/gm)].map((m) => [m[1], m[2]]),
  )
  const ops = operations()
  assert.deepEqual([...entries.keys()].sort(), ops.map((o) => o.id).sort())
  for (const op of ops) {
    const entry = entries.get(op.id)
    const params = entry.match(/^ {4}pathParams: (?:never|\{([^}]*)\})$/m)
    assert.ok(params, `${op.id}: pathParams`)
    const names = [...(params[1] ?? '').matchAll(/(\w+):/g)].map((m) => m[1])
    assert.deepEqual(names, op.pathParams, `${op.id}: pathParams`)
    const body = entry.match(/^ {4}body: (.*)$/m)[1]
    assert.equal(body === 'never', op.body === 'none', `${op.id}: a GET has body never`)
    assert.equal(body.startsWith('Multipart<'), op.body === 'multipart', `${op.id}: uploads are Multipart`)
  }
  const quoted = (text) => [...text.matchAll(/'([a-z_]+\.[a-z_]+)'/g)].map((m) => m[1]).sort()
  assert.deepEqual(
    quoted(block('type', 'IdempotentOperationId')),
    ops.filter((o) => o.retry.startsWith('idempotency-key')).map((o) => o.id).sort(),
  )
  assert.deepEqual(quoted(block('interface', 'PageFields')), ops.filter((o) => o.maxPageSize !== undefined).map((o) => o.id).sort())
})
