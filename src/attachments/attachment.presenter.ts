/** The contract's Attachment shape. Messages keep these fields (without url) from upload time. */
export interface AttachmentSummary {
  id: number;
  name: string;
  mimeType: string;
  size: number;
}

export interface AttachmentJson extends AttachmentSummary {
  url: string;
}

export const attachmentUrl = (id: number): string => `/api/chat/attachments/${id}`;

export const toAttachmentJson = (a: AttachmentSummary): AttachmentJson => ({
  id: a.id,
  name: a.name,
  mimeType: a.mimeType,
  size: a.size,
  url: attachmentUrl(a.id),
});
