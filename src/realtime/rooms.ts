/** The one place room names are made. */
export const userRoom = (userId: number): string => `user_${userId}`;
export const conversationRoom = (conversationId: number): string => `conversation_${conversationId}`;
