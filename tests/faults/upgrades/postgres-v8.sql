--
-- PostgreSQL database dump
--

-- Dumped from database version 16.2
-- Dumped by pg_dump version 16.2

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: message_requests; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.message_requests (
    seq bigint NOT NULL,
    id text NOT NULL,
    account text NOT NULL,
    agent_id text NOT NULL,
    webhook_id text NOT NULL,
    reference text NOT NULL,
    status text NOT NULL,
    due_ms bigint NOT NULL,
    scheduled_for bigint NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    generation_failures integer DEFAULT 0 NOT NULL,
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
    humanlike boolean DEFAULT false NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    arrive_ms bigint,
    typing_ms bigint,
    group_id text,
    turn integer DEFAULT 0 NOT NULL,
    turns_left integer DEFAULT 0 NOT NULL,
    follows text,
    seed bigint,
    kind text DEFAULT 'reply'::text NOT NULL,
    topic text,
    check_in text,
    canceled_reason text,
    sending_at bigint,
    rule_id text,
    read_at bigint,
    typing_started_at bigint
)
WITH (autovacuum_vacuum_scale_factor='0.01', autovacuum_vacuum_threshold='1000');


--
-- Name: novaro_claim(bigint, bigint, json, bigint, bigint, text, text[]); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.novaro_claim(p_per_webhook bigint, p_at_ms bigint, p_in_flight json, p_at_most bigint, p_lease_until_ms bigint, p_claimant text, p_working text[]) RETURNS SETOF public.message_requests
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: novaro_run(text[], jsonb); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.novaro_run(statements text[], params jsonb) RETURNS bigint[]
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: agent_avatars; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.agent_avatars (
    agent_id text NOT NULL,
    media_type text NOT NULL,
    image bytea NOT NULL,
    updated_at bigint NOT NULL
);


--
-- Name: agent_contexts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.agent_contexts (
    agent_id text NOT NULL,
    context_id text NOT NULL,
    "position" integer NOT NULL
);


--
-- Name: agents; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.agents (
    seq bigint NOT NULL,
    id text NOT NULL,
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
    max_bubbles integer DEFAULT 3 NOT NULL,
    presence_enabled boolean DEFAULT true NOT NULL,
    mean_session_minutes double precision DEFAULT 10 NOT NULL,
    online_response_times text,
    typing_speed_wpm integer DEFAULT 40,
    greeting text DEFAULT ''::text NOT NULL,
    alternate_greetings text DEFAULT '[]'::text NOT NULL,
    example_messages text DEFAULT ''::text NOT NULL,
    system_prompt text DEFAULT ''::text NOT NULL,
    post_history_instructions text DEFAULT ''::text NOT NULL,
    nickname text,
    tags text DEFAULT '[]'::text NOT NULL,
    creator text DEFAULT ''::text NOT NULL,
    creator_notes text DEFAULT ''::text NOT NULL,
    character_version text DEFAULT ''::text NOT NULL,
    card_extras text,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
);


--
-- Name: agents_seq_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.agents ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.agents_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: chat_group_members; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.chat_group_members (
    group_id text NOT NULL,
    agent_id text NOT NULL,
    "position" integer NOT NULL,
    talkativeness integer NOT NULL
);


--
-- Name: chat_groups; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.chat_groups (
    seq bigint NOT NULL,
    id text NOT NULL,
    account text NOT NULL,
    name text NOT NULL,
    strategy text NOT NULL,
    max_agent_turns integer NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
);


--
-- Name: chat_groups_seq_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.chat_groups ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.chat_groups_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: check_in_rules; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.check_in_rules (
    seq bigint NOT NULL,
    id text NOT NULL,
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


--
-- Name: check_in_rules_seq_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.check_in_rules ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.check_in_rules_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: contexts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.contexts (
    seq bigint NOT NULL,
    id text NOT NULL,
    account text NOT NULL,
    name text NOT NULL,
    content text NOT NULL,
    keys text DEFAULT '[]'::text NOT NULL,
    case_sensitive boolean DEFAULT false NOT NULL,
    secondary_keys text DEFAULT '[]'::text NOT NULL,
    selective boolean DEFAULT false NOT NULL,
    scan_depth integer DEFAULT 4 NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
);


--
-- Name: contexts_seq_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.contexts ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.contexts_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: delivery_attempts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.delivery_attempts (
    seq bigint NOT NULL,
    request_id text NOT NULL,
    attempted_at bigint NOT NULL,
    status_code integer,
    duration_ms integer NOT NULL,
    error text,
    response_body text
);


--
-- Name: delivery_attempts_seq_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.delivery_attempts ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.delivery_attempts_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: message_requests_seq_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.message_requests ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.message_requests_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: presence; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.presence (
    agent_id text NOT NULL,
    conversation_id text NOT NULL,
    online_until_ms bigint NOT NULL
);


--
-- Name: schema_version; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schema_version (
    version integer NOT NULL
);


--
-- Name: tokens; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.tokens (
    id text NOT NULL,
    name text NOT NULL,
    account text NOT NULL,
    token_hash text NOT NULL,
    prefix text NOT NULL,
    created_at bigint NOT NULL,
    last_used_at bigint,
    expires_at bigint,
    revoked_at bigint,
    rate_limit integer,
    lineage text DEFAULT '[]'::text NOT NULL
);


--
-- Name: user_writes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.user_writes (
    agent_id text NOT NULL,
    conversation_id text NOT NULL,
    wrote_at bigint NOT NULL
);


--
-- Name: webhooks; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhooks (
    seq bigint NOT NULL,
    id text NOT NULL,
    account text NOT NULL,
    url text NOT NULL,
    description text NOT NULL,
    enabled boolean NOT NULL,
    disabled_reason text,
    secret text NOT NULL,
    previous_secret text,
    previous_secret_until bigint,
    events text DEFAULT '["reply"]'::text NOT NULL,
    last_success_at bigint,
    failing_since bigint,
    consecutive_failures integer DEFAULT 0 NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
);


--
-- Name: webhooks_seq_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.webhooks ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.webhooks_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Data for Name: agent_avatars; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: agent_contexts; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: agents; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.agents OVERRIDING SYSTEM VALUE VALUES (1, 'agt_01m9a0wf88zt7anwdykmp644xr', 'default', 'Lena', '', NULL, 'Europe/Berlin', 'en', '00:00', '23:59', NULL, NULL, 3, true, 10, NULL, 40, '', '[]', '', '', '', NULL, '[]', '', '', '', NULL, 1796706549, 1796706549);


--
-- Data for Name: chat_group_members; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: chat_groups; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: check_in_rules; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: contexts; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: delivery_attempts; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: message_requests; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.message_requests OVERRIDING SYSTEM VALUE VALUES (1, 'req_01m9a0wf88ng06sfc5ch8x3c60', 'default', 'agt_01m9a0wf88zt7anwdykmp644xr', 'whk_01m9a0wf884hf6407kap6pcyap', 'ref-0', 'scheduled', 1796702949128, 1796702949, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, '{"id":"req_01m9a0wf88ng06sfc5ch8x3c60","status":"scheduled","scheduledFor":1796710149,"agentId":"agt_01m9a0wf88zt7anwdykmp644xr","webhookId":"whk_01m9a0wf884hf6407kap6pcyap","reference":"ref-0","attempts":0,"lastError":null,"lastStatusCode":null,"deliveredAt":null,"createdAt":1796706549,"updatedAt":1796706549,"conversationId":null,"supersededBy":null,"groupId":null,"turn":0,"follows":null,"readAt":null,"typingAt":null}', '[["user", "Are you open tomorrow? (0)", null]]', '[]', NULL, NULL, NULL, false, 1796706549, 1796706549, 1796710149128, NULL, NULL, 0, 0, NULL, NULL, 'reply', NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO public.message_requests OVERRIDING SYSTEM VALUE VALUES (2, 'req_01m9a0wf88y2t7aw8sqx8knpbs', 'default', 'agt_01m9a0wf88zt7anwdykmp644xr', 'whk_01m9a0wf884hf6407kap6pcyap', 'ref-1', 'scheduled', 1796702949141, 1796702949, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, '{"id":"req_01m9a0wf88y2t7aw8sqx8knpbs","status":"scheduled","scheduledFor":1796710149,"agentId":"agt_01m9a0wf88zt7anwdykmp644xr","webhookId":"whk_01m9a0wf884hf6407kap6pcyap","reference":"ref-1","attempts":0,"lastError":null,"lastStatusCode":null,"deliveredAt":null,"createdAt":1796706549,"updatedAt":1796706549,"conversationId":null,"supersededBy":null,"groupId":null,"turn":0,"follows":null,"readAt":null,"typingAt":null}', '[["user", "Are you open tomorrow? (1)", null]]', '[]', NULL, NULL, NULL, false, 1796706549, 1796706549, 1796710149141, NULL, NULL, 0, 0, NULL, NULL, 'reply', NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO public.message_requests OVERRIDING SYSTEM VALUE VALUES (3, 'req_01m9a0wf88k16x3fxtkkge4m0t', 'default', 'agt_01m9a0wf88zt7anwdykmp644xr', 'whk_01m9a0wf884hf6407kap6pcyap', 'ref-2', 'scheduled', 1796702949154, 1796702949, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, '{"id":"req_01m9a0wf88k16x3fxtkkge4m0t","status":"scheduled","scheduledFor":1796710149,"agentId":"agt_01m9a0wf88zt7anwdykmp644xr","webhookId":"whk_01m9a0wf884hf6407kap6pcyap","reference":"ref-2","attempts":0,"lastError":null,"lastStatusCode":null,"deliveredAt":null,"createdAt":1796706549,"updatedAt":1796706549,"conversationId":null,"supersededBy":null,"groupId":null,"turn":0,"follows":null,"readAt":null,"typingAt":null}', '[["user", "Are you open tomorrow? (2)", null]]', '[]', NULL, NULL, NULL, false, 1796706549, 1796706549, 1796710149154, NULL, NULL, 0, 0, NULL, NULL, 'reply', NULL, NULL, NULL, NULL, NULL, NULL, NULL);


--
-- Data for Name: presence; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: schema_version; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.schema_version VALUES (1);
INSERT INTO public.schema_version VALUES (2);
INSERT INTO public.schema_version VALUES (3);
INSERT INTO public.schema_version VALUES (4);
INSERT INTO public.schema_version VALUES (5);
INSERT INTO public.schema_version VALUES (6);
INSERT INTO public.schema_version VALUES (7);
INSERT INTO public.schema_version VALUES (8);


--
-- Data for Name: tokens; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.tokens VALUES ('tok_01m9a0we90jcr2wgbzaaqghp8e', 'first-start', 'default', 'f7bf94a6b8d736da364254ec30d841c320f2b393f2603bf1a3117427cbee98f2', 'nl_3cypN_e', 1796706548, 1796706549, NULL, NULL, NULL, '[]');


--
-- Data for Name: user_writes; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: webhooks; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.webhooks OVERRIDING SYSTEM VALUE VALUES (1, 'whk_01m9a0wf884hf6407kap6pcyap', 'default', 'http://127.0.0.1:9/hook', '', true, NULL, 'whsec_195zalQ05AxVIDJikrgvmYWZyFm60nOi22qZzWEipEo=', NULL, NULL, '["reply"]', NULL, NULL, 0, 1796706549, 1796706549);


--
-- Name: agents_seq_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.agents_seq_seq', 1, true);


--
-- Name: chat_groups_seq_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.chat_groups_seq_seq', 1, false);


--
-- Name: check_in_rules_seq_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.check_in_rules_seq_seq', 1, false);


--
-- Name: contexts_seq_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.contexts_seq_seq', 1, false);


--
-- Name: delivery_attempts_seq_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.delivery_attempts_seq_seq', 1, false);


--
-- Name: message_requests_seq_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.message_requests_seq_seq', 3, true);


--
-- Name: webhooks_seq_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.webhooks_seq_seq', 1, true);


--
-- Name: agent_avatars agent_avatars_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.agent_avatars
    ADD CONSTRAINT agent_avatars_pkey PRIMARY KEY (agent_id);


--
-- Name: agent_contexts agent_contexts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.agent_contexts
    ADD CONSTRAINT agent_contexts_pkey PRIMARY KEY (agent_id, context_id);


--
-- Name: agents agents_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.agents
    ADD CONSTRAINT agents_id_key UNIQUE (id);


--
-- Name: agents agents_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.agents
    ADD CONSTRAINT agents_pkey PRIMARY KEY (seq);


--
-- Name: chat_group_members chat_group_members_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.chat_group_members
    ADD CONSTRAINT chat_group_members_pkey PRIMARY KEY (group_id, agent_id);


--
-- Name: chat_groups chat_groups_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.chat_groups
    ADD CONSTRAINT chat_groups_id_key UNIQUE (id);


--
-- Name: chat_groups chat_groups_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.chat_groups
    ADD CONSTRAINT chat_groups_pkey PRIMARY KEY (seq);


--
-- Name: check_in_rules check_in_rules_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.check_in_rules
    ADD CONSTRAINT check_in_rules_id_key UNIQUE (id);


--
-- Name: check_in_rules check_in_rules_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.check_in_rules
    ADD CONSTRAINT check_in_rules_pkey PRIMARY KEY (seq);


--
-- Name: contexts contexts_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.contexts
    ADD CONSTRAINT contexts_id_key UNIQUE (id);


--
-- Name: contexts contexts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.contexts
    ADD CONSTRAINT contexts_pkey PRIMARY KEY (seq);


--
-- Name: delivery_attempts delivery_attempts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.delivery_attempts
    ADD CONSTRAINT delivery_attempts_pkey PRIMARY KEY (seq);


--
-- Name: message_requests message_requests_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.message_requests
    ADD CONSTRAINT message_requests_id_key UNIQUE (id);


--
-- Name: message_requests message_requests_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.message_requests
    ADD CONSTRAINT message_requests_pkey PRIMARY KEY (seq);


--
-- Name: presence presence_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.presence
    ADD CONSTRAINT presence_pkey PRIMARY KEY (agent_id, conversation_id);


--
-- Name: tokens tokens_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tokens
    ADD CONSTRAINT tokens_pkey PRIMARY KEY (id);


--
-- Name: tokens tokens_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tokens
    ADD CONSTRAINT tokens_token_hash_key UNIQUE (token_hash);


--
-- Name: user_writes user_writes_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.user_writes
    ADD CONSTRAINT user_writes_pkey PRIMARY KEY (agent_id, conversation_id);


--
-- Name: webhooks webhooks_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhooks
    ADD CONSTRAINT webhooks_id_key UNIQUE (id);


--
-- Name: webhooks webhooks_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhooks
    ADD CONSTRAINT webhooks_pkey PRIMARY KEY (seq);


--
-- Name: agent_contexts_by_context; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX agent_contexts_by_context ON public.agent_contexts USING btree (context_id);


--
-- Name: agents_by_account; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX agents_by_account ON public.agents USING btree (account, seq);


--
-- Name: agents_by_name; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX agents_by_name ON public.agents USING btree (account, name);


--
-- Name: chat_group_members_by_agent; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX chat_group_members_by_agent ON public.chat_group_members USING btree (agent_id);


--
-- Name: chat_groups_by_account; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX chat_groups_by_account ON public.chat_groups USING btree (account, seq);


--
-- Name: check_in_rules_active; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX check_in_rules_active ON public.check_in_rules USING btree (next_after) WHERE (status = 'active'::text);


--
-- Name: contexts_by_account; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX contexts_by_account ON public.contexts USING btree (account, seq);


--
-- Name: delivery_attempts_by_request; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX delivery_attempts_by_request ON public.delivery_attempts USING btree (request_id, seq);


--
-- Name: message_requests_by_account; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX message_requests_by_account ON public.message_requests USING btree (account, seq);


--
-- Name: message_requests_check_ins; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX message_requests_check_ins ON public.message_requests USING btree (agent_id, conversation_id, created_at) WHERE (kind = 'check_in'::text);


--
-- Name: message_requests_conversation; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX message_requests_conversation ON public.message_requests USING btree (agent_id, conversation_id) WHERE ((conversation_id IS NOT NULL) AND (status = ANY (ARRAY['scheduled'::text, 'generating'::text, 'delivering'::text])));


--
-- Name: message_requests_due_by_webhook; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX message_requests_due_by_webhook ON public.message_requests USING btree (webhook_id, due_ms) WHERE (status = ANY (ARRAY['scheduled'::text, 'generating'::text, 'delivering'::text]));


--
-- Name: message_requests_finished; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX message_requests_finished ON public.message_requests USING btree (updated_at) WHERE (status = ANY (ARRAY['delivered'::text, 'failed'::text, 'canceled'::text, 'superseded'::text]));


--
-- Name: message_requests_group_conversation; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX message_requests_group_conversation ON public.message_requests USING btree (group_id, conversation_id) WHERE ((group_id IS NOT NULL) AND (status = ANY (ARRAY['scheduled'::text, 'generating'::text, 'delivering'::text])));


--
-- Name: message_requests_idempotency; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX message_requests_idempotency ON public.message_requests USING btree (account, idempotency_key) WHERE (idempotency_key IS NOT NULL);


--
-- Name: message_requests_idempotency_expiry; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX message_requests_idempotency_expiry ON public.message_requests USING btree (created_at) WHERE (request_hash IS NOT NULL);


--
-- Name: message_requests_in_flight; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX message_requests_in_flight ON public.message_requests USING btree (webhook_id, due_ms) WHERE (status = ANY (ARRAY['generating'::text, 'delivering'::text]));


--
-- Name: message_requests_paused; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX message_requests_paused ON public.message_requests USING btree (webhook_id, updated_at) WHERE (status = 'paused'::text);


--
-- Name: message_requests_pending; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX message_requests_pending ON public.message_requests USING btree (due_ms) WHERE (status = ANY (ARRAY['scheduled'::text, 'generating'::text, 'delivering'::text]));


--
-- Name: webhooks_by_account; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX webhooks_by_account ON public.webhooks USING btree (account, seq);


--
-- Name: agent_avatars agent_avatars_agent_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.agent_avatars
    ADD CONSTRAINT agent_avatars_agent_id_fkey FOREIGN KEY (agent_id) REFERENCES public.agents(id) ON DELETE CASCADE;


--
-- Name: agent_contexts agent_contexts_agent_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.agent_contexts
    ADD CONSTRAINT agent_contexts_agent_id_fkey FOREIGN KEY (agent_id) REFERENCES public.agents(id) ON DELETE CASCADE;


--
-- Name: agent_contexts agent_contexts_context_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.agent_contexts
    ADD CONSTRAINT agent_contexts_context_id_fkey FOREIGN KEY (context_id) REFERENCES public.contexts(id);


--
-- Name: chat_group_members chat_group_members_agent_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.chat_group_members
    ADD CONSTRAINT chat_group_members_agent_id_fkey FOREIGN KEY (agent_id) REFERENCES public.agents(id) ON DELETE CASCADE;


--
-- Name: chat_group_members chat_group_members_group_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.chat_group_members
    ADD CONSTRAINT chat_group_members_group_id_fkey FOREIGN KEY (group_id) REFERENCES public.chat_groups(id) ON DELETE CASCADE;


--
-- PostgreSQL database dump complete
--

