import { pipeline } from 'node:stream/promises';
import type { Request, Response } from 'express';
import { principalOf } from '../http/auth.middleware';
import type { InLane } from '../limits/fair-use';
import { inputOf } from '../http/validate.middleware';
import type { AttachmentService } from './attachment.service';
import { discardSpooled } from './upload-spool';
import { uploadOf } from './upload.middleware';

/** `attachment; filename="…"` with an ASCII fallback and the exact name in RFC 5987 form. */
function contentDisposition(kind: 'inline' | 'attachment', name: string): string {
  const ascii = name.replace(/[^\x20-\x7E]/g, '_').replace(/["\\]/g, '_');
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

export function attachmentController(service: AttachmentService, inLane: InLane) {
  return {
    async upload(_req: Request, res: Response) {
      const { file, claim } = uploadOf(res);
      // The temporary file goes before the answer, so a client never sees it outlive its request.
      const result = await service.upload(principalOf(res).userId, file, claim).finally(() => discardSpooled(file.path));
      res.status(201).json(result);
    },

    async download(_req: Request, res: Response) {
      const { id } = inputOf<{ id: number }>(res);
      const principal = principalOf(res);
      // Only the lookup holds the lane; the bytes go out after it, however slow the client.
      const { attachment, stream } = await inLane(principal, () => service.download(principal, id));
      const image = attachment.mimeType.startsWith('image/');
      res.set({
        'Content-Type': attachment.mimeType === 'text/plain' ? 'text/plain; charset=utf-8' : attachment.mimeType,
        'Content-Length': String(attachment.size),
        'X-Content-Type-Options': 'nosniff',
        'Content-Disposition': contentDisposition(image ? 'inline' : 'attachment', attachment.name),
        // Per-user content: browsers may keep it, shared caches must not.
        'Cache-Control': 'private, no-cache',
        Vary: 'Authorization',
        'Content-Security-Policy': "default-src 'none'; sandbox",
      });
      await pipeline(stream, res);
    },
  };
}
