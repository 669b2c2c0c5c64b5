-- The security spine in SQL: claims helpers, the narrow SECURITY DEFINER doors,
-- and the row-level security policies of the tables the spine touches (accounts
-- for authentication, schools, events).
--
-- Claims: every API request runs as huey_app inside a transaction that sets
-- `request.jwt.claims` (transaction-local) to
--   {"kind": "user"|"service_account"|"anonymous"|"authenticating", "id": "<uuid>",
--    "user_type": "...", "principals": [...], "school_ids": [...], "child_ids": [...],
--    "is_admin": bool}
-- Only huey_api can become huey_app, and the API sets claims only after verifying
-- a token. The helpers below read the claims and fail closed: no claims, empty
-- claims or a missing key yield NULL / false / an empty array, never access.
-- Policies call them wrapped as (SELECT huey.f()) so they run once per statement.

-- ---------------------------------------------------------------------------
-- Claims helpers (SECURITY INVOKER, STABLE). They name every object with its
-- schema and carry no SET clause, so Postgres inlines them into the policies
-- that call them (a SET clause or SECURITY DEFINER would force a function call,
-- re-planned per statement).

CREATE FUNCTION huey.claims() RETURNS jsonb
  LANGUAGE sql STABLE
AS $$
  SELECT coalesce(nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb, '{}'::jsonb)
$$;

CREATE FUNCTION huey.kind() RETURNS text
  LANGUAGE sql STABLE
AS $$ SELECT huey.claims() ->> 'kind' $$;

-- A verified user or service account (not anonymous, not a sign-in in progress).
CREATE FUNCTION huey.is_authenticated() RETURNS boolean
  LANGUAGE sql STABLE
AS $$ SELECT coalesce(huey.claims() ->> 'kind' IN ('user', 'service_account'), false) $$;

CREATE FUNCTION huey.user_id() RETURNS uuid
  LANGUAGE sql STABLE
AS $$
  SELECT CASE WHEN c ->> 'kind' = 'user' THEN (c ->> 'id')::uuid END FROM (SELECT huey.claims() AS c) x
$$;

CREATE FUNCTION huey.service_account_id() RETURNS uuid
  LANGUAGE sql STABLE
AS $$
  SELECT CASE WHEN c ->> 'kind' = 'service_account' THEN (c ->> 'id')::uuid END FROM (SELECT huey.claims() AS c) x
$$;

-- Wriveted admins and backend service accounts (principal role:admin).
CREATE FUNCTION huey.is_admin() RETURNS boolean
  LANGUAGE sql STABLE
AS $$
  SELECT huey.is_authenticated() AND coalesce(huey.claims() -> 'principals' ? 'role:admin', false)
$$;

CREATE FUNCTION huey.has_principal(p text) RETURNS boolean
  LANGUAGE sql STABLE
AS $$ SELECT huey.is_authenticated() AND coalesce(huey.claims() -> 'principals' ? p, false) $$;

-- The schools the account belongs to (its own school; a service account's linked schools).
CREATE FUNCTION huey.school_ids() RETURNS integer[]
  LANGUAGE sql STABLE
AS $$
  SELECT CASE WHEN huey.is_authenticated() AND pg_catalog.jsonb_typeof(huey.claims() -> 'school_ids') = 'array'
    THEN ARRAY(SELECT pg_catalog.jsonb_array_elements_text(huey.claims() -> 'school_ids')::integer)
    ELSE '{}'::integer[] END
$$;

-- The integer ids of the caller's principals with a prefix, e.g.
-- huey.principal_ids('schooladmin:') = the schools the caller administers.
CREATE FUNCTION huey.principal_ids(prefix text) RETURNS integer[]
  LANGUAGE sql STABLE
AS $$
  SELECT CASE WHEN huey.is_authenticated() AND pg_catalog.jsonb_typeof(huey.claims() -> 'principals') = 'array'
    THEN ARRAY(SELECT pg_catalog.substr(p, pg_catalog.length(prefix) + 1)::integer
               FROM pg_catalog.jsonb_array_elements_text(huey.claims() -> 'principals') p
               WHERE pg_catalog.starts_with(p, prefix) AND pg_catalog.substr(p, pg_catalog.length(prefix) + 1) ~ '^[0-9]{1,9}$')
    ELSE '{}'::integer[] END
$$;

-- UTC wall clock for `timestamp without time zone` columns (domain.md §1).
CREATE FUNCTION huey.utcnow() RETURNS timestamp
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$ SELECT now() AT TIME ZONE 'UTC' $$;

-- The one way events are written (DECISIONS §6), in the caller's transaction and
-- under the caller's row-level security. info always carries `description`.
CREATE FUNCTION huey.record_event(
  p_title text, p_description text, p_level public.eventlevel DEFAULT 'NORMAL',
  p_school_id integer DEFAULT NULL, p_user_id uuid DEFAULT NULL,
  p_service_account_id uuid DEFAULT NULL, p_info jsonb DEFAULT '{}'::jsonb)
RETURNS uuid
  LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_id uuid := gen_random_uuid();
BEGIN
  -- No RETURNING: that would need a SELECT policy on events for the writer.
  INSERT INTO public.events (id, title, level, school_id, user_id, service_account_id, info, "timestamp")
  VALUES (v_id, p_title, p_level, p_school_id, p_user_id, p_service_account_id,
          coalesce(p_info, '{}'::jsonb) || jsonb_build_object('description', coalesce(p_description, '')),
          huey.utcnow());
  RETURN v_id;
END
$$;

ALTER FUNCTION huey.claims() OWNER TO huey_owner;
ALTER FUNCTION huey.kind() OWNER TO huey_owner;
ALTER FUNCTION huey.is_authenticated() OWNER TO huey_owner;
ALTER FUNCTION huey.user_id() OWNER TO huey_owner;
ALTER FUNCTION huey.service_account_id() OWNER TO huey_owner;
ALTER FUNCTION huey.is_admin() OWNER TO huey_owner;
ALTER FUNCTION huey.has_principal(text) OWNER TO huey_owner;
ALTER FUNCTION huey.school_ids() OWNER TO huey_owner;
ALTER FUNCTION huey.principal_ids(text) OWNER TO huey_owner;
ALTER FUNCTION huey.utcnow() OWNER TO huey_owner;
ALTER FUNCTION huey.record_event(text, text, public.eventlevel, integer, uuid, uuid, jsonb) OWNER TO huey_owner;

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA huey FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA huey TO huey_app, huey_staff_ro, huey_staff_rw, huey_definer;
GRANT USAGE ON SCHEMA huey, public TO huey_definer;

-- ---------------------------------------------------------------------------
-- huey_definer: owns the SECURITY DEFINER doors below and holds only what they need.

GRANT SELECT ON public.users, public.readers, public.public_readers, public.students,
  public.educators, public.school_admins, public.wriveted_admins, public.parents,
  public.supporters, public.service_accounts, public.service_account_school_association,
  public.schools, public.class_groups
  TO huey_definer;
GRANT INSERT ON public.users, public.readers, public.public_readers, public.students, public.events
  TO huey_definer;
GRANT UPDATE (info, last_login_at, updated_at) ON public.users TO huey_definer;
GRANT SELECT, UPDATE (parent_id, updated_at) ON public.subscriptions TO huey_definer;

CREATE POLICY users_select_definer ON public.users FOR SELECT TO huey_definer USING (true);
CREATE POLICY readers_select_definer ON public.readers FOR SELECT TO huey_definer USING (true);
CREATE POLICY public_readers_select_definer ON public.public_readers FOR SELECT TO huey_definer USING (true);
CREATE POLICY students_select_definer ON public.students FOR SELECT TO huey_definer USING (true);
CREATE POLICY educators_select_definer ON public.educators FOR SELECT TO huey_definer USING (true);
CREATE POLICY school_admins_select_definer ON public.school_admins FOR SELECT TO huey_definer USING (true);
CREATE POLICY wriveted_admins_select_definer ON public.wriveted_admins FOR SELECT TO huey_definer USING (true);
CREATE POLICY parents_select_definer ON public.parents FOR SELECT TO huey_definer USING (true);
CREATE POLICY supporters_select_definer ON public.supporters FOR SELECT TO huey_definer USING (true);
CREATE POLICY service_accounts_select_definer ON public.service_accounts FOR SELECT TO huey_definer USING (true);
CREATE POLICY service_account_school_association_select_definer ON public.service_account_school_association
  FOR SELECT TO huey_definer USING (true);
CREATE POLICY schools_select_definer ON public.schools FOR SELECT TO huey_definer USING (true);
CREATE POLICY class_groups_select_definer ON public.class_groups FOR SELECT TO huey_definer USING (true);
CREATE POLICY subscriptions_select_definer ON public.subscriptions FOR SELECT TO huey_definer USING (true);
-- sign-up creates public readers (Firebase) and students (class code) only
CREATE POLICY users_insert_definer ON public.users FOR INSERT TO huey_definer
  WITH CHECK (type IN ('PUBLIC', 'STUDENT'));
CREATE POLICY readers_insert_definer ON public.readers FOR INSERT TO huey_definer WITH CHECK (true);
CREATE POLICY public_readers_insert_definer ON public.public_readers FOR INSERT TO huey_definer WITH CHECK (true);
CREATE POLICY students_insert_definer ON public.students FOR INSERT TO huey_definer WITH CHECK (true);
CREATE POLICY events_insert_definer ON public.events FOR INSERT TO huey_definer WITH CHECK (true);
-- sign-in refreshes info.picture / sign_in_provider and last_login_at (column grants above)
CREATE POLICY users_update_definer ON public.users FOR UPDATE TO huey_definer USING (true) WITH CHECK (true);
-- a parent's Firebase sign-in claims the checkout's subscription if it has no parent yet
CREATE POLICY subscriptions_update_definer ON public.subscriptions FOR UPDATE TO huey_definer
  USING (parent_id IS NULL) WITH CHECK (true);

-- ---------------------------------------------------------------------------
-- SECURITY DEFINER doors. Each returns only what its caller needs. They are
-- plpgsql so their plans are cached per connection (SQL-language functions
-- that cannot be inlined are re-planned on every call).

-- The account named by the claims of a sign-in in progress
-- ({"kind":"authenticating","subject_kind":"user"|"service_account","subject_id":"<uuid>"}),
-- with what principals are derived from. A user whose subtype row is missing
-- does not exist (domain.md §3).
CREATE FUNCTION huey.authenticate()
RETURNS TABLE (kind text, id uuid, is_active boolean, user_type text, name text, school_id integer,
               parent_id uuid, child_ids uuid[], service_account_type text, linked_school_ids integer[])
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH subject AS (
      SELECT c ->> 'subject_kind' AS kind, (c ->> 'subject_id')::uuid AS id
      FROM (SELECT huey.claims() AS c) x
      WHERE c ->> 'kind' = 'authenticating'
    )
    SELECT 'user', u.id, u.is_active, u.type::text, u.name::text, coalesce(st.school_id, ed.school_id),
           r.parent_id,
           CASE WHEN u.type = 'PARENT'
             THEN coalesce((SELECT array_agg(c.id ORDER BY c.id) FROM public.readers c WHERE c.parent_id = u.id), '{}')
             ELSE '{}'::uuid[] END,
           NULL::text, '{}'::integer[]
    FROM subject s
    JOIN public.users u ON u.id = s.id AND s.kind = 'user'
    LEFT JOIN public.readers r ON r.id = u.id
    LEFT JOIN public.students st ON st.id = u.id
    LEFT JOIN public.educators ed ON ed.id = u.id
    WHERE CASE u.type
      WHEN 'PUBLIC' THEN r.id IS NOT NULL AND EXISTS (SELECT FROM public.public_readers p WHERE p.id = u.id)
      WHEN 'STUDENT' THEN r.id IS NOT NULL AND st.id IS NOT NULL
      WHEN 'EDUCATOR' THEN ed.id IS NOT NULL
      WHEN 'SCHOOL_ADMIN' THEN ed.id IS NOT NULL AND EXISTS (SELECT FROM public.school_admins a WHERE a.id = u.id)
      WHEN 'WRIVETED' THEN EXISTS (SELECT FROM public.wriveted_admins w WHERE w.id = u.id)
      WHEN 'PARENT' THEN EXISTS (SELECT FROM public.parents p WHERE p.id = u.id)
      WHEN 'SUPPORTER' THEN EXISTS (SELECT FROM public.supporters p WHERE p.id = u.id)
    END
    UNION ALL
    SELECT 'service_account', sa.id, sa.is_active, NULL, sa.name::text, NULL, NULL, '{}'::uuid[], sa.type::text,
           coalesce((SELECT array_agg(a.school_id ORDER BY a.school_id)
                     FROM public.service_account_school_association a WHERE a.service_account_id = sa.id), '{}')
    FROM subject s
    JOIN public.service_accounts sa ON sa.id = s.id AND s.kind = 'service_account';
END
$$;

-- Policy attributes of a school: its integer id (and so, its existence).
CREATE FUNCTION huey.school_attrs(p_wriveted_identifier uuid)
RETURNS TABLE (id integer)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT s.id FROM public.schools s WHERE s.wriveted_identifier = p_wriveted_identifier;
END
$$;

-- Whether a school is a supporter (has an active subscription), for its bot.
CREATE FUNCTION huey.school_supporter(p_wriveted_identifier uuid) RETURNS boolean
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
  RETURN (SELECT EXISTS (SELECT FROM public.subscriptions x
                   WHERE x.school_id = p_wriveted_identifier AND x.is_active));
END
$$;

-- Policy attributes of a user account: type, school and parent.
CREATE FUNCTION huey.user_attrs(p_id uuid)
RETURNS TABLE (user_type text, school_id integer, parent_id uuid)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT u.type::text, coalesce(st.school_id, ed.school_id), r.parent_id
    FROM public.users u
    LEFT JOIN public.readers r ON r.id = u.id
    LEFT JOIN public.students st ON st.id = u.id
    LEFT JOIN public.educators ed ON ed.id = u.id
    WHERE u.id = p_id;
END
$$;

-- Student sign-in with a class joining code (api.md §2.2, F12 hardened).
-- outcome: 'ok' | 'unauthorized' | 'invalid_class'. A student of an inactive
-- school, an inactive student, an unknown code or username: 'unauthorized'.
CREATE FUNCTION huey.class_code_login(p_join_code text, p_username text)
RETURNS TABLE (outcome text, user_id uuid, school_id integer)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_school integer;
  v_state public.schoolstate;
  v_found boolean;
  v_user uuid;
  v_active boolean;
BEGIN
  SELECT s.id, s.state, true INTO v_school, v_state, v_found
  FROM public.class_groups g LEFT JOIN public.schools s ON s.wriveted_identifier = g.school_id
  WHERE g.join_code = p_join_code
  ORDER BY g.created_at LIMIT 1;
  IF NOT coalesce(v_found, false) THEN
    RETURN QUERY SELECT 'unauthorized'::text, NULL::uuid, NULL::integer; RETURN;
  END IF;
  IF v_school IS NULL THEN
    RETURN QUERY SELECT 'invalid_class'::text, NULL::uuid, NULL::integer; RETURN;
  END IF;
  SELECT u.id, u.is_active INTO v_user, v_active
  FROM public.students st JOIN public.users u ON u.id = st.id
  WHERE st.school_id = v_school AND lower(st.username) = lower(p_username)
  ORDER BY u.created_at LIMIT 1;
  IF v_user IS NULL OR NOT v_active OR v_state <> 'ACTIVE' THEN
    RETURN QUERY SELECT 'unauthorized'::text, NULL::uuid, NULL::integer; RETURN;
  END IF;
  RETURN QUERY SELECT 'ok'::text, v_user, v_school;
END
$$;

-- Student self-registration with a class code (api.md §2.2, F12 hardened: an
-- unknown code, a class of another school and an inactive school are refused).
-- outcome: 'ok' | 'school_not_found' | 'unauthorized' | 'username_exhausted'.
CREATE FUNCTION huey.register_student(p_school uuid, p_join_code text, p_first_name text, p_last_name_initial text)
RETURNS TABLE (outcome text, user_id uuid, username text, school_id integer, school_name text,
               official_identifier text, country_code text)
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_school integer;
  v_state public.schoolstate;
  v_name text;
  v_official text;
  v_country text;
  v_class uuid;
  v_base text;
  v_username text;
  v_id uuid := gen_random_uuid();
  v_now timestamp := huey.utcnow();
BEGIN
  SELECT s.id, s.state, s.name, s.official_identifier, s.country_code
    INTO v_school, v_state, v_name, v_official, v_country
  FROM public.schools s WHERE s.wriveted_identifier = p_school;
  IF v_school IS NULL THEN
    RETURN QUERY SELECT 'school_not_found'::text, NULL::uuid, NULL::text, NULL::integer, NULL::text, NULL::text, NULL::text; RETURN;
  END IF;
  SELECT g.id INTO v_class FROM public.class_groups g
  WHERE g.join_code = p_join_code AND g.school_id = p_school ORDER BY g.created_at LIMIT 1;
  IF v_class IS NULL OR v_state <> 'ACTIVE' THEN
    RETURN QUERY SELECT 'unauthorized'::text, NULL::uuid, NULL::text, NULL::integer, NULL::text, NULL::text, NULL::text; RETURN;
  END IF;
  v_base := replace(p_first_name || p_last_name_initial, ' ', '');
  FOR i IN 1..1000 LOOP
    v_username := v_base || (10 + floor(random() * 90))::integer::text;
    EXIT WHEN NOT EXISTS (SELECT FROM public.students st
                          WHERE st.school_id = v_school AND lower(st.username) = lower(v_username));
    v_username := NULL;
  END LOOP;
  IF v_username IS NULL THEN
    RETURN QUERY SELECT 'username_exhausted'::text, NULL::uuid, NULL::text, NULL::integer, NULL::text, NULL::text, NULL::text; RETURN;
  END IF;
  INSERT INTO public.users (id, is_active, name, info, created_at, updated_at, type, newsletter)
  VALUES (v_id, true, p_first_name || ' ' || p_last_name_initial, '{"sign_in_provider": "class-code"}',
          v_now, v_now, 'STUDENT', false);
  INSERT INTO public.readers (id, huey_attributes, first_name, last_name_initial)
  VALUES (v_id, '{}', p_first_name, p_last_name_initial);
  INSERT INTO public.students (id, school_id, student_info, class_group_id, username)
  VALUES (v_id, v_school, '{}', v_class, v_username);
  PERFORM huey.record_event('Student account created', 'User type: UserAccountType.STUDENT',
                            'NORMAL', v_school, v_id, NULL, '{}'::jsonb);
  RETURN QUERY SELECT 'ok'::text, v_id, v_username, v_school, v_name, v_official, v_country;
END
$$;

-- Firebase sign-in (api.md §2.2): find the user by e-mail, or create a public
-- reader when p_create; refresh picture, provider and last_login_at; record the
-- event; let a parent claim the subscription of its checkout.
-- outcome: 'ok' | 'created' | 'no_account' | 'inactive'.
CREATE FUNCTION huey.firebase_login(p_email text, p_name text, p_picture text, p_provider text,
                                    p_create boolean, p_checkout_session_id text)
RETURNS TABLE (outcome text, user_id uuid)
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_id uuid;
  v_active boolean;
  v_type public.enum_user_account_type;
  v_outcome text := 'ok';
  v_now timestamp := huey.utcnow();
  v_first text;
  v_last text;
BEGIN
  SELECT u.id, u.is_active, u.type INTO v_id, v_active, v_type FROM public.users u WHERE u.email = p_email;
  IF v_id IS NULL THEN
    IF NOT p_create THEN
      RETURN QUERY SELECT 'no_account'::text, NULL::uuid; RETURN;
    END IF;
    v_id := gen_random_uuid();
    v_active := true;
    v_type := 'PUBLIC';
    v_outcome := 'created';
    v_first := split_part(btrim(p_name), ' ', 1);
    v_last := left(regexp_replace(btrim(p_name), '^.*\s', ''), 1);
    INSERT INTO public.users (id, is_active, email, name, info, created_at, updated_at, type, newsletter)
    VALUES (v_id, true, p_email, p_name,
            jsonb_strip_nulls(jsonb_build_object('sign_in_provider', p_provider, 'picture', p_picture)),
            v_now, v_now, 'PUBLIC', false);
    INSERT INTO public.readers (id, huey_attributes, first_name, last_name_initial)
    VALUES (v_id, '{}', nullif(v_first, ''), nullif(v_last, ''));
    INSERT INTO public.public_readers (id, reader_info) VALUES (v_id, '{}');
    PERFORM huey.record_event('User account created', 'User ' || p_name || ' created an account',
                              'NORMAL', NULL, v_id, NULL, '{}'::jsonb);
  END IF;
  IF NOT v_active THEN
    RETURN QUERY SELECT 'inactive'::text, v_id; RETURN;
  END IF;
  IF v_outcome = 'ok' THEN
    PERFORM huey.record_event('User logged in', 'User ' || p_name || ' logged in', 'DEBUG',
                              NULL, v_id, NULL, '{}'::jsonb);
  END IF;
  UPDATE public.users u
  SET info = coalesce(u.info, '{}'::jsonb)
             || jsonb_build_object('sign_in_provider', p_provider, 'picture', p_picture),
      last_login_at = v_now
  WHERE u.id = v_id;
  IF v_type = 'PARENT' AND p_checkout_session_id IS NOT NULL THEN
    UPDATE public.subscriptions s SET parent_id = v_id, updated_at = v_now
    WHERE s.latest_checkout_session_id = p_checkout_session_id AND s.parent_id IS NULL;
  END IF;
  RETURN QUERY SELECT v_outcome, v_id;
END
$$;

-- (ALTER … OWNER needs the new owner to hold CREATE on the schema; only for these statements.)
GRANT CREATE ON SCHEMA huey TO huey_definer;
ALTER FUNCTION huey.authenticate() OWNER TO huey_definer;
ALTER FUNCTION huey.school_attrs(uuid) OWNER TO huey_definer;
ALTER FUNCTION huey.user_attrs(uuid) OWNER TO huey_definer;
ALTER FUNCTION huey.school_supporter(uuid) OWNER TO huey_definer;
ALTER FUNCTION huey.class_code_login(text, text) OWNER TO huey_definer;
ALTER FUNCTION huey.register_student(uuid, text, text, text) OWNER TO huey_definer;
ALTER FUNCTION huey.firebase_login(text, text, text, text, boolean, text) OWNER TO huey_definer;
REVOKE CREATE ON SCHEMA huey FROM huey_definer;
REVOKE EXECUTE ON FUNCTION huey.authenticate(), huey.school_attrs(uuid), huey.user_attrs(uuid), huey.school_supporter(uuid),
  huey.class_code_login(text, text),
  huey.register_student(uuid, text, text, text), huey.firebase_login(text, text, text, text, boolean, text)
  FROM PUBLIC, huey_staff_ro, huey_staff_rw, huey_definer;
GRANT EXECUTE ON FUNCTION huey.authenticate(), huey.school_attrs(uuid), huey.user_attrs(uuid), huey.school_supporter(uuid),
  huey.class_code_login(text, text),
  huey.register_student(uuid, text, text, text), huey.firebase_login(text, text, text, text, boolean, text)
  TO huey_app;

-- ---------------------------------------------------------------------------
-- Admins (role:admin: wriveted admin users, backend service accounts) may act on
-- every row of every table the API uses, as in the original. One policy per
-- command and table, named <table>_<command>_admin.

DO $$
DECLARE
  t text;
  cmd text;
BEGIN
  FOREACH t IN ARRAY ARRAY[
    'users', 'readers', 'public_readers', 'students', 'educators', 'school_admins',
    'wriveted_admins', 'parents', 'supporters', 'supporter_reader_association',
    'service_accounts', 'service_account_school_association', 'schools', 'class_groups',
    'authors', 'illustrators', 'series', 'works', 'editions', 'author_work_association',
    'illustrator_edition_association', 'series_works_association', 'labelsets',
    'labelset_hue_association', 'labelset_reading_ability_association', 'collections',
    'collection_items', 'collection_item_activity_log', 'book_lists', 'book_list_works', 'events',
    'products', 'subscriptions']
  LOOP
    FOREACH cmd IN ARRAY ARRAY['select', 'insert', 'update', 'delete'] LOOP
      IF has_table_privilege('huey_app', 'public.' || t, cmd) THEN
        EXECUTE format(
          CASE cmd
            WHEN 'insert' THEN 'CREATE POLICY %1$I ON public.%2$I FOR INSERT TO huey_app WITH CHECK ((SELECT huey.is_admin()))'
            WHEN 'update' THEN 'CREATE POLICY %1$I ON public.%2$I FOR UPDATE TO huey_app USING ((SELECT huey.is_admin())) WITH CHECK ((SELECT huey.is_admin()))'
            ELSE 'CREATE POLICY %1$I ON public.%2$I FOR ' || upper(cmd) || ' TO huey_app USING ((SELECT huey.is_admin()))'
          END, t || '_' || cmd || '_admin', t);
      END IF;
    END LOOP;
  END LOOP;
END
$$;

-- ---------------------------------------------------------------------------
-- Accounts: every account reads itself; a parent reads its children.

CREATE POLICY users_select_self ON public.users FOR SELECT TO huey_app
  USING (id = (SELECT huey.user_id()));
CREATE POLICY users_select_children ON public.users FOR SELECT TO huey_app
  USING (id = ANY (ARRAY(SELECT jsonb_array_elements_text((SELECT huey.claims()) -> 'child_ids')::uuid))
         AND (SELECT huey.kind()) = 'user');
CREATE POLICY users_select_parent ON public.users FOR SELECT TO huey_app
  USING (id IN (SELECT r.parent_id FROM public.readers r WHERE r.id = (SELECT huey.user_id())));
CREATE POLICY readers_select_self ON public.readers FOR SELECT TO huey_app
  USING (id = (SELECT huey.user_id()));
CREATE POLICY readers_select_children ON public.readers FOR SELECT TO huey_app
  USING (parent_id = (SELECT huey.user_id()));
CREATE POLICY public_readers_select_self ON public.public_readers FOR SELECT TO huey_app
  USING (id = (SELECT huey.user_id()));
CREATE POLICY students_select_self ON public.students FOR SELECT TO huey_app
  USING (id = (SELECT huey.user_id()));
CREATE POLICY educators_select_self ON public.educators FOR SELECT TO huey_app
  USING (id = (SELECT huey.user_id()));
CREATE POLICY school_admins_select_self ON public.school_admins FOR SELECT TO huey_app
  USING (id = (SELECT huey.user_id()));
CREATE POLICY wriveted_admins_select_self ON public.wriveted_admins FOR SELECT TO huey_app
  USING (id = (SELECT huey.user_id()));
CREATE POLICY parents_select_self ON public.parents FOR SELECT TO huey_app
  USING (id = (SELECT huey.user_id()));
CREATE POLICY supporters_select_self ON public.supporters FOR SELECT TO huey_app
  USING (id = (SELECT huey.user_id()));
CREATE POLICY service_accounts_select_self ON public.service_accounts FOR SELECT TO huey_app
  USING (id = (SELECT huey.service_account_id()));
CREATE POLICY service_account_school_association_select_self ON public.service_account_school_association
  FOR SELECT TO huey_app USING (service_account_id = (SELECT huey.service_account_id()));
-- A signed-in user's own row is refreshed on sign-in (last_login_at). Which
-- columns a non-admin may change is decided by the policy layer (F1) before this.
CREATE POLICY users_update_self ON public.users FOR UPDATE TO huey_app
  USING (id = (SELECT huey.user_id())) WITH CHECK (id = (SELECT huey.user_id()));

-- A school's staff accounts (its educators and school admins) are visible to the
-- school's own school admins and to the service accounts linked to it (F7).
CREATE POLICY users_select_school_staff ON public.users FOR SELECT TO huey_app
  USING (id IN (SELECT e.id FROM public.educators e
                WHERE e.school_id = ANY ((SELECT huey.principal_ids('schooladmin:')) || (SELECT huey.principal_ids('school:')))));
CREATE POLICY educators_select_school_staff ON public.educators FOR SELECT TO huey_app
  USING (school_id = ANY ((SELECT huey.principal_ids('schooladmin:')) || (SELECT huey.principal_ids('school:'))));
CREATE POLICY school_admins_select_school_staff ON public.school_admins FOR SELECT TO huey_app
  USING (id IN (SELECT e.id FROM public.educators e));

-- Staff scripts: read-only staff read accounts; the editor creates admin users
-- (get-auth-token -create-admin).
CREATE POLICY users_select_staff ON public.users FOR SELECT TO huey_staff_ro, huey_staff_rw USING (true);
CREATE POLICY wriveted_admins_select_staff ON public.wriveted_admins FOR SELECT TO huey_staff_ro, huey_staff_rw USING (true);
CREATE POLICY service_accounts_select_staff ON public.service_accounts FOR SELECT TO huey_staff_ro, huey_staff_rw USING (true);
CREATE POLICY users_insert_staff ON public.users FOR INSERT TO huey_staff_rw WITH CHECK (type = 'WRIVETED');
CREATE POLICY users_update_staff ON public.users FOR UPDATE TO huey_staff_rw
  USING (type = 'WRIVETED') WITH CHECK (type = 'WRIVETED');
CREATE POLICY wriveted_admins_insert_staff ON public.wriveted_admins FOR INSERT TO huey_staff_rw WITH CHECK (true);

-- ---------------------------------------------------------------------------
-- Schools (access.md §6.2, §7.1 with F2, F4, F18 fixed).

-- Every signed-in account lists schools (the school selector); responses redact
-- state and collection for callers without `details` / `read-collection`.
CREATE POLICY schools_select_authenticated ON public.schools FOR SELECT TO huey_app
  USING ((SELECT huey.is_authenticated()));
-- F4: a signed-in account other than an LMS may create a school, which starts inactive.
CREATE POLICY schools_insert_onboarding ON public.schools FOR INSERT TO huey_app
  WITH CHECK ((SELECT huey.is_authenticated())
              AND NOT (SELECT huey.has_principal('role:lms'))
              AND state = 'INACTIVE');
-- The school's own school admins, and service accounts linked to it (F2), update it.
CREATE POLICY schools_update_managers ON public.schools FOR UPDATE TO huey_app
  USING (id = ANY ((SELECT huey.principal_ids('schooladmin:')) || (SELECT huey.principal_ids('school:'))))
  WITH CHECK (id = ANY ((SELECT huey.principal_ids('schooladmin:')) || (SELECT huey.principal_ids('school:'))));
-- F18: only admins delete a school (schools_delete_admin above).
CREATE POLICY schools_select_staff ON public.schools FOR SELECT TO huey_staff_ro, huey_staff_rw USING (true);
CREATE POLICY schools_insert_staff ON public.schools FOR INSERT TO huey_staff_rw WITH CHECK (true);
CREATE POLICY schools_update_staff ON public.schools FOR UPDATE TO huey_staff_rw USING (true) WITH CHECK (true);

-- A school's subscription is visible to its managers; a parent sees its own.
CREATE POLICY subscriptions_select_school_managers ON public.subscriptions FOR SELECT TO huey_app
  USING (school_id IN (SELECT s.wriveted_identifier FROM public.schools s
                       WHERE s.id = ANY ((SELECT huey.principal_ids('schooladmin:')) || (SELECT huey.principal_ids('school:')))));
CREATE POLICY subscriptions_select_parent ON public.subscriptions FOR SELECT TO huey_app
  USING (parent_id = (SELECT huey.user_id()));
CREATE POLICY products_select_authenticated ON public.products FOR SELECT TO huey_app
  USING ((SELECT huey.is_authenticated()));

-- Collections: one's own, and a school's for its managers (read-collection).
CREATE POLICY collections_select_own ON public.collections FOR SELECT TO huey_app
  USING (user_id = (SELECT huey.user_id()));
CREATE POLICY collections_select_school_managers ON public.collections FOR SELECT TO huey_app
  USING (school_id IN (SELECT s.wriveted_identifier FROM public.schools s
                       WHERE s.id = ANY ((SELECT huey.principal_ids('schooladmin:')) || (SELECT huey.principal_ids('school:')))));
CREATE POLICY collection_items_select_visible_collection ON public.collection_items FOR SELECT TO huey_app
  USING (collection_id IN (SELECT c.id FROM public.collections c));

-- Booklists (access.md §6.6): one's own; a school's for its staff and linked
-- accounts; School lists for its students.
CREATE POLICY book_lists_select_own ON public.book_lists FOR SELECT TO huey_app
  USING (user_id = (SELECT huey.user_id()));
CREATE POLICY book_lists_select_school_staff ON public.book_lists FOR SELECT TO huey_app
  USING (school_id = ANY ((SELECT huey.principal_ids('educator:')) || (SELECT huey.principal_ids('school:'))));
CREATE POLICY book_lists_select_school_students ON public.book_lists FOR SELECT TO huey_app
  USING (type = 'SCHOOL' AND school_id = ANY ((SELECT huey.principal_ids('student:'))::integer[]));
CREATE POLICY book_list_works_select_visible_list ON public.book_list_works FOR SELECT TO huey_app
  USING (booklist_id IN (SELECT b.id FROM public.book_lists b));

-- ---------------------------------------------------------------------------
-- Events: recorded by the acting account, in the transaction of the change.
CREATE POLICY events_insert_actor ON public.events FOR INSERT TO huey_app
  WITH CHECK ((SELECT huey.is_authenticated())
              AND (user_id IS NULL OR user_id = (SELECT huey.user_id()))
              AND (service_account_id IS NULL OR service_account_id = (SELECT huey.service_account_id())));
