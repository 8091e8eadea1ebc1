"""The PostgreSQL schema, as migrations: MIGRATIONS[i] takes schema_version i to i + 1. Never edit a shipped one.

The first migration is the schema SQLite reached by its ninth, in PostgreSQL's types: times are unix
seconds (or `_ms` milliseconds) in bigint, flags are boolean, lists and card extras are JSON text (the
stores map rows the same way on both engines). Each migration runs in its own transaction, under an
advisory lock, so servers that start together apply it once.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE tokens (
        id text PRIMARY KEY,
        name text NOT NULL,
        account text NOT NULL,
        token_hash text NOT NULL UNIQUE,
        prefix text NOT NULL,
        created_at bigint NOT NULL,
        last_used_at bigint,
        expires_at bigint,
        revoked_at bigint,
        rate_limit integer
    );
    CREATE TABLE agents (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text NOT NULL UNIQUE,
        account text NOT NULL,
        name text NOT NULL,
        persona text NOT NULL,
        location text,
        timezone text NOT NULL,
        language text NOT NULL,
        active_start text NOT NULL,
        active_end text NOT NULL,
        response_times text,
        model text,
        max_bubbles integer NOT NULL DEFAULT 3,
        presence_enabled boolean NOT NULL DEFAULT TRUE,
        mean_session_minutes double precision NOT NULL DEFAULT 10,
        online_response_times text,
        typing_speed_wpm integer DEFAULT 40,
        greeting text NOT NULL DEFAULT '',
        alternate_greetings text NOT NULL DEFAULT '[]',
        example_messages text NOT NULL DEFAULT '',
        system_prompt text NOT NULL DEFAULT '',
        post_history_instructions text NOT NULL DEFAULT '',
        nickname text,
        tags text NOT NULL DEFAULT '[]',
        creator text NOT NULL DEFAULT '',
        creator_notes text NOT NULL DEFAULT '',
        character_version text NOT NULL DEFAULT '',
        card_extras text,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL
    );
    CREATE INDEX agents_by_account ON agents (account, seq);
    CREATE INDEX agents_by_name ON agents (account, name);
    CREATE TABLE webhooks (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text NOT NULL UNIQUE,
        account text NOT NULL,
        url text NOT NULL,
        description text NOT NULL,
        enabled boolean NOT NULL,
        disabled_reason text,
        secret text NOT NULL,
        previous_secret text,
        previous_secret_until bigint,
        events text NOT NULL DEFAULT '["reply"]',
        last_success_at bigint,
        failing_since bigint,
        consecutive_failures integer NOT NULL DEFAULT 0,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL
    );
    CREATE INDEX webhooks_by_account ON webhooks (account, seq);
    CREATE TABLE message_requests (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text NOT NULL UNIQUE,
        account text NOT NULL,
        agent_id text NOT NULL,
        webhook_id text NOT NULL,
        reference text NOT NULL,
        status text NOT NULL,
        due_ms bigint NOT NULL,
        scheduled_for bigint NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        generation_failures integer NOT NULL DEFAULT 0,
        lease_owner text,
        last_error text,
        last_status_code integer,
        delivered_at bigint,
        idempotency_key text,
        request_hash text,
        accepted text,
        messages text,
        context_ids text,
        reply text,
        conversation_id text,
        superseded_by text,
        humanlike boolean NOT NULL DEFAULT FALSE,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL
    );
    CREATE INDEX message_requests_pending ON message_requests (due_ms)
        WHERE status IN ('scheduled', 'generating', 'delivering');
    CREATE INDEX message_requests_due_by_webhook ON message_requests (webhook_id, due_ms)
        WHERE status IN ('scheduled', 'generating', 'delivering');
    CREATE INDEX message_requests_in_flight ON message_requests (webhook_id, due_ms)
        WHERE status IN ('generating', 'delivering');
    CREATE INDEX message_requests_paused ON message_requests (webhook_id, updated_at) WHERE status = 'paused';
    CREATE INDEX message_requests_by_account ON message_requests (account, seq);
    CREATE UNIQUE INDEX message_requests_idempotency ON message_requests (account, idempotency_key)
        WHERE idempotency_key IS NOT NULL;
    CREATE INDEX message_requests_idempotency_expiry ON message_requests (created_at)
        WHERE request_hash IS NOT NULL;
    CREATE INDEX message_requests_conversation ON message_requests (agent_id, conversation_id)
        WHERE conversation_id IS NOT NULL AND status IN ('scheduled', 'generating', 'delivering');
    CREATE INDEX message_requests_finished ON message_requests (updated_at)
        WHERE status IN ('delivered', 'failed', 'canceled', 'superseded');
    CREATE TABLE delivery_attempts (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        request_id text NOT NULL,
        attempted_at bigint NOT NULL,
        status_code integer,
        duration_ms integer NOT NULL,
        error text,
        response_body text
    );
    CREATE INDEX delivery_attempts_by_request ON delivery_attempts (request_id, seq);
    CREATE TABLE contexts (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text NOT NULL UNIQUE,
        account text NOT NULL,
        name text NOT NULL,
        content text NOT NULL,
        keys text NOT NULL DEFAULT '[]',
        case_sensitive boolean NOT NULL DEFAULT FALSE,
        secondary_keys text NOT NULL DEFAULT '[]',
        selective boolean NOT NULL DEFAULT FALSE,
        scan_depth integer NOT NULL DEFAULT 4,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL
    );
    CREATE INDEX contexts_by_account ON contexts (account, seq);
    CREATE TABLE agent_contexts (
        agent_id text NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
        context_id text NOT NULL REFERENCES contexts (id),
        position integer NOT NULL,
        PRIMARY KEY (agent_id, context_id)
    );
    CREATE INDEX agent_contexts_by_context ON agent_contexts (context_id);
    -- The queue's table churns: every request is updated a few times and purged when it ends. Vacuum it
    -- after 1% of it is dead rather than 20% (the default), so the dead row versions that still hold
    -- purged content, and the index entries of finished rows, go soon.
    ALTER TABLE message_requests SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000);
    CREATE TABLE presence (
        agent_id text NOT NULL,
        conversation_id text NOT NULL,
        online_until_ms bigint NOT NULL,
        PRIMARY KEY (agent_id, conversation_id)
    );
    """,
    # issue 20: a token's family, the ids and rate limits of the tokens above it (JSON); [] for the operator's
    """
    ALTER TABLE tokens ADD COLUMN lineage text NOT NULL DEFAULT '[]';
    """,
    # issue 25: a humanlike reply's arrival (drawn at acceptance) and the start of its typing, in ms
    """
    ALTER TABLE message_requests ADD COLUMN arrive_ms bigint;
    ALTER TABLE message_requests ADD COLUMN typing_ms bigint;
    """,
    # issue 22: groups of agents in one chat; a request's group, its turn in the exchange, how many agent turns
    # may still follow it, the request it follows (its reply answers that one's) and the caller's seed
    """
    CREATE TABLE chat_groups (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text NOT NULL UNIQUE,
        account text NOT NULL,
        name text NOT NULL,
        strategy text NOT NULL,
        max_agent_turns integer NOT NULL,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL
    );
    CREATE INDEX chat_groups_by_account ON chat_groups (account, seq);
    CREATE TABLE chat_group_members (
        group_id text NOT NULL REFERENCES chat_groups (id) ON DELETE CASCADE,
        agent_id text NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
        position integer NOT NULL,
        talkativeness integer NOT NULL,
        PRIMARY KEY (group_id, agent_id)
    );
    CREATE INDEX chat_group_members_by_agent ON chat_group_members (agent_id);
    ALTER TABLE message_requests ADD COLUMN group_id text;
    ALTER TABLE message_requests ADD COLUMN turn integer NOT NULL DEFAULT 0;
    ALTER TABLE message_requests ADD COLUMN turns_left integer NOT NULL DEFAULT 0;
    ALTER TABLE message_requests ADD COLUMN follows text;
    ALTER TABLE message_requests ADD COLUMN seed bigint;
    CREATE INDEX message_requests_group_conversation ON message_requests (group_id, conversation_id)
        WHERE group_id IS NOT NULL AND status IN ('scheduled', 'generating', 'delivering');
    """,
    # issue 20: an agent's picture (from its card, or put through the API), kept with it and gone with it
    """
    CREATE TABLE agent_avatars (
        agent_id text PRIMARY KEY REFERENCES agents (id) ON DELETE CASCADE,
        media_type text NOT NULL,
        image bytea NOT NULL,
        updated_at bigint NOT NULL
    );
    """,
    # issue 21: check-ins, as in SQLite's migration of the same issue.
    """
    ALTER TABLE message_requests ADD COLUMN kind text NOT NULL DEFAULT 'reply';
    ALTER TABLE message_requests ADD COLUMN topic text;
    ALTER TABLE message_requests ADD COLUMN check_in text;
    ALTER TABLE message_requests ADD COLUMN canceled_reason text;
    ALTER TABLE message_requests ADD COLUMN sending_at bigint;
    CREATE INDEX message_requests_check_ins ON message_requests (agent_id, conversation_id, created_at)
        WHERE kind = 'check_in';
    CREATE TABLE user_writes (
        agent_id text NOT NULL,
        conversation_id text NOT NULL,
        wrote_at bigint NOT NULL,
        PRIMARY KEY (agent_id, conversation_id)
    );
    ALTER TABLE message_requests ADD COLUMN rule_id text;
    CREATE TABLE check_in_rules (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text NOT NULL UNIQUE,
        account text NOT NULL,
        agent_id text NOT NULL,
        webhook_id text NOT NULL,
        conversation_id text NOT NULL,
        reference text NOT NULL,
        topic text,
        recurrence text NOT NULL,
        timezone text NOT NULL,
        quiet_hours text NOT NULL,
        status text NOT NULL,
        next_after bigint NOT NULL,
        last_skipped text,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL
    );
    CREATE INDEX check_in_rules_active ON check_in_rules (next_after) WHERE status = 'active';
    """,
    # issue 26: read and typing times, as in SQLite's migration of the same issue.
    """
    ALTER TABLE message_requests ADD COLUMN read_at bigint;
    ALTER TABLE message_requests ADD COLUMN typing_started_at bigint;
    """,
    # issue 24: a group-commit batch and a claim in one round trip each (batches.py, claims.py). novaro_run runs
    # a batch's statements in order in the one transaction of its call, each with its own JSON array of
    # parameters, and returns their row counts. novaro_claim takes the claim lock, then leases what the claim
    # asks for: its statement takes its snapshot after the lock is granted, and its plan is kept for the session.
    """
    CREATE FUNCTION novaro_run(statements text[], params jsonb) RETURNS bigint[]
    LANGUAGE plpgsql AS $$
    DECLARE
        counts bigint[] := '{}';
        changed bigint;
    BEGIN
        FOR i IN 1 .. coalesce(array_length(statements, 1), 0) LOOP
            EXECUTE statements[i] USING params -> (i - 1);
            GET DIAGNOSTICS changed = ROW_COUNT;
            counts := counts || changed;
        END LOOP;
        RETURN counts;
    END
    $$;
    CREATE FUNCTION novaro_claim(
        p_per_webhook bigint, p_at_ms bigint, p_in_flight json, p_at_most bigint, p_lease_until_ms bigint,
        p_claimant text, p_working text[]
    ) RETURNS SETOF message_requests
    LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_advisory_xact_lock(hashtextextended('novaro-lite:claim', 0));
        RETURN QUERY
        WITH open AS (
            SELECT w.id, p_per_webhook - greatest(coalesce(mine.value::bigint, 0), (
                SELECT count(*) FROM message_requests AS busy
                WHERE busy.webhook_id = w.id AND busy.status IN ('generating', 'delivering') AND busy.due_ms > p_at_ms
            )) AS room
            FROM webhooks AS w LEFT JOIN json_each_text(p_in_flight) AS mine ON mine.key = w.id
        ), chosen AS (
            SELECT head.seq FROM open, LATERAL (
                SELECT candidate.seq, candidate.due_ms FROM message_requests AS candidate
                WHERE (candidate.webhook_id, candidate.due_ms)
                    BETWEEN (open.id, -9223372036854775808) AND (open.id, p_at_ms)
                AND candidate.status IN ('scheduled', 'generating', 'delivering')
                ORDER BY candidate.webhook_id, candidate.due_ms LIMIT open.room
            ) AS head
            WHERE open.room > 0
            ORDER BY head.due_ms, head.seq
            LIMIT p_at_most
        ), locked AS (
            SELECT request.seq FROM message_requests AS request WHERE request.seq IN (SELECT chosen.seq FROM chosen)
            AND request.status IN ('scheduled', 'generating', 'delivering') AND request.due_ms <= p_at_ms
            FOR UPDATE SKIP LOCKED
        )
        UPDATE message_requests AS leased
        SET status = CASE WHEN leased.reply IS NULL THEN 'generating' ELSE 'delivering' END,
            due_ms = p_lease_until_ms, lease_owner = p_claimant, updated_at = p_at_ms / 1000
        WHERE leased.seq IN (SELECT locked.seq FROM locked)
        AND (leased.lease_owner IS DISTINCT FROM p_claimant OR NOT leased.id = ANY(p_working))
        RETURNING leased.*;
    END
    $$;
    """,
)
