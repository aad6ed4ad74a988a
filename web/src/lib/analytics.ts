// First-party analytics, only at the key actions the policy names (names from the server's
// allow-list in shared/src/analytics.rs) and nowhere else.
import { recordEvent } from '../api/client';
import { deviceId } from './device';

export type TrackedEvent =
  | 'trial_started'
  | 'pricing_viewed'
  | 'signed_in'
  | 'style_selected'
  | 'upload_started'
  | 'checkout_started';

export function track(name: TrackedEvent, context?: Record<string, string>): void {
  try {
    recordEvent(name, deviceId(), context);
  } catch {
    // No storage (private mode with storage blocked): no device id, so no event.
  }
}
