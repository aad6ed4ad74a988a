// The shapes the app works with, read from the (generated) OpenAPI types so a renamed field
// breaks the build.
import type { components, paths } from './schema';

type Schemas = components['schemas'];
export type Wallet = Schemas['Wallet'];
export type Catalog = Schemas['Catalog'];
export type Generation = Schemas['Generation'];
export type GenerationStatus = Generation['status'];
export type Privacy = Schemas['PrivacyChoices'];
export type ReviewItem = Schemas['ReviewItem'];
export type Campaign = Schemas['Campaign'];
export type NewCampaign = NonNullable<paths['/admin/campaigns']['post']['requestBody']>['content']['application/json'];
export type Upload = Schemas['Upload'];
export type UploadOrder = NonNullable<paths['/uploads']['post']['requestBody']>['content']['application/json'];
export type TrialOrder = NonNullable<paths['/trial']['post']['requestBody']>['content']['application/json'];
export type Pack = Catalog['packs'][number];
export type Style = Schemas['Style'];
export type Product = Schemas['Product'];
export type ImageType = Schemas['ImageContentType'];
export type EventName = Schemas['EventName'];
export type Locale = Schemas['Locale'];
