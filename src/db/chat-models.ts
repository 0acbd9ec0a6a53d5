import type { Model, ModelStatic, Sequelize } from 'sequelize';
import { getAttributes, getOptions, type Model as DecoratedModel } from 'sequelize-typescript';
import { Attachment } from '../attachments/attachment.model';
import { AuditEntry } from '../audit/audit-entry.model';
import { Conversation } from '../conversations/conversation.model';
import { Message } from '../messages/message.model';
import { leaveTableToMigrations } from './schema-owner';

/**
 * Duet's models bound to one chat's Sequelize, with their associations: the data API for hosts
 * (`chat.models`) and for Duet's cold paths. The hot paths use prepared SQL (docs/data-model.md).
 */
export interface ChatModels {
  Conversation: typeof Conversation;
  Message: typeof Message;
  Attachment: typeof Attachment;
  AuditEntry: typeof AuditEntry;
  /** The host's users: Duet's read-only model of the configured table, or the host's own model. */
  User: ModelStatic<Model>;
}

/**
 * Binds the decorated model classes to `sequelize` and associates them with the host's users
 * (`User`: the host's own model, or Duet's read-only one of the configured table). Each call makes its own
 * subclasses, so two chats in one process (or a host's second Sequelize) never share a model bound
 * to the other's pool. Model names are prefixed (`ChatMessage`...) so that a host's own `Message`
 * or `User` in the same Sequelize is left alone; association names are the fields below.
 */
export function defineChatModels(sequelize: Sequelize, User: ModelStatic<Model>): ChatModels {
  const models = {
    Conversation: bind(Conversation, sequelize),
    Message: bind(Message, sequelize),
    Attachment: bind(Attachment, sequelize),
    AuditEntry: bind(AuditEntry, sequelize),
  };
  const { Conversation: Conversations, Message: Messages, Attachment: Attachments, AuditEntry: AuditEntries } = models;
  // No foreign keys: the host owns its users and may delete them; the migrations own the schema.
  const loose = { constraints: false };

  Conversations.belongsTo(User, { ...loose, as: 'participant1', foreignKey: 'participant1Id' });
  Conversations.belongsTo(User, { ...loose, as: 'participant2', foreignKey: 'participant2Id' });
  Conversations.belongsTo(Messages, { ...loose, as: 'lastMessage', foreignKey: 'lastMessageId' });
  Conversations.hasMany(Messages, { ...loose, as: 'messages', foreignKey: 'conversationId' });

  Messages.belongsTo(Conversations, { ...loose, as: 'conversation', foreignKey: 'conversationId' });
  Messages.belongsTo(User, { ...loose, as: 'sender', foreignKey: 'senderId' });
  Messages.belongsTo(User, { ...loose, as: 'receiver', foreignKey: 'receiverId' });
  Messages.belongsTo(Attachments, { ...loose, as: 'storedAttachment', foreignKey: 'attachmentId' });

  Attachments.belongsTo(User, { ...loose, as: 'uploader', foreignKey: 'uploaderId' });
  Attachments.hasOne(Messages, { ...loose, as: 'message', foreignKey: 'attachmentId' });

  AuditEntries.belongsTo(User, { ...loose, as: 'actor', foreignKey: 'actorId' });
  AuditEntries.belongsTo(Messages, { ...loose, as: 'message', foreignKey: 'messageId' });

  return { ...models, User };
}

type Template = typeof DecoratedModel & { prototype: DecoratedModel };

/**
 * A subclass of a decorated model, initialised on `sequelize` from the decorators' metadata (what
 * sequelize-typescript's own addModels does, through its public getAttributes and getOptions).
 * The subclass keeps the template's name, fields and methods; the migrations, not sync(), make
 * the tables.
 */
function bind<T extends Template>(template: T, sequelize: Sequelize): T {
  const bound = class extends (template as unknown as new () => DecoratedModel) {} as unknown as T;
  Object.defineProperty(bound, 'name', { value: template.name });
  bound.initialize(getAttributes(template.prototype), {
    ...getOptions(template.prototype),
    modelName: `Chat${template.name}`,
    sequelize,
  });
  leaveTableToMigrations(bound as unknown as ModelStatic<Model>);
  return bound;
}
