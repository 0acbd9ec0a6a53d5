import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Request } from 'express';
import type multer from 'multer';
import { ContentSniffer } from './content-type';
import type { UploadClaim } from './upload-reservations';

type FileInfo = Partial<Express.Multer.File>;

/**
 * A multer storage engine that writes the file part to a temporary file as it arrives, deciding
 * its type and counting its bytes on the way, so no upload is ever held whole in memory. The
 * upload's quota claim grows with each chunk (refusing it past the quota) and is given back as
 * soon as the file fails, not after multer has drained the rest of the body, so a refused upload
 * does not hold back its user's other uploads meanwhile.
 */
export class SpoolEngine implements multer.StorageEngine {
  constructor(
    private readonly directory: string,
    private readonly claim: Pick<UploadClaim, 'grow' | 'release'>,
  ) {}

  _handleFile(_req: Request, file: Express.Multer.File, callback: (error?: unknown, info?: FileInfo) => void): void {
    // Past the size limit busboy truncates the file and multer refuses it.
    file.stream.once('limit', () => this.claim.release());
    this.spool(file.stream).then(
      (info) => callback(null, info),
      (err: unknown) => callback(err),
    );
  }

  _removeFile(_req: Request, file: Express.Multer.File, callback: (error: Error | null) => void): void {
    discardSpooled(file.path).then(() => callback(null), callback);
  }

  private async spool(stream: Readable): Promise<FileInfo> {
    const file = path.join(this.directory, `${randomBytes(16).toString('hex')}.upload`);
    const sniffer = new ContentSniffer();
    let size = 0;
    const claim = this.claim;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        try {
          claim.grow(size);
          sniffer.push(chunk);
          done(null, chunk);
        } catch (err) {
          done(err as Error);
        }
      },
    });
    try {
      // Made again on each upload: cheap, and an operator may have cleared it.
      await fs.mkdir(this.directory, { recursive: true });
      await pipeline(stream, meter, createWriteStream(file, { flags: 'wx' }));
    } catch (err) {
      claim.release();
      // pipeline settles once every stream is closed, so nothing writes to the file after this.
      await discardSpooled(file);
      throw err;
    }
    // The type from the bytes replaces the one the client declared.
    return { path: file, size, mimetype: sniffer.type() };
  }
}

/** Removes a spooled file; one already moved to storage or removed is fine. */
export async function discardSpooled(file: string | undefined): Promise<void> {
  if (file) await fs.rm(file, { force: true });
}

/**
 * Creates the spool directory and removes files a crashed process left in it. Only files older
 * than `staleAfterMs` go, so a node sharing the directory keeps its uploads in progress.
 */
export async function prepareSpoolDirectory(directory: string, staleAfterMs: number, now = Date.now()): Promise<void> {
  await fs.mkdir(directory, { recursive: true });
  for (const entry of await fs.readdir(directory, { withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.upload')) continue;
    const file = path.join(directory, entry.name);
    const stat = await fs.stat(file).catch(() => undefined);
    if (stat && now - stat.mtimeMs > staleAfterMs) await discardSpooled(file);
  }
}
