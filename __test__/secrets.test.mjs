import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'

import { errorCodes, generateEncryptionKey, Sealer } from '../index.js'
import { repoRoot } from './helpers.mjs'

test('seal and open with rotation; wrong key, other record and tampering are clear errors', () => {
  const k1 = generateEncryptionKey()
  const k2 = generateEncryptionKey()
  assert.equal(Buffer.from(k1, 'base64').length, 32)
  const old = new Sealer(`old:${k1}`)
  const sealed = old.seal('TTP_access_token', 'shop:1:access_token')
  assert.match(sealed, /^v1\.old\./)
  assert.ok(!sealed.includes('TTP_access_token'))
  assert.equal(old.open(sealed, 'shop:1:access_token'), 'TTP_access_token')

  const rotated = new Sealer(`new:${k2},old:${k1}`)
  assert.deepEqual(rotated.keyIds, ['new', 'old'])
  assert.equal(rotated.open(sealed, 'shop:1:access_token'), 'TTP_access_token')
  assert.ok(rotated.needsReseal(sealed))

  assert.throws(() => new Sealer(`new:${k2}`).open(sealed, 'shop:1:access_token'), { code: 'TTS_SEAL_OPEN_FAILED' })
  assert.throws(() => old.open(sealed, 'shop:2:access_token'), { code: 'TTS_SEAL_OPEN_FAILED' })
  assert.throws(() => old.open(sealed.slice(0, -2) + (sealed.endsWith('AA') ? 'BB' : 'AA'), 'shop:1:access_token'), { code: 'TTS_SEAL_OPEN_FAILED' })
  assert.throws(() => new Sealer('too-short'), (e) => e.code === 'TTS_SEAL_KEY_INVALID' && e.message.includes('TIKTOK_SHOP_ENCRYPTION_KEY'))
})

test('every error code is documented in the README', () => {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8')
  const codes = errorCodes()
  assert.ok(codes.length >= 25)
  for (const { code, summary } of codes) {
    assert.match(code, /^TTS_[A-Z_]+$/)
    assert.ok(summary.length > 10)
    assert.ok(readme.includes(`\`${code}\``), `README lists ${code}`)
  }
})
