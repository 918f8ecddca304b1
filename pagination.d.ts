import type { CallOptions, CallResult, PageResult, TikTokShopClient } from './index.js'

/** Every item of a search (`orders.search`, `products.search`, ...), fetched lazily page by page. */
export declare function paginate(
  client: TikTokShopClient,
  shopId: string,
  operation: string,
  options?: CallOptions,
  pageSize?: number,
): AsyncGenerator<Record<string, any>, void, undefined>

export interface ShopView {
  readonly shopId: string
  call(operation: string, options?: CallOptions): Promise<CallResult>
  fetchPage(operation: string, options: CallOptions | undefined, pageSize: number, pageToken?: string): Promise<PageResult>
  paginate(operation: string, options?: CallOptions, pageSize?: number): AsyncGenerator<Record<string, any>, void, undefined>
  getOrders(ids: string[]): Promise<Array<Record<string, any>>>
}

/** A shop's view of a client; no mutable "current shop". */
export declare function shopView(client: TikTokShopClient, shopId: string): ShopView
