/** Where to go after signing in: only a path of this app, never another site. */
export function safeNext(next: string | null, fallback = '/create'): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || next.startsWith('/api/')) return fallback;
  return next;
}
