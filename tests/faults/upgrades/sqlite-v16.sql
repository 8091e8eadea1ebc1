BEGIN TRANSACTION;
CREATE TABLE agent_avatars (
        agent_id TEXT PRIMARY KEY REFERENCES agents (id) ON DELETE CASCADE,
        media_type TEXT NOT NULL,
        image BLOB NOT NULL,
        updated_at INTEGER NOT NULL
    );
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
INSERT INTO "agents" VALUES(1,'agt_01m98bv8pr0qgn8hvkepjxxwvk','default','Lena','',NULL,'Europe/Berlin','en','00:00','23:59',NULL,NULL,1796650935,1796650935,3,'','[]','','','',NULL,'[]','','','',NULL,1,10.0,NULL,40);
CREATE TABLE chat_group_members (
        group_id TEXT NOT NULL REFERENCES chat_groups (id) ON DELETE CASCADE,
        agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        talkativeness INTEGER NOT NULL,
        PRIMARY KEY (group_id, agent_id)
    );
CREATE TABLE chat_groups (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        account TEXT NOT NULL,
        name TEXT NOT NULL,
        strategy TEXT NOT NULL,
        max_agent_turns INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
CREATE TABLE check_in_rules (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        account TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        webhook_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        reference TEXT NOT NULL,
        topic TEXT,
        recurrence TEXT NOT NULL,
        timezone TEXT NOT NULL,
        quiet_hours TEXT NOT NULL,
        status TEXT NOT NULL,
        next_after INTEGER NOT NULL,
        last_skipped TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
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
    , generation_failures INTEGER NOT NULL DEFAULT 0, conversation_id TEXT, superseded_by TEXT, humanlike INTEGER NOT NULL DEFAULT 0, arrive_ms INTEGER, typing_ms INTEGER, group_id TEXT, turn INTEGER NOT NULL DEFAULT 0, turns_left INTEGER NOT NULL DEFAULT 0, follows TEXT, seed INTEGER, kind TEXT NOT NULL DEFAULT 'reply', topic TEXT, check_in TEXT, canceled_reason TEXT, sending_at INTEGER, rule_id TEXT, read_at INTEGER, typing_started_at INTEGER);
INSERT INTO "message_requests" VALUES(1,'req_01m98bv8prs9b9ysxkrx0dw7ps','default','agt_01m98bv8pr0qgn8hvkepjxxwvk','whk_01m98bv8prpj5a599pm4h7bz8h','ref-0','scheduled',1796647335682,1796647335,0,NULL,NULL,NULL,NULL,NULL,NULL,'{"id":"req_01m98bv8prs9b9ysxkrx0dw7ps","status":"scheduled","scheduledFor":1796654535,"agentId":"agt_01m98bv8pr0qgn8hvkepjxxwvk","webhookId":"whk_01m98bv8prpj5a599pm4h7bz8h","reference":"ref-0","attempts":0,"lastError":null,"lastStatusCode":null,"deliveredAt":null,"createdAt":1796650935,"updatedAt":1796650935,"conversationId":null,"supersededBy":null,"groupId":null,"turn":0,"follows":null,"readAt":null,"typingAt":null}','[["user", "Are you open tomorrow? (0)", null]]','[]',NULL,1796650935,1796650935,0,NULL,NULL,0,1796654535682,NULL,NULL,0,0,NULL,NULL,'reply',NULL,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO "message_requests" VALUES(2,'req_01m98bv8pr5r8mr239s29p32g3','default','agt_01m98bv8pr0qgn8hvkepjxxwvk','whk_01m98bv8prpj5a599pm4h7bz8h','ref-1','scheduled',1796647335687,1796647335,0,NULL,NULL,NULL,NULL,NULL,NULL,'{"id":"req_01m98bv8pr5r8mr239s29p32g3","status":"scheduled","scheduledFor":1796654535,"agentId":"agt_01m98bv8pr0qgn8hvkepjxxwvk","webhookId":"whk_01m98bv8prpj5a599pm4h7bz8h","reference":"ref-1","attempts":0,"lastError":null,"lastStatusCode":null,"deliveredAt":null,"createdAt":1796650935,"updatedAt":1796650935,"conversationId":null,"supersededBy":null,"groupId":null,"turn":0,"follows":null,"readAt":null,"typingAt":null}','[["user", "Are you open tomorrow? (1)", null]]','[]',NULL,1796650935,1796650935,0,NULL,NULL,0,1796654535687,NULL,NULL,0,0,NULL,NULL,'reply',NULL,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO "message_requests" VALUES(3,'req_01m98bv8prn2q45axt4gaaqztm','default','agt_01m98bv8pr0qgn8hvkepjxxwvk','whk_01m98bv8prpj5a599pm4h7bz8h','ref-2','scheduled',1796647335689,1796647335,0,NULL,NULL,NULL,NULL,NULL,NULL,'{"id":"req_01m98bv8prn2q45axt4gaaqztm","status":"scheduled","scheduledFor":1796654535,"agentId":"agt_01m98bv8pr0qgn8hvkepjxxwvk","webhookId":"whk_01m98bv8prpj5a599pm4h7bz8h","reference":"ref-2","attempts":0,"lastError":null,"lastStatusCode":null,"deliveredAt":null,"createdAt":1796650935,"updatedAt":1796650935,"conversationId":null,"supersededBy":null,"groupId":null,"turn":0,"follows":null,"readAt":null,"typingAt":null}','[["user", "Are you open tomorrow? (2)", null]]','[]',NULL,1796650935,1796650935,0,NULL,NULL,0,1796654535689,NULL,NULL,0,0,NULL,NULL,'reply',NULL,NULL,NULL,NULL,NULL,NULL,NULL);
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
INSERT INTO "tokens" VALUES('tok_01m98bv8prs36xra6bd9eb8zcz','first-start','default','28c3ad398de60faab3e23c00dc7ef562b3dfe7195117e791ef026a41a98cfe3b','nl_g3eifkc',1796650935,1796650935,NULL,NULL,NULL,'[]');
CREATE TABLE user_writes (
        agent_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        wrote_at INTEGER NOT NULL,
        PRIMARY KEY (agent_id, conversation_id)
    );
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
INSERT INTO "webhooks" VALUES(1,'whk_01m98bv8prpj5a599pm4h7bz8h','default','http://127.0.0.1:9/hook','',1,NULL,'whsec_tG7ElLv84puAbDIJmmfozdakLHBautB5cir3HTpXMYk=',NULL,NULL,1796650935,1796650935,'["reply"]',NULL,NULL,0);
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
CREATE INDEX chat_groups_by_account ON chat_groups (account, seq);
CREATE INDEX chat_group_members_by_agent ON chat_group_members (agent_id);
CREATE INDEX message_requests_group_conversation ON message_requests (group_id, conversation_id)
        WHERE group_id IS NOT NULL AND status IN ('scheduled', 'generating', 'delivering');
CREATE INDEX message_requests_check_ins ON message_requests (agent_id, conversation_id, created_at)
        WHERE kind = 'check_in';
CREATE INDEX check_in_rules_active ON check_in_rules (next_after) WHERE status = 'active';
COMMIT;
PRAGMA user_version = 16;
