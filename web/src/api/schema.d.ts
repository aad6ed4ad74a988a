/**
 * TEMPORARY hand-written types in the shape openapi-typescript generates from /openapi.yaml
 * (`paths` keyed by route without the /api prefix). Replaced by the generated file once the
 * spec lands on this branch (`npm run gen:api`); the rest of the app reads types only through
 * `src/api/types.ts`, so the switch is mechanical.
 */

type Json<T> = { headers: { [name: string]: unknown }; content: { 'application/json': T } };
type Err = Json<components['schemas']['Error']>;
type NoParams = { query?: never; header?: never; path?: never; cookie?: never };
type IdParam = { query?: never; header?: never; path: { id: string }; cookie?: never };
type Body<T> = { content: { 'application/json': T } };
type Op<Req, Res extends Record<number, unknown>, P = NoParams> = {
  parameters: P;
  requestBody: Req extends never ? never : Body<Req>;
  responses: Res & { default: Err };
};
type Get<Res extends Record<number, unknown>, P = NoParams> = {
  parameters: P;
  requestBody?: never;
  responses: Res & { default: Err };
};

export interface components {
  schemas: {
    Error: { error: { code: string; message: string } };
    Wallet: { email: string; credits: number; locale: string; created_at: string };
    Catalog: {
      styles: string[];
      costs: { avatar: number; stickers: number; speech_bubble: number };
      packs: { product: string; credits: number; price: { amount: number; currency: string } | null }[];
      turnstile: { site_key: string | null };
      upload: { max_bytes: number; content_types: string[] };
      quote: { max_chars: number };
    };
    Upload: { method: string; url: string; headers: { [name: string]: string }; expires_in: number };
    Generation: {
      id: string;
      status: 'awaiting_upload' | 'queued' | 'generating' | 'ready' | 'blocked' | 'removed' | 'failed';
      style: string;
      products: string[];
      cost: number;
      charge: 'reserved' | 'charged' | 'returned';
      created_at: string;
      failure?: string;
      selfie_deleted_at?: string;
      downloads: { [file: string]: string };
    };
    Privacy: {
      restricted: boolean;
      restricted_at: string | null;
      analytics_objected: boolean;
      analytics_objected_at: string | null;
      marketing_opt_in: boolean;
      marketing_opt_in_at: string | null;
      marketing_opt_out_at: string | null;
    };
    ReviewItem: { generation_id: string; blocked_at: string; deleted_by: string; seconds_left: number; photo_url: string };
    Status: { status: string };
  };
}
type S = components['schemas'];

export interface paths {
  '/catalog': { get: Get<{ 200: Json<S['Catalog']> }> };
  '/auth/otp/start': { post: Op<{ email: string; locale?: string }, { 202: Json<{ status: string; expires_in: number }> }> };
  '/auth/otp/verify': { post: Op<{ email: string; code: string }, { 200: Json<{ wallet: S['Wallet'] }> }> };
  '/auth/logout': { post: Get<{ 200: Json<S['Status']> }> };
  '/me': { get: Get<{ 200: Json<S['Wallet']> }> };
  '/locale': { post: Op<{ locale: string }, { 200: Json<{ locale: string }> }> };
  '/uploads': {
    post: Op<
      { content_type: string; content_length: number; style: string; products?: string[]; quote?: string },
      { 201: Json<{ generation_id: string; cost: number; status: string; upload: S['Upload'] }> }
    >;
  };
  '/generations': { get: Get<{ 200: Json<{ generations: S['Generation'][] }> }> };
  '/generations/{id}': {
    get: Get<{ 200: Json<S['Generation']> }, IdParam>;
    delete: Get<{ 200: Json<{ generation_id: string; status: string }> }, IdParam>;
  };
  '/trial': {
    post: Op<
      {
        turnstile_token: string;
        device_id: string;
        style: string;
        content_type: string;
        content_length: number;
        email?: string;
      },
      {
        201: Json<{
          trial_id: string;
          generation_id: string;
          status: string;
          upload: S['Upload'];
          access_token: string;
          link: string;
          link_expires_at: string;
          link_emailed: boolean;
        }>;
      }
    >;
  };
  '/trial/{id}': {
    get: Get<{ 200: Json<S['Generation']> }, { query: { token: string }; header?: never; path: { id: string }; cookie?: never }>;
  };
  '/checkout': {
    post: Op<{ product: string }, { 201: Json<{ checkout_url: string; checkout_id: string | null; product: string; credits: number }> }>;
  };
  '/admin/review': { get: Get<{ 200: Json<{ review_queue: S['ReviewItem'][] }> }> };
  '/admin/review/{id}/approve': { post: Get<{ 200: Json<{ generation_id: string; status: string }> }, IdParam> };
  '/admin/review/{id}/confirm': { post: Get<{ 200: Json<{ generation_id: string; status: string }> }, IdParam> };
  '/refund-requests': {
    post: Op<
      { email: string; order_id?: string; reason: string },
      { 201: Json<{ status: string; request_id: string; reference: string; confirmation_sent: boolean }> }
    >;
  };
  '/me/marketing': {
    get: Get<{ 200: Json<{ opt_in: boolean; opt_in_at: string | null; opt_out_at: string | null }> }>;
    post: Op<{ opt_in: boolean }, { 200: Json<{ opt_in: boolean; opt_in_at: string | null; opt_out_at: string | null }> }>;
  };
  '/unsubscribe': {
    post: {
      parameters: { query: { token: string }; header?: never; path?: never; cookie?: never };
      requestBody: { content: { 'application/x-www-form-urlencoded': { 'List-Unsubscribe': string } } };
      responses: { 200: Json<S['Status']>; default: Err };
    };
  };
  '/events': {
    post: Op<{ name: string; context?: { [key: string]: string }; device_id: string }, { 202: Json<{ status: string }> }>;
  };
  '/feedback': { post: Op<{ message: string; email?: string; page?: string }, { 201: Json<S['Status']> }> };
  '/me/export': { post: Get<{ 202: Json<{ request_id: string; status: string }> }> };
  '/me/delete': { post: Get<{ 202: Json<{ request_id: string; status: string }> }> };
  '/me/email': { post: Op<{ new_email: string }, { 202: Json<{ status: string; expires_in: number }> }> };
  '/me/email/verify': { post: Op<{ new_email: string; code: string }, { 200: Json<{ email: string }> }> };
  '/me/restriction': { post: Op<{ restricted: boolean }, { 200: Json<S['Privacy']> }> };
  '/me/consent': { post: Op<{ marketing?: boolean; analytics?: boolean }, { 200: Json<S['Privacy']> }> };
  '/me/privacy': { get: Get<{ 200: Json<S['Privacy']> }> };
}
