import assert from 'node:assert/strict'
import { test } from 'node:test'

import { parseWebhook, signWebhook, verifyWebhook } from '../index.js'
import { vectors } from './helpers.mjs'

const webhookVectors = vectors('webhook-vectors.json')

test('every shared webhook vector, as string, Buffer and Uint8Array', () => {
  assert.ok(webhookVectors.length >= 2)
  for (const v of webhookVectors) {
    for (const rawBody of [v.raw_body, Buffer.from(v.raw_body), new Uint8Array(Buffer.from(v.raw_body))]) {
      const ok = verifyWebhook({ appKey: v.app_key, appSecret: v.app_secret, authorization: v.authorization, rawBody })
      assert.equal(ok, v.valid, v.name)
    }
    // rotation: any of the listed secrets may match
    const rotated = verifyWebhook({ appKey: v.app_key, appSecrets: ['old-secret', v.app_secret], authorization: v.authorization, rawBody: v.raw_body })
    assert.equal(rotated, v.valid, `${v.name} with a secret list`)
  }
})

test('a parsed object instead of the raw body fails with an error that says so', () => {
  const v = webhookVectors[0]
  assert.throws(
    () => verifyWebhook({ appKey: v.app_key, appSecret: v.app_secret, authorization: v.authorization, rawBody: JSON.parse(v.raw_body) }),
    (err) => err.code === 'TTS_WEBHOOK_RAW_BODY_REQUIRED' && /pass the raw body/.test(err.message) && err.field === 'rawBody',
  )
  assert.throws(() => verifyWebhook({ appKey: 'k', appSecret: 's', authorization: 'x' }), { code: 'TTS_WEBHOOK_RAW_BODY_REQUIRED' })
  assert.throws(() => verifyWebhook({ appKey: 'k', authorization: 'x', rawBody: '{}' }), { code: 'TTS_INVALID_ARGUMENT', field: 'appSecret' })
})

test('pretty-printed unicode body verifies from its exact bytes, and not once re-serialized', () => {
  const rawBody = Buffer.from(
    '{\n  "type": 1,\n  "tts_notification_id": "7380066284010030891",\n  "shop_id": "7495540735365777507",\n' +
      '  "timestamp": 1718305585,\n  "data": { "order_id": "576653688135258178", "order_status": "AWAITING_SHIPMENT", "note": "Größe 🧦 尺码" }\n}\n',
  )
  const authorization = signWebhook({ appKey: 'abcdef', appSecret: '123', rawBody })
  assert.match(authorization, /^[0-9a-f]{64}$/)
  assert.ok(verifyWebhook({ appKey: 'abcdef', appSecret: '123', authorization, rawBody }))
  const reserialized = JSON.stringify(JSON.parse(rawBody.toString('utf8')))
  assert.equal(verifyWebhook({ appKey: 'abcdef', appSecret: '123', authorization, rawBody: reserialized }), false)

  const n = parseWebhook({ appKey: 'abcdef', appSecret: '123', authorization, rawBody })
  assert.equal(n.type, 1)
  assert.equal(n.eventType, 'ORDER_STATUS_CHANGE')
  assert.equal(n.notificationId, '7380066284010030891')
  assert.equal(n.data.order_status, 'AWAITING_SHIPMENT')
  assert.equal(n.data.note, 'Größe 🧦 尺码', 'unmodelled fields are kept')
})

test('parseWebhook: forged signature, unknown topic, malformed payload', () => {
  const v = webhookVectors[0]
  assert.throws(
    () => parseWebhook({ appKey: v.app_key, appSecret: 'wrong', authorization: v.authorization, rawBody: v.raw_body }),
    { code: 'TTS_SIGNATURE_INVALID' },
  )
  const unknown = '{"type":777,"tts_notification_id":"1","shop_id":"2","timestamp":3,"data":{"brand_new":true}}'
  const n = parseWebhook({ appKey: 'k', appSecret: 's', authorization: signWebhook({ appKey: 'k', appSecret: 's', rawBody: unknown }), rawBody: unknown })
  assert.equal(n.eventType, 'UNKNOWN')
  assert.deepEqual(n.data, { brand_new: true })

  const bad = '{"type":1,"tts_notification_id":"1","shop_id":"2","data":{"update_time":"later"}}'
  assert.throws(
    () => parseWebhook({ appKey: 'k', appSecret: 's', authorization: signWebhook({ appKey: 'k', appSecret: 's', rawBody: bad }), rawBody: bad }),
    { code: 'TTS_WEBHOOK_PAYLOAD_INVALID', field: 'data.update_time' },
  )
})
