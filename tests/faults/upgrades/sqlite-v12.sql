BEGIN TRANSACTION;
CREATE TABLE agent_contexts (
        agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
        context_id TEXT NOT NULL REFERENCES contexts (id),
        position INTEGER NOT NULL,
        PRIMARY KEY (agent_id, context_id)
    );
CREATE TABLE agents (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        account TEXT NOT NULL,
        name TEXT NOT NULL,
        persona TEXT NOT NULL,
        location TEXT,
        timezone TEXT NOT NULL,
        language TEXT NOT NULL,
        active_start TEXT NOT NULL,
        active_end TEXT NOT NULL,
        response_times TEXT,
        model TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    , max_bubbles INTEGER NOT NULL DEFAULT 3, greeting TEXT NOT NULL DEFAULT '', alternate_greetings TEXT NOT NULL DEFAULT '[]', example_messages TEXT NOT NULL DEFAULT '', system_prompt TEXT NOT NULL DEFAULT '', post_history_instructions TEXT NOT NULL DEFAULT '', nickname TEXT, tags TEXT NOT NULL DEFAULT '[]', creator TEXT NOT NULL DEFAULT '', creator_notes TEXT NOT NULL DEFAULT '', character_version TEXT NOT NULL DEFAULT '', card_extras TEXT, presence_enabled INTEGER NOT NULL DEFAULT 1, mean_session_minutes REAL NOT NULL DEFAULT 10, online_response_times TEXT, typing_speed_wpm INTEGER DEFAULT 40);
INSERT INTO "agents" VALUES(1,'agt_01m984cd50gwa9x0zkc7g2ybbg','default','Lena','',NULL,'Europe/Berlin','en','00:00','23:59',NULL,NULL,1796643108,1796643108,3,'','[]','','','',NULL,'[]','','','',NULL,1,10.0,NULL,40);
CREATE TABLE contexts (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        account TEXT NOT NULL,
        name TEXT NOT NULL,
        content TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    , keys TEXT NOT NULL DEFAULT '[]', case_sensitive INTEGER NOT NULL DEFAULT 0, secondary_keys TEXT NOT NULL DEFAULT '[]', selective INTEGER NOT NULL DEFAULT 0, scan_depth INTEGER NOT NULL DEFAULT 4);
CREATE TABLE delivery_attempts (
        seq INTEGER PRIMARY KEY,
        request_id TEXT NOT NULL,
        attempted_at INTEGER NOT NULL,
        status_code INTEGER,
        duration_ms INTEGER NOT NULL,
        error TEXT,
        response_body TEXT
    );
CREATE TABLE message_requests (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        account TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        webhook_id TEXT NOT NULL,
        reference TEXT NOT NULL,
        status TEXT NOT NULL,
        due_ms INTEGER NOT NULL,
        scheduled_for INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        lease_owner TEXT,
        last_error TEXT,
        last_status_code INTEGER,
        delivered_at INTEGER,
        idempotency_key TEXT,
        request_hash TEXT,
        accepted TEXT,
        messages TEXT,
        context_ids TEXT,
        reply TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    , generation_failures INTEGER NOT NULL DEFAULT 0, conversation_id TEXT, superseded_by TEXT, humanlike INTEGER NOT NULL DEFAULT 0, arrive_ms INTEGER, typing_ms INTEGER);
INSERT INTO "message_requests" VALUES(1,'req_01m984cd50kdsgdbdsar0ah8ft','default','agt_01m984cd50gwa9x0zkc7g2ybbg','whk_01m984cd502h4tsrdx2k7pesdd','ref-0','scheduled',1796639508258,1796639508,0,NULL,NULL,NULL,NULL,NULL,NULL,'{"id":"req_01m984cd50kdsgdbdsar0ah8ft","status":"scheduled","scheduledFor":1796646708,"agentId":"agt_01m984cd50gwa9x0zkc7g2ybbg","webhookId":"whk_01m984cd502h4tsrdx2k7pesdd","reference":"ref-0","attempts":0,"lastError":null,"lastStatusCode":null,"deliveredAt":null,"createdAt":1796643108,"updatedAt":1796643108,"conversationId":null,"supersededBy":null}','[["user", "Are you open tomorrow? (0)", null]]','[]',NULL,1796643108,1796643108,0,NULL,NULL,0,1796646708258,NULL);
INSERT INTO "message_requests" VALUES(2,'req_01m984cd50xkjbm3awz6pzswpz','default','agt_01m984cd50gwa9x0zkc7g2ybbg','whk_01m984cd502h4tsrdx2k7pesdd','ref-1','scheduled',1796639508261,1796639508,0,NULL,NULL,NULL,NULL,NULL,NULL,'{"id":"req_01m984cd50xkjbm3awz6pzswpz","status":"scheduled","scheduledFor":1796646708,"agentId":"agt_01m984cd50gwa9x0zkc7g2ybbg","webhookId":"whk_01m984cd502h4tsrdx2k7pesdd","reference":"ref-1","attempts":0,"lastError":null,"lastStatusCode":null,"deliveredAt":null,"createdAt":1796643108,"updatedAt":1796643108,"conversationId":null,"supersededBy":null}','[["user", "Are you open tomorrow? (1)", null]]','[]',NULL,1796643108,1796643108,0,NULL,NULL,0,1796646708261,NULL);
INSERT INTO "message_requests" VALUES(3,'req_01m984cd50c6hg1wkwgaz3nr25','default','agt_01m984cd50gwa9x0zkc7g2ybbg','whk_01m984cd502h4tsrdx2k7pesdd','ref-2','scheduled',1796639508264,1796639508,0,NULL,NULL,NULL,NULL,NULL,NULL,'{"id":"req_01m984cd50c6hg1wkwgaz3nr25","status":"scheduled","scheduledFor":1796646708,"agentId":"agt_01m984cd50gwa9x0zkc7g2ybbg","webhookId":"whk_01m984cd502h4tsrdx2k7pesdd","reference":"ref-2","attempts":0,"lastError":null,"lastStatusCode":null,"deliveredAt":null,"createdAt":1796643108,"updatedAt":1796643108,"conversationId":null,"supersededBy":null}','[["user", "Are you open tomorrow? (2)", null]]','[]',NULL,1796643108,1796643108,0,NULL,NULL,0,1796646708264,NULL);
CREATE TABLE presence (
        agent_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        online_until_ms INTEGER NOT NULL,
        PRIMARY KEY (agent_id, conversation_id)
    );
CREATE TABLE tokens (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        account TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_used_at INTEGER,
        expires_at INTEGER,
        revoked_at INTEGER
    , rate_limit INTEGER, lineage TEXT NOT NULL DEFAULT '[]');
INSERT INTO "tokens" VALUES('tok_01m984cd50test0ctj12ct6xyh','first-start','default','998ba3243a81caee05144e9ea50f26c741bb83bf6f6034706ab911df2bed29fa','nl_IWaGkRF',1796643108,1796643108,NULL,NULL,NULL,'[]');
CREATE TABLE webhooks (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        account TEXT NOT NULL,
        url TEXT NOT NULL,
        description TEXT NOT NULL,
        enabled INTEGER NOT NULL,
        disabled_reason TEXT,
        secret TEXT NOT NULL,
        previous_secret TEXT,
        previous_secret_until INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    , events TEXT NOT NULL DEFAULT '["reply"]', last_success_at INTEGER, failing_since INTEGER, consecutive_failures INTEGER NOT NULL DEFAULT 0);
INSERT INTO "webhooks" VALUES(1,'whk_01m984cd502h4tsrdx2k7pesdd','default','http://127.0.0.1:9/hook','',1,NULL,'whsec_f1GnKGb7VIMPtdCRSxbth0UZfl9mQHw4doHPkOc5Mro=',NULL,NULL,1796643108,1796643108,'["reply"]',NULL,NULL,0);
CREATE INDEX agents_by_account ON agents (account, seq);
CREATE INDEX webhooks_by_account ON webhooks (account, seq);
CREATE INDEX message_requests_pending ON message_requests (due_ms)
        WHERE status IN ('scheduled', 'generating', 'delivering');
CREATE INDEX message_requests_by_account ON message_requests (account, seq);
CREATE UNIQUE INDEX message_requests_idempotency ON message_requests (account, idempotency_key)
        WHERE idempotency_key IS NOT NULL;
CREATE INDEX delivery_attempts_by_request ON delivery_attempts (request_id, seq);
CREATE INDEX contexts_by_account ON contexts (account, seq);
CREATE INDEX agent_contexts_by_context ON agent_contexts (context_id);
CREATE INDEX message_requests_due_by_webhook ON message_requests (webhook_id, due_ms)
        WHERE status IN ('scheduled', 'generating', 'delivering');
CREATE INDEX message_requests_paused ON message_requests (webhook_id, updated_at) WHERE status = 'paused';
CREATE INDEX message_requests_idempotency_expiry ON message_requests (created_at)
        WHERE request_hash IS NOT NULL;
CREATE INDEX message_requests_conversation ON message_requests (agent_id, conversation_id)
        WHERE conversation_id IS NOT NULL AND status IN ('scheduled', 'generating', 'delivering');
CREATE INDEX message_requests_finished ON message_requests (updated_at)
        WHERE status IN ('delivered', 'failed', 'canceled', 'superseded');
CREATE INDEX message_requests_in_flight ON message_requests (webhook_id, due_ms)
        WHERE status IN ('generating', 'delivering');
COMMIT;
PRAGMA user_version = 12;
