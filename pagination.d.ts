import type { TikTokShopClient } from './index.js'
import type {
  CallArgs,
  DecodedOrder,
  OperationId,
  PageItem,
  PageOptions,
  PaginatedOperationId,
  TypedCallResult,
  TypedPageResult,
} from './operations.js'

// The operation types, for `import type { Order, OperationTypes } from 'tiktok-shop-plentyone/pagination'`
// (also importable alone from `tiktok-shop-plentyone/operations`, types only).
export type * from './operations.js'

/**
 * Every item of a search (`orders.search` → `Order`, `products.search` → `ProductSummary`, ...),
 * fetched lazily page by page. `page_size` / `page_token` are set by the pagination.
 */
export declare function paginate<Op extends PaginatedOperationId>(
  client: TikTokShopClient,
  shopId: string,
  operation: Op,
  options?: PageOptions<Op>,
  pageSize?: number,
): AsyncGenerator<PageItem<Op>, void, undefined>

/** A shop's view of a client, typed per operation (`OperationTypes`). The client's own methods stay
 * untyped (`data: any`) for what the types do not cover. */
export interface ShopView {
  readonly shopId: string
  /** Any operation of the table; `options` is required when the operation has required path
   * params, query or body. */
  call<Op extends OperationId>(operation: Op, ...options: CallArgs<Op>): Promise<TypedCallResult<Op>>
  fetchPage<Op extends PaginatedOperationId>(
    operation: Op,
    options: PageOptions<Op> | undefined,
    pageSize: number,
    pageToken?: string,
  ): Promise<TypedPageResult<Op>>
  paginate<Op extends PaginatedOperationId>(
    operation: Op,
    options?: PageOptions<Op>,
    pageSize?: number,
  ): AsyncGenerator<PageItem<Op>, void, undefined>
  /** Order details for any number of ids (batches of 50), decoded by the Rust model. */
  getOrders(ids: string[]): Promise<DecodedOrder[]>
}

/** A shop's view of a client; no mutable "current shop". */
export declare function shopView(client: TikTokShopClient, shopId: string): ShopView
