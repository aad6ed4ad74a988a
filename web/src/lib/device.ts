// The anonymous device id the policy describes: a random UUID kept in localStorage (the app's
// only use of storage), sent with analytics events and the free trial. Nothing else about the
// device is read.
const KEY = 'anumi.device_id';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function deviceId(storage: Storage = localStorage, make: () => string = () => crypto.randomUUID()): string {
  const kept = storage.getItem(KEY);
  if (kept && UUID.test(kept)) return kept;
  const fresh = make();
  storage.setItem(KEY, fresh);
  return fresh;
}
