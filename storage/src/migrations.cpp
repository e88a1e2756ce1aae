#include "migrations.h"

namespace bonsai::storage::detail {

namespace {

// Version 1: conversations and messages (a tree through parent_id), settings.
constexpr const char* kV1 = R"sql(
CREATE TABLE conversations(
  id INTEGER PRIMARY KEY,
  title TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  pinned INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1)),
  archived INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
  mode TEXT NOT NULL DEFAULT 'local' CHECK (mode IN ('local', 'cloud')),
  model TEXT NOT NULL DEFAULT '',
  system_prompt TEXT NOT NULL DEFAULT '',
  deleted_at INTEGER
);
CREATE TABLE messages(
  id INTEGER PRIMARY KEY,
  conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  parent_id INTEGER REFERENCES messages(id) ON DELETE CASCADE,
  role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
  content TEXT NOT NULL DEFAULT '',
  provider TEXT NOT NULL DEFAULT '',
  model TEXT NOT NULL DEFAULT '',
  prompt_tokens INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  prompt_ms REAL NOT NULL DEFAULT 0,
  generation_ms REAL NOT NULL DEFAULT 0,
  tokens_per_second REAL NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'complete' CHECK (status IN ('complete', 'streaming', 'interrupted')),
  created_at INTEGER NOT NULL
);
CREATE INDEX messages_by_conversation ON messages(conversation_id, id);
CREATE INDEX messages_by_parent ON messages(parent_id);
CREATE INDEX conversations_by_updated ON conversations(deleted_at, updated_at);
CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);
)sql";

// Version 2: the active branch of each conversation, full-text search over messages, the personal context
// store. The active leaf of an existing conversation becomes its newest message; the FTS index is built
// from the existing messages.
constexpr const char* kV2 = R"sql(
ALTER TABLE conversations ADD COLUMN active_leaf_id INTEGER REFERENCES messages(id) ON DELETE SET NULL;
UPDATE conversations SET active_leaf_id =
  (SELECT max(m.id) FROM messages m WHERE m.conversation_id = conversations.id);
CREATE INDEX messages_streaming ON messages(id) WHERE status = 'streaming';
CREATE INDEX conversations_by_leaf ON conversations(active_leaf_id);

CREATE VIRTUAL TABLE messages_fts USING fts5(
  content, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
  INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
  INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
  INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
  INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;
INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');

CREATE TABLE context_items(
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('note', 'fact', 'document')),
  title TEXT NOT NULL,
  text TEXT NOT NULL,
  source TEXT NOT NULL DEFAULT '',
  tags TEXT NOT NULL DEFAULT '[]',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  local_only INTEGER NOT NULL DEFAULT 1 CHECK (local_only = 1)
);
CREATE TABLE context_chunks(
  id INTEGER PRIMARY KEY,
  item_id INTEGER NOT NULL REFERENCES context_items(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  byte_offset INTEGER NOT NULL,
  title TEXT NOT NULL,
  text TEXT NOT NULL,
  embedding BLOB,
  UNIQUE (item_id, seq)
);
CREATE VIRTUAL TABLE context_chunks_fts USING fts5(
  title, text, content='context_chunks', content_rowid='id', tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER context_chunks_fts_insert AFTER INSERT ON context_chunks BEGIN
  INSERT INTO context_chunks_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
END;
CREATE TRIGGER context_chunks_fts_delete AFTER DELETE ON context_chunks BEGIN
  INSERT INTO context_chunks_fts(context_chunks_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
END;
CREATE TRIGGER context_chunks_fts_update AFTER UPDATE OF title, text ON context_chunks BEGIN
  INSERT INTO context_chunks_fts(context_chunks_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
  INSERT INTO context_chunks_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
END;
)sql";

}  // namespace

const std::vector<Migration>& migrations() {
    static const std::vector<Migration> all = {{1, kV1}, {2, kV2}};
    return all;
}

}  // namespace bonsai::storage::detail
