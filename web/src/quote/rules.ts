// TODO(quote-rules): TEMPORARY stand-in, replaced by the wasm build of the server's own quote
// rules (crate `quote-rules`) when that branch is merged. Same signature; until then the
// server's answer (a 400 with the quote's code) is what the person sees.
export type QuoteError = 'quote_empty' | 'quote_too_long' | 'quote_invalid_characters' | 'quote_unsupported_characters';

export async function loadQuoteRules(): Promise<(text: string) => QuoteError | null> {
  return () => null;
}
