/** The package's face for hosts: build Duet over your database and mount its router. */
export { createChat, type Chat, type ChatOptions, type ChatServices } from './chat';
export type { ChatNotifier } from './events/chat-notifier';
export { AppError, type ErrorCode } from './shared/errors';
export { loadConfig, type Config } from './config';
export { boundedRecoveryAdapter } from './realtime/recovery-buffer';
export { createExpressServer } from './http/express-server';
export type { ChatModels } from './db/chat-models';
export type { Conversation } from './conversations/conversation.model';
export type { Message } from './messages/message.model';
export type { Attachment } from './attachments/attachment.model';
export type { AuditEntry } from './audit/audit-entry.model';
export type { ChatUser, UserAttributes } from './users/user.model';
