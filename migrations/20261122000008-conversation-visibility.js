'use strict';

// Privacy between strangers (docs/api.md): an empty conversation is listed only for whoever opened
// it, and only users who have exchanged a message are presence partners.
// - held_message: the conversation holds or held a message; it never goes back to false, so a
//   conversation whose messages were all deleted or purged keeps its two users partners.
// - participant_N_opened: participant N created it or opened it with POST /conversations, which
//   lists it for them while it is still empty.
//
// Expand only: nodes of the previous version keep working during a rolling deploy. Every column is
// added with DEFAULT true, so existing rows get it without a table rewrite; held_message then
// defaults to false and the rows that never held a message are set back. The opened flags keep
// DEFAULT true: this version always writes them, and a conversation created by a previous-version
// node stays listed for both, as that version lists it. (Messages such a node sends are recognised
// by last_message_id; see src/conversations/conversation-visibility.ts.)
module.exports = {
  async up(queryInterface) {
    const sql = (text) => queryInterface.sequelize.query(text);
    await sql(`ALTER TABLE conversations
                 ADD COLUMN held_message BOOLEAN NOT NULL DEFAULT true,
                 ADD COLUMN participant_1_opened BOOLEAN NOT NULL DEFAULT true,
                 ADD COLUMN participant_2_opened BOOLEAN NOT NULL DEFAULT true`);
    await sql('ALTER TABLE conversations ALTER COLUMN held_message SET DEFAULT false');
    // A conversation held a message if any message row is in it, deleted or not, or if the audit
    // log names it (a purge leaves only that). Each partial index on messages answers one half.
    // Who created an empty conversation was never recorded, so it stays listed for both.
    await sql(`UPDATE conversations c SET held_message = false
                WHERE c.last_message_id IS NULL
                  AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.deleted_at IS NULL)
                  AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.deleted_at IS NOT NULL)
                  AND NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.conversation_id = c.id)`);
  },

  async down(queryInterface) {
    await queryInterface.sequelize.query(`ALTER TABLE conversations
      DROP COLUMN held_message, DROP COLUMN participant_1_opened, DROP COLUMN participant_2_opened`);
  },
};
