// The selfie is checked before anything is reserved or sent: type and size, as the server
// will check them (and moderation checks the bytes).
export type FileProblem = 'unsupported_image_type' | 'image_too_large' | 'empty_file';

export interface UploadLimits {
  max_bytes: number;
  content_types: string[];
}

export function checkFile(file: { type: string; size: number }, limits: UploadLimits): FileProblem | null {
  if (!limits.content_types.includes(file.type)) return 'unsupported_image_type';
  if (file.size === 0) return 'empty_file';
  if (file.size > limits.max_bytes) return 'image_too_large';
  return null;
}

/** Sizes for people: "2.4 MB", "830 KB". */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')} MB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KB`;
}
