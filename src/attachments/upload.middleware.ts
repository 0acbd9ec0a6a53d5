import type { RequestHandler } from 'express';
import multer from 'multer';
import { AppError, validationFailed } from '../shared/errors';

/** Room for the multipart envelope (boundaries, part headers) around a file at the size limit. */
const MULTIPART_OVERHEAD = 16 * 1024;

const tooLarge = (maxBytes: number) => new AppError('PAYLOAD_TOO_LARGE', `The file is larger than ${maxBytes} bytes`);

/**
 * Reads one multipart file from field `file`, refusing anything over the limit (by Content-Length
 * before reading, or as soon as the stream passes it) so no more than the limit is ever buffered.
 */
export function uploadMiddleware(maxBytes: number): RequestHandler {
  const readFile = multer({
    storage: multer.memoryStorage(),
    // Browsers send the file name as raw UTF-8; multer would read it as latin1 ("rÃ©sumÃ©").
    defParamCharset: 'utf8',
    limits: { fileSize: maxBytes, files: 1, fields: 10, parts: 11, fieldSize: 1024 },
  }).single('file');

  return (req, res, next) => {
    if (!req.is('multipart/form-data')) {
      throw validationFailed('Upload the file as multipart/form-data in the field "file"', [{ field: 'file', message: 'is required' }]);
    }
    if (Number(req.headers['content-length'] ?? 0) > maxBytes + MULTIPART_OVERHEAD) {
      // The rest of the body is not read, so this connection cannot carry another request.
      res.set('Connection', 'close');
      throw tooLarge(maxBytes);
    }
    readFile(req, res, (err: unknown) => {
      if (err instanceof multer.MulterError) {
        if (err.code === 'LIMIT_FILE_SIZE') {
          res.set('Connection', 'close');
          return next(tooLarge(maxBytes));
        }
        return next(validationFailed(`Upload rejected: ${err.message}`, [{ field: 'file', message: err.message }]));
      }
      if (err) return next(validationFailed('The multipart body is malformed'));
      if (!req.file) return next(validationFailed('file is required', [{ field: 'file', message: 'is required' }]));
      next();
    });
  };
}
