import type { RequestHandler, Response } from 'express';
import multer from 'multer';
import { principalOf } from '../http/auth.middleware';
import type { InLane } from '../limits/fair-use';
import { errorLog } from '../shared/error-log';
import { AppError, validationFailed } from '../shared/errors';
import type { Logger } from '../shared/logger';
import type { AttachmentService, UploadedFile } from './attachment.service';
import { discardSpooled, SpoolEngine } from './upload-spool';
import type { UploadClaim } from './upload-reservations';

/** Room for the multipart envelope (boundaries, part headers) around a file at the size limit. */
const MULTIPART_OVERHEAD = 16 * 1024;
/**
 * Less than the envelope of a real upload takes, so a claim made from Content-Length never holds
 * more than the file; when the envelope was smaller, the claim grows with the streamed bytes.
 */
const ENVELOPE_ALLOWANCE = 512;

const tooLarge = (maxBytes: number) => new AppError('PAYLOAD_TOO_LARGE', `The file is larger than ${maxBytes} bytes`);

export interface UploadOptions {
  maxBytes: number;
  /** Where uploads are written while they arrive. */
  spoolDirectory: string;
  attachments: AttachmentService;
  /** Runs the quota lookup in the user's fair-use lane (docs/api.md, "Fair use"). */
  inLane: InLane;
  logger: Logger;
}

interface Upload {
  file: UploadedFile;
  claim: UploadClaim;
}

/** The spooled file and its quota claim, for the handler after uploadMiddleware. */
export const uploadOf = (res: Response): Upload => res.locals.upload as Upload;

/**
 * Reads one multipart file from field `file` into a temporary file. The size limit comes first
 * (by Content-Length before reading, or as soon as the stream passes it), then the user's quota
 * (by Content-Length when known, else as the bytes stream). The temporary file and the claim are
 * given up when the response closes, whatever happened; the handler gives them up sooner.
 */
export function uploadMiddleware(options: UploadOptions): RequestHandler {
  const { maxBytes } = options;
  const limits = { fileSize: maxBytes, files: 1, fields: 10, parts: 11, fieldSize: 1024 };

  return async (req, res, next) => {
    if (!req.is('multipart/form-data')) {
      throw validationFailed('Upload the file as multipart/form-data in the field "file"', [{ field: 'file', message: 'is required' }]);
    }
    const announced = Number(req.headers['content-length'] ?? 0);
    if (announced > maxBytes + MULTIPART_OVERHEAD) throw closing(res, tooLarge(maxBytes));

    let claim: UploadClaim | undefined;
    res.once('close', () => {
      claim?.release();
      discardSpooled(req.file?.path).catch((err: unknown) => errorLog(options.logger).error('temporary upload not removed', err));
    });
    const expected = Math.max(0, Math.min(announced - ENVELOPE_ALLOWANCE, maxBytes));
    const principal = principalOf(res);
    claim = await options.inLane(principal, () => options.attachments.reserveUpload(principal.userId, expected)).catch((err: unknown) => {
      throw closing(res, err);
    });
    // The client went away while the quota was checked: its 'close' came before there was a claim.
    if (req.destroyed || res.closed) return claim.release();

    const readFile = multer({
      storage: new SpoolEngine(options.spoolDirectory, claim),
      // Browsers send the file name as raw UTF-8; multer would read it as latin1 ("rÃ©sumÃ©").
      defParamCharset: 'utf8',
      limits,
    }).single('file');
    try {
      await new Promise<void>((resolve, reject) => readFile(req, res, (err: unknown) => (err ? reject(err) : resolve())));
      if (!req.file) throw validationFailed('file is required', [{ field: 'file', message: 'is required' }]);
    } catch (err) {
      claim.release();
      throw closing(res, uploadError(err, maxBytes));
    }
    const file: UploadedFile = { path: req.file.path, size: req.file.size, mimeType: req.file.mimetype, originalName: req.file.originalname };
    res.locals.upload = { file, claim } satisfies Upload;
    next();
  };
}

/** The contract's error for what multer, busboy or the spool reported. */
function uploadError(err: unknown, maxBytes: number): unknown {
  if (err instanceof AppError) return err;
  if (err instanceof multer.MulterError) {
    if (err.code === 'LIMIT_FILE_SIZE') return tooLarge(maxBytes);
    return validationFailed(`Upload rejected: ${err.message}`, [{ field: 'file', message: err.message }]);
  }
  // A file system failure is ours (INTERNAL, logged); anything else is the body's fault.
  if ((err as NodeJS.ErrnoException | undefined)?.syscall) return err;
  return validationFailed('The multipart body is malformed');
}

/** A 413 may leave the rest of the body unread, so that connection cannot carry another request. */
function closing(res: Response, err: unknown): unknown {
  if (err instanceof AppError && err.code === 'PAYLOAD_TOO_LARGE') res.set('Connection', 'close');
  return err;
}
