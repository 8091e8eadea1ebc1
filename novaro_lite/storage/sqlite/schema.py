"""The SQLite schema, as migrations: MIGRATIONS[i] takes `PRAGMA user_version` i to i + 1. Never edit a shipped one."""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    """
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
    );
    CREATE INDEX agents_by_account ON agents (account, seq);
    """,
    """
    ALTER TABLE agents ADD COLUMN max_bubbles INTEGER NOT NULL DEFAULT 3;
    """,
    """
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
    );
    CREATE INDEX webhooks_by_account ON webhooks (account, seq);
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
    );
    CREATE INDEX message_requests_pending ON message_requests (due_ms)
        WHERE status IN ('scheduled', 'generating', 'delivering');
    CREATE INDEX message_requests_by_account ON message_requests (account, seq);
    CREATE UNIQUE INDEX message_requests_idempotency ON message_requests (account, idempotency_key)
        WHERE idempotency_key IS NOT NULL;
    CREATE INDEX message_requests_finished ON message_requests (updated_at)
        WHERE status IN ('delivered', 'failed', 'canceled');
    CREATE TABLE delivery_attempts (
        seq INTEGER PRIMARY KEY,
        request_id TEXT NOT NULL,
        attempted_at INTEGER NOT NULL,
        status_code INTEGER,
        duration_ms INTEGER NOT NULL,
        error TEXT,
        response_body TEXT
    );
    CREATE INDEX delivery_attempts_by_request ON delivery_attempts (request_id, seq);
    """,
    """
    CREATE TABLE contexts (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        account TEXT NOT NULL,
        name TEXT NOT NULL,
        content TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE INDEX contexts_by_account ON contexts (account, seq);
    CREATE TABLE agent_contexts (
        agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
        context_id TEXT NOT NULL REFERENCES contexts (id),
        position INTEGER NOT NULL,
        PRIMARY KEY (agent_id, context_id)
    );
    CREATE INDEX agent_contexts_by_context ON agent_contexts (context_id);
    """,
    # Character fields on agents and keyword contexts (issue 11: Character Cards, lorebooks). Lists and
    # the card's extras are JSON text.
    """
    ALTER TABLE agents ADD COLUMN greeting TEXT NOT NULL DEFAULT '';
    ALTER TABLE agents ADD COLUMN alternate_greetings TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE agents ADD COLUMN example_messages TEXT NOT NULL DEFAULT '';
    ALTER TABLE agents ADD COLUMN system_prompt TEXT NOT NULL DEFAULT '';
    ALTER TABLE agents ADD COLUMN post_history_instructions TEXT NOT NULL DEFAULT '';
    ALTER TABLE agents ADD COLUMN nickname TEXT;
    ALTER TABLE agents ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE agents ADD COLUMN creator TEXT NOT NULL DEFAULT '';
    ALTER TABLE agents ADD COLUMN creator_notes TEXT NOT NULL DEFAULT '';
    ALTER TABLE agents ADD COLUMN character_version TEXT NOT NULL DEFAULT '';
    ALTER TABLE agents ADD COLUMN card_extras TEXT;
    ALTER TABLE contexts ADD COLUMN keys TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE contexts ADD COLUMN case_sensitive INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE contexts ADD COLUMN secondary_keys TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE contexts ADD COLUMN selective INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE contexts ADD COLUMN scan_depth INTEGER NOT NULL DEFAULT 4;
    """,
    # The delivery engine under failure (issue 9): the model's own retry budget, claims per webhook in due
    # order from an index, paused requests by webhook, and the idempotency window's expiry.
    """
    ALTER TABLE message_requests ADD COLUMN generation_failures INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX message_requests_due_by_webhook ON message_requests (webhook_id, due_ms)
        WHERE status IN ('scheduled', 'generating', 'delivering');
    CREATE INDEX message_requests_paused ON message_requests (webhook_id, updated_at) WHERE status = 'paused';
    CREATE INDEX message_requests_idempotency_expiry ON message_requests (created_at)
        WHERE request_hash IS NOT NULL;
    """,
    # Conversations (issue 12): per-agent presence and typing, a request's conversation and what superseded it,
    # webhook event subscriptions, and presence itself (metadata only: who is online where, until when).
    """
    ALTER TABLE agents ADD COLUMN presence_enabled INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE agents ADD COLUMN mean_session_minutes REAL NOT NULL DEFAULT 10;
    ALTER TABLE agents ADD COLUMN online_response_times TEXT;
    ALTER TABLE agents ADD COLUMN typing_speed_wpm INTEGER DEFAULT 40;
    ALTER TABLE message_requests ADD COLUMN conversation_id TEXT;
    ALTER TABLE message_requests ADD COLUMN superseded_by TEXT;
    ALTER TABLE message_requests ADD COLUMN humanlike INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX message_requests_conversation ON message_requests (agent_id, conversation_id)
        WHERE conversation_id IS NOT NULL AND status IN ('scheduled', 'generating', 'delivering');
    DROP INDEX message_requests_finished;
    CREATE INDEX message_requests_finished ON message_requests (updated_at)
        WHERE status IN ('delivered', 'failed', 'canceled', 'superseded');
    ALTER TABLE webhooks ADD COLUMN events TEXT NOT NULL DEFAULT '["reply"]';
    CREATE TABLE presence (
        agent_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        online_until_ms INTEGER NOT NULL,
        PRIMARY KEY (agent_id, conversation_id)
    );
    """,
    # issue 14: a token's own rate limit (requests a minute); NULL uses [limits] rate_limit_per_minute
    """
    ALTER TABLE tokens ADD COLUMN rate_limit INTEGER;
    """,
    # issue 14: webhook health; a webhook failing for [webhooks] disable_after_hours is disabled
    """
    ALTER TABLE webhooks ADD COLUMN last_success_at INTEGER;
    ALTER TABLE webhooks ADD COLUMN failing_since INTEGER;
    ALTER TABLE webhooks ADD COLUMN consecutive_failures INTEGER NOT NULL DEFAULT 0;
    """,
    # issue 13: the rows in flight (leased) per webhook, so a claim counts them across processes cheaply
    """
    CREATE INDEX message_requests_in_flight ON message_requests (webhook_id, due_ms)
        WHERE status IN ('generating', 'delivering');
    """,
    # issue 20: a token's family, the ids and rate limits of the tokens above it (JSON); [] for the operator's
    """
    ALTER TABLE tokens ADD COLUMN lineage TEXT NOT NULL DEFAULT '[]';
    """,
    # issue 25: a humanlike reply's arrival (drawn at acceptance) and the start of its typing, in ms
    """
    ALTER TABLE message_requests ADD COLUMN arrive_ms INTEGER;
    ALTER TABLE message_requests ADD COLUMN typing_ms INTEGER;
    """,
    # issue 22: groups of agents in one chat; a request's group, its turn in the exchange, how many agent turns
    # may still follow it, the request it follows (its reply answers that one's) and the caller's seed
    """
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
    CREATE INDEX chat_groups_by_account ON chat_groups (account, seq);
    CREATE TABLE chat_group_members (
        group_id TEXT NOT NULL REFERENCES chat_groups (id) ON DELETE CASCADE,
        agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        talkativeness INTEGER NOT NULL,
        PRIMARY KEY (group_id, agent_id)
    );
    CREATE INDEX chat_group_members_by_agent ON chat_group_members (agent_id);
    ALTER TABLE message_requests ADD COLUMN group_id TEXT;
    ALTER TABLE message_requests ADD COLUMN turn INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE message_requests ADD COLUMN turns_left INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE message_requests ADD COLUMN follows TEXT;
    ALTER TABLE message_requests ADD COLUMN seed INTEGER;
    CREATE INDEX message_requests_group_conversation ON message_requests (group_id, conversation_id)
        WHERE group_id IS NOT NULL AND status IN ('scheduled', 'generating', 'delivering');
    """,
    # issue 20: an agent's picture (from its card, or put through the API), kept with it and gone with it
    """
    CREATE TABLE agent_avatars (
        agent_id TEXT PRIMARY KEY REFERENCES agents (id) ON DELETE CASCADE,
        media_type TEXT NOT NULL,
        image BLOB NOT NULL,
        updated_at INTEGER NOT NULL
    );
    """,
    # issue 21: check-ins are queue rows of their own kind (docs/design.md, Check-ins): what to bring up (content,
    # purged like the messages), the drawn moment's bounds as JSON, why one was canceled, the moment its POST
    # was fenced against the user's message; and when the user last wrote in a conversation, for the streak.
    """
    ALTER TABLE message_requests ADD COLUMN kind TEXT NOT NULL DEFAULT 'reply';
    ALTER TABLE message_requests ADD COLUMN topic TEXT;
    ALTER TABLE message_requests ADD COLUMN check_in TEXT;
    ALTER TABLE message_requests ADD COLUMN canceled_reason TEXT;
    ALTER TABLE message_requests ADD COLUMN sending_at INTEGER;
    CREATE INDEX message_requests_check_ins ON message_requests (agent_id, conversation_id, created_at)
        WHERE kind = 'check_in';
    CREATE TABLE user_writes (
        agent_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        wrote_at INTEGER NOT NULL,
        PRIMARY KEY (agent_id, conversation_id)
    );
    ALTER TABLE message_requests ADD COLUMN rule_id TEXT;
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
    CREATE INDEX check_in_rules_active ON check_in_rules (next_after) WHERE status = 'active';
    """,
    # issue 26: when the agent read a request and when it started typing its reply (unix seconds), for the
    # request's timeline; times, not content, so they stay until the row is deleted
    """
    ALTER TABLE message_requests ADD COLUMN read_at INTEGER;
    ALTER TABLE message_requests ADD COLUMN typing_started_at INTEGER;
    """,
)
