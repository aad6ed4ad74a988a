import type { Generation, GenerationStatus } from '../api/types';

const FINAL: readonly GenerationStatus[] = ['ready', 'blocked', 'removed', 'failed'];

/** No further change is expected without a person acting (an admin review of a blocked one). */
export function isFinal(status: GenerationStatus): boolean {
  return FINAL.includes(status);
}

export function allFinal(generations: readonly Generation[]): boolean {
  return generations.every((generation) => isFinal(generation.status));
}

/** The order in which pictures are shown; the bundle (and its README) is offered separately. */
export const FILE_ORDER = ['avatar.png', 'sticker.png', 'speech-bubble.png'];

export function imageFiles(downloads: Record<string, string>): [string, string][] {
  return Object.entries(downloads)
    .filter(([name]) => /\.(png|webp|jpe?g)$/i.test(name))
    .sort(([a], [b]) => rank(a) - rank(b));
}

function rank(name: string): number {
  const at = FILE_ORDER.indexOf(name);
  return at === -1 ? FILE_ORDER.length : at;
}
