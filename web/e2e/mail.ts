// The emails the stack "sent". Today: moto's state dump (SES messages under ses.Message); the
// stack's own /_local/mail.json will replace it: change only this module.
import { expect } from '@playwright/test';

export interface Mail {
  to: string[];
  subject: string;
  /** HTML when the message had an HTML part, else its text. */
  body: string;
}

export const MAIL_URL = process.env.MAIL_URL ?? 'http://127.0.0.1:4600/moto-api/data.json?service=ses';

function asList(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return typeof value === 'string' ? [value] : [];
}

/** Reads either moto's dump or a plain JSON list of {to, subject, html|text|body}, oldest first
 * (the stack's /_local/mail.json lists the newest first: `waitForMail`'s nth counts in the
 * order the emails were sent). */
export function parseMail(data: unknown): Mail[] {
  const moto = (data as { ses?: { Message?: unknown[] } } | null)?.ses?.Message;
  if (Array.isArray(moto)) {
    return moto.map((m) => {
      const message = m as { destinations?: { ToAddresses?: unknown }; subject?: string; body?: string };
      return { to: asList(message.destinations?.ToAddresses), subject: message.subject ?? '', body: message.body ?? '' };
    });
  }
  const list = Array.isArray(data) ? data : ((data as { messages?: unknown[] } | null)?.messages ?? []);
  const sentAt = (m: unknown) => (m as { sent_at?: unknown }).sent_at;
  const chronological = list.every((m) => typeof sentAt(m) === 'number')
    ? [...list].sort((a, b) => (sentAt(a) as number) - (sentAt(b) as number))
    : [...list].reverse();
  return chronological.map((m) => {
    const message = m as { to?: unknown; subject?: string; html?: string; text?: string; body?: string };
    return { to: asList(message.to), subject: message.subject ?? '', body: message.html ?? message.body ?? message.text ?? '' };
  });
}

export async function allMail(): Promise<Mail[]> {
  const response = await fetch(MAIL_URL);
  if (!response.ok) throw new Error(`${MAIL_URL} answered ${response.status}`);
  return parseMail(await response.json());
}

export async function mailTo(address: string): Promise<Mail[]> {
  return (await allMail()).filter((mail) => mail.to.some((to) => to.toLowerCase() === address.toLowerCase()));
}

/** Waits for the `nth` (1-based) email to `address` that matches. */
export async function waitForMail(address: string, matches: (mail: Mail) => boolean = () => true, nth = 1): Promise<Mail> {
  let found: Mail | undefined;
  await expect
    .poll(
      async () => {
        found = (await mailTo(address)).filter(matches)[nth - 1];
        return found !== undefined;
      },
      { message: `email ${nth} to ${address}`, timeout: 60_000, intervals: [250, 500, 1000] },
    )
    .toBe(true);
  return found!;
}

export function codeIn(mail: Mail): string {
  const code = /\b(\d{6})\b/.exec(mail.body.replace(/<[^>]*>/g, ' '))?.[1];
  if (!code) throw new Error(`no code in "${mail.subject}"`);
  return code;
}

const decode = (url: string) => url.replace(/&amp;/g, '&');

/** Every http(s) link of an email (href attributes and bare URLs), de-duplicated. */
export function linksIn(mail: Mail): string[] {
  const found = new Set<string>();
  for (const match of mail.body.matchAll(/href="([^"]+)"/g)) found.add(decode(match[1]!));
  for (const match of mail.body.replace(/<[^>]*>/g, ' ').matchAll(/https?:\/\/[^\s"<>]+/g)) found.add(decode(match[0]));
  return [...found].filter((url) => /^https?:/.test(url));
}

export function linkWith(mail: Mail, path: RegExp): string {
  const link = linksIn(mail).find((url) => path.test(new URL(url).pathname));
  if (!link) throw new Error(`no link to ${path} in "${mail.subject}": ${linksIn(mail).join(' ')}`);
  return link;
}
