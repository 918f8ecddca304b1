// Seeds fuzz/corpus/<target>/ from the test fixtures and the spec's webhook vectors. The committed
// corpus is this seed set, not yet minimised (`cargo fuzz cmin` is still to be run). Structured targets read a few
// setting bytes before the JSON (see each target's `Input`): the prefixes below pick plain settings.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const spec = join(root, '..', 'shared', 'spec');
const fixtures = join(root, 'crates', 'mapping', 'tests', 'fixtures');

function seed(target, bytes) {
  const dir = join(root, 'fuzz', 'corpus', target);
  mkdirSync(dir, { recursive: true });
  const data = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  writeFileSync(join(dir, `seed-${createHash('sha1').update(data).digest('hex').slice(0, 16)}`), data);
}
const json = (file) => JSON.parse(readFileSync(file, 'utf8'));
const envelope = (data) => JSON.stringify({ code: 0, message: 'Success', request_id: '2024fuzz', data });
const withPrefix = (prefix, text) => Buffer.concat([Buffer.from(prefix), Buffer.from(text)]);

for (const v of json(join(spec, 'webhook-vectors.json')).vectors) {
  seed('webhook_parse', v.raw_body);
  // forged_authorization = None (signed here), rotated_secret = false
  seed('webhook_verify_parse', withPrefix([0, 0], v.raw_body));
}

const tiktokOrders = readdirSync(join(fixtures, 'order')).filter((f) => f.endsWith('.tiktok.json'));
for (const file of tiktokOrders) {
  const order = json(join(fixtures, 'order', file));
  seed('tiktok_orders', envelope({ orders: [order] }));
  seed('tiktok_orders', envelope({ orders: [order], next_page_token: 'b2Zmc2V0PTUw', total_count: 51 }));
  // net_item_price, variations_known, vat_rate, system_currency, shipping_profile_id,
  // shipping_profile_for (None), referrer (i64 + scale)
  seed('map_order', withPrefix([0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0], JSON.stringify(order)));
  seed('map_order', withPrefix([1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0], JSON.stringify(order)));
}

const plentyItems = readdirSync(join(fixtures, 'product')).filter((f) => f.endsWith('.plenty.json'));
for (const file of plentyItems) {
  const text = readFileSync(join(fixtures, 'product', file), 'utf8');
  const variations = JSON.parse(text);
  seed('plenty_models', text);
  seed('plenty_models', JSON.stringify({ page: 1, totalsCount: variations.length, isLastPage: true, lastPageNumber: 1, entries: variations }));
  // region, currency, sku source, description source, plain_text, edit, skip_main, default_category,
  // images_uploaded, warehouse Some(1), buffers, zero_below, max_quantity, reserved
  const settings = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, ...Array(9 + 9 + 4 + 2).fill(0)];
  seed('map_product', withPrefix(settings, text));
}
seed('plenty_models', JSON.stringify({ accessToken: 'a'.repeat(40), tokenType: 'Bearer', expiresIn: 86400, refreshToken: 'r'.repeat(40) }));
seed('plenty_models', JSON.stringify([{ id: 1, name: 'TikTok Shop', backendName: 'TikTok Shop', isEditable: true, origin: '107.01' }]));

seed('tiktok_products', envelope({ product_id: '1729592969712207008', skus: [{ id: '1729592969712207012', seller_sku: 'BECHER-WEISS-L', sales_attributes: [] }], warnings: [{ message: 'The brand is not authorized' }] }));
seed('tiktok_products', envelope({ attributes: [{ id: '100392', name: 'Material', type: 'PRODUCT_PROPERTY', is_customizable: true, is_multiple_selection: false, is_requried: true, requirement_conditions: [], values: [{ id: '1000059', name: 'Cotton' }] }] }));
seed('tiktok_products', envelope({ products: [{ id: '1729592969712207008', title: 'Becher', status: 'ACTIVATE', skus: [] }], next_page_token: '', total_count: 1 }));

seed('tiktok_aftersales', envelope({ return_orders: [{ return_id: '4035318504966', order_id: '576461413038785752', return_type: 'RETURN_AND_REFUND', return_status: 'RETURN_OR_REFUND_REQUEST_PENDING', return_line_items: [{ order_line_item_id: '577086512123755123' }], refund_amount: { currency: 'EUR', refund_total: '19.99' }, update_time: 1764050000 }], next_page_token: 'x', total_count: 2 }));
seed('tiktok_aftersales', envelope({ cancellations: [{ cancel_id: '4035318504967', order_id: '576461413038785752', cancel_status: 'CANCELLATION_REQUEST_PENDING', cancel_type: 'BUYER_CANCEL', role: 'BUYER', update_time: '1764050000' }] }));
