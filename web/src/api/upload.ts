// The selfie goes from the browser straight to the presigned S3 URL; XMLHttpRequest because
// fetch reports no upload progress.
import { ApiFailure } from './errors';
import type { Upload } from './types';

/** Headers a page's script may not set (the Fetch standard's forbidden names that a
 * presigned PUT can list); the browser sends the right values itself. */
const FORBIDDEN = new Set(['content-length', 'host', 'connection', 'expect']);

/** The headers to set on the PUT: exactly those POST /uploads lists, less the forbidden. */
export function uploadHeaders(upload: Upload): [string, string][] {
  return Object.entries(upload.headers).filter(([name]) => !FORBIDDEN.has(name.toLowerCase()));
}

/** PUTs `file` to the presigned URL, reporting progress as a fraction 0..1. */
export function putFile(upload: Upload, file: Blob, onProgress: (fraction: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(upload.method || 'PUT', upload.url);
    for (const [name, value] of uploadHeaders(upload)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve();
      } else {
        reject(new ApiFailure(xhr.status, 'upload_failed'));
      }
    };
    xhr.onerror = () => reject(new ApiFailure(0, 'upload_failed'));
    xhr.send(file);
  });
}
