// The only module that talks to the network (with ./upload.ts for the presigned PUT). Every
// call goes to a relative /api/... URL: the app and the API share one origin.
import createClient from 'openapi-fetch';
import type { paths } from './schema';
import { ApiFailure, failureFrom } from './errors';
import type { Campaign, Catalog, EventName, Generation, Locale, NewCampaign, Privacy, ReviewItem, TrialOrder, UploadOrder, Wallet } from './types';

const client = createClient<paths>({ baseUrl: '/api' });

type Answer<T> = { data?: T; error?: unknown; response: Response };

/** The data of a successful answer, or an ApiFailure carrying the answer's stable code. */
async function call<T>(request: Promise<Answer<T>>): Promise<T> {
  let answer: Answer<T>;
  try {
    answer = await request;
  } catch {
    throw new ApiFailure(0, 'network');
  }
  const { data, error, response } = answer;
  if (!response.ok) throw failureFrom(response.status, error, response.headers.get('retry-after'));
  return data as T;
}

const id = (value: string) => ({ params: { path: { id: value } } });

// --- the catalog: styles, costs, packs, Turnstile site key, upload limits ---------------------

/** What the app shows while `GET /catalog` is not served: no packs to sell, the server's
 * documented defaults for everything else. */
export const FALLBACK_CATALOG: Catalog & { fallback: true } = {
  fallback: true,
  styles: ['anime', 'chibi', 'watercolor'],
  costs: { avatar: 1, stickers: 1, speech_bubble: 1 },
  packs: [],
  turnstile: { site_key: null },
  upload: { max_bytes: 10 * 1024 * 1024, content_types: ['image/jpeg', 'image/png', 'image/webp'] },
  quote: { max_chars: 80 },
};

export type LoadedCatalog = Catalog & { fallback?: true };

let catalog: Promise<LoadedCatalog> | null = null;
export function getCatalog(): Promise<LoadedCatalog> {
  catalog ??= call(client.GET('/catalog')).catch((failure: ApiFailure) => {
    catalog = null;
    if (failure.code === 'not_deployed' || failure.code === 'not_found') return FALLBACK_CATALOG;
    throw failure;
  });
  return catalog;
}

// --- sign-in and session ------------------------------------------------------------------

export const startSignIn = (email: string, locale: Locale) =>
  call(client.POST('/auth/otp/start', { body: { email, locale } }));
export const verifyCode = (email: string, code: string) =>
  call(client.POST('/auth/otp/verify', { body: { email, code } })).then((answer) => answer.wallet);
export const signOut = () => call(client.POST('/auth/logout'));
/** "Sign out everywhere": ends every session of the wallet, this browser's included. */
export const signOutEverywhere = () => call(client.POST('/auth/logout-all'));
export const setLocale = (locale: Locale) => call(client.POST('/locale', { body: { locale } }));

/** The signed-in wallet, or null when nobody is signed in. */
export async function getMe(): Promise<Wallet | null> {
  try {
    return await call(client.GET('/me'));
  } catch (error) {
    if (error instanceof ApiFailure && error.status === 401) return null;
    throw error;
  }
}

// --- orders and generations ---------------------------------------------------------------

export const createUpload = (order: UploadOrder) => call(client.POST('/uploads', { body: order }));
export const listGenerations = (): Promise<Generation[]> =>
  call(client.GET('/generations')).then((answer) => answer.generations);
export const getGeneration = (generationId: string) => call(client.GET('/generations/{id}', id(generationId)));
export const deleteGeneration = (generationId: string) => call(client.DELETE('/generations/{id}', id(generationId)));

export const startTrial = (order: TrialOrder) => call(client.POST('/trial', { body: order }));
export const getTrial = (trialId: string, token: string) =>
  call(client.GET('/trial/{id}', { params: { path: { id: trialId }, query: { token } } }));

export const startCheckout = (product: string) => call(client.POST('/checkout', { body: { product } }));

// --- admin review -------------------------------------------------------------------------

export const reviewQueue = (): Promise<ReviewItem[]> =>
  call(client.GET('/admin/review')).then((answer) => answer.review_queue);
export const approveReview = (generationId: string) =>
  call(client.POST('/admin/review/{id}/approve', id(generationId)));
export const confirmReview = (generationId: string) =>
  call(client.POST('/admin/review/{id}/confirm', id(generationId)));

// --- admin campaigns ---------------------------------------------------------------------

export const listCampaigns = (): Promise<Campaign[]> =>
  call(client.GET('/admin/campaigns')).then((answer) => answer.campaigns);
export const startCampaign = (campaign: NewCampaign) => call(client.POST('/admin/campaigns', { body: campaign }));

// --- engagement -----------------------------------------------------------------------------

export const requestRefund = (body: { email: string; order_id?: string; reason: string }, key: string) =>
  call(client.POST('/refund-requests', { body, headers: { 'Idempotency-Key': key } }));
export const sendFeedback = (body: { message: string; email?: string; page?: string }) =>
  call(client.POST('/feedback', { body }));
export const unsubscribe = (token: string) =>
  call(
    client.POST('/unsubscribe', {
      params: { query: { token } },
      body: { 'List-Unsubscribe': 'One-Click' },
      bodySerializer: (body) => new URLSearchParams(body).toString(),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    }),
  );

/** Analytics: fire and forget; a lost event never disturbs the person. */
export function recordEvent(name: EventName, deviceId: string, context?: Record<string, string>): void {
  client.POST('/events', { body: { name, device_id: deviceId, ...(context ? { context } : {}) }, keepalive: true }).catch(() => {});
}

// --- privacy centre -------------------------------------------------------------------------

export const getPrivacy = (): Promise<Privacy> => call(client.GET('/me/privacy'));
export const setRestriction = (restricted: boolean) => call(client.POST('/me/restriction', { body: { restricted } }));
export const setConsent = (choice: { marketing?: boolean; analytics?: boolean }) =>
  call(client.POST('/me/consent', { body: choice }));
export const requestExport = () => call(client.POST('/me/export'));
export const requestDeletion = () => call(client.POST('/me/delete'));
export const startEmailChange = (newEmail: string) => call(client.POST('/me/email', { body: { new_email: newEmail } }));
export const verifyEmailChange = (newEmail: string, code: string) =>
  call(client.POST('/me/email/verify', { body: { new_email: newEmail, code } }));

/** The emailed export link's download, an API route answered with a redirect to the file. */
export function exportDownloadUrl(query: string): string {
  return `/api/exports/download?${query}`;
}
