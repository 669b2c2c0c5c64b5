-- Events log and the task queue's delivery (api.md §2.13–§2.14, tasks.md).
--
-- 1. Who reads events: the event ACL of access.md §6.7 as row security, so a
--    list is filtered before it is paged (F14) and event-types names only
--    titles the caller may read. Rule 5 (supporters read the reading-log
--    events of a reader they actively support) is the intended behaviour of
--    §2.14 (F20): the association is looked up by a SECURITY DEFINER door,
--    since supporters cannot read the association table itself.
-- 2. Who records events about another account: admins (the spine), a parent
--    for its children, school admins for their school's accounts, and a
--    supporter's feedback notification to a reader it actively supports.
--    Rego decides `update` on the user first (policies/event.rego); this is
--    the backstop.
-- 3. The task queue learns the states of delivery: `dispatched` (handed to
--    Cloud Tasks, which owns the retries) and a stored `result`, so a
--    redelivered task answers what its one run answered (F-T6).
-- 4. The account background work acts as: a backend service account (the
--    original's GPT labelling account id), created if the database lacks it.

-- ---------------------------------------------------------------------------
-- 1. Reading events

-- The readers the calling user actively supports.
CREATE FUNCTION huey.supported_reader_ids() RETURNS uuid[]
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF NOT huey.is_authenticated() OR huey.user_id() IS NULL THEN
    RETURN '{}'::uuid[];
  END IF;
  RETURN ARRAY(SELECT a.reader_id FROM public.supporter_reader_association a
               WHERE a.supporter_id = huey.user_id() AND a.is_active);
END
$$;

-- Policy attributes of one event (the feedback routes decide on them): its
-- title, school (integer id), user, and whether the caller actively supports
-- that user. Nothing else of the event leaves this door.
CREATE FUNCTION huey.event_attrs(p_event_id uuid)
RETURNS TABLE (title text, school_id integer, user_id uuid, supported boolean)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT e.title::text, e.school_id, e.user_id,
         e.user_id IS NOT NULL AND e.user_id = ANY (huey.supported_reader_ids())
  FROM public.events e WHERE e.id = p_event_id;
END
$$;

-- What a supporter's feedback page shows of a reading-log event (api.md
-- §2.14): only to a caller that actively supports the event's reader, and
-- only for reading-log events.
CREATE FUNCTION huey.reading_feedback_context(p_event_id uuid)
RETURNS TABLE (reader_id uuid, reader_name text, supporter_nickname text, book_title text, cover_url text)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT u.id, u.name::text, a.supporter_nickname::text,
         coalesce(ed.title, w.title, ed.isbn)::text, ed.cover_url::text
  FROM public.events e
  JOIN public.users u ON u.id = e.user_id
  JOIN public.supporter_reader_association a
    ON a.reader_id = e.user_id AND a.supporter_id = huey.user_id() AND a.is_active
  LEFT JOIN public.collection_items ci
    ON (e.info ->> 'collection_item_id') ~ '^[0-9]{1,9}$' AND ci.id = (e.info ->> 'collection_item_id')::integer
  LEFT JOIN public.editions ed ON ed.isbn = ci.edition_isbn
  LEFT JOIN public.works w ON w.id = ed.work_id
  WHERE e.id = p_event_id AND starts_with(e.title, 'Reader timeline event:');
END
$$;

-- (collection_items and editions are readable by huey_definer since 20261127000006)
GRANT SELECT ON public.supporter_reader_association, public.events, public.works TO huey_definer;
CREATE POLICY supporter_reader_association_select_definer ON public.supporter_reader_association
  FOR SELECT TO huey_definer USING (true);
CREATE POLICY events_select_definer ON public.events FOR SELECT TO huey_definer USING (true);
CREATE POLICY works_select_definer ON public.works FOR SELECT TO huey_definer USING (true);

GRANT CREATE ON SCHEMA huey TO huey_definer;
ALTER FUNCTION huey.supported_reader_ids() OWNER TO huey_definer;
ALTER FUNCTION huey.event_attrs(uuid) OWNER TO huey_definer;
ALTER FUNCTION huey.reading_feedback_context(uuid) OWNER TO huey_definer;
REVOKE CREATE ON SCHEMA huey FROM huey_definer;
REVOKE EXECUTE ON FUNCTION huey.supported_reader_ids(), huey.event_attrs(uuid), huey.reading_feedback_context(uuid)
  FROM PUBLIC, huey_staff_ro, huey_staff_rw, huey_definer;
GRANT EXECUTE ON FUNCTION huey.supported_reader_ids(), huey.event_attrs(uuid), huey.reading_feedback_context(uuid)
  TO huey_app;

-- The event ACL (access.md §6.7); rule 1 (admins) is the spine's events_select_admin.
-- 2. educator:{school_id} (school admins hold educator: too)
CREATE POLICY events_select_school_educators ON public.events FOR SELECT TO huey_app
  USING (school_id = ANY ((SELECT huey.principal_ids('educator:'))::integer[]));
-- 3. user:{user_id}
CREATE POLICY events_select_own ON public.events FOR SELECT TO huey_app
  USING (user_id = (SELECT huey.user_id()));
-- 4. parent:{user_id}
CREATE POLICY events_select_children ON public.events FOR SELECT TO huey_app
  USING (user_id = ANY (ARRAY(SELECT jsonb_array_elements_text((SELECT huey.claims()) -> 'child_ids')::uuid))
         AND (SELECT huey.kind()) = 'user');
-- 5. supporter:{user_id} on reading-log events (F20: supporters actively associated)
CREATE POLICY events_select_supported_reading_logs ON public.events FOR SELECT TO huey_app
  USING (starts_with(title, 'Reader timeline event:')
         AND user_id = ANY ((SELECT huey.supported_reader_ids())::uuid[]));
-- Staff scripts read the log.
CREATE POLICY events_select_staff ON public.events FOR SELECT TO huey_staff_ro, huey_staff_rw USING (true);

CREATE INDEX ix_events_user_timestamp ON public.events USING btree (user_id, "timestamp" DESC) WHERE (user_id IS NOT NULL);
CREATE INDEX ix_events_school_timestamp ON public.events USING btree (school_id, "timestamp" DESC) WHERE (school_id IS NOT NULL);

-- ---------------------------------------------------------------------------
-- 2. Recording events about another account

-- a parent for its children; a school admin for its school's accounts
CREATE POLICY events_insert_for_managed_user ON public.events FOR INSERT TO huey_app
  WITH CHECK ((SELECT huey.is_authenticated())
              AND (service_account_id IS NULL OR service_account_id = (SELECT huey.service_account_id()))
              AND (user_id = ANY (ARRAY(SELECT jsonb_array_elements_text((SELECT huey.claims()) -> 'child_ids')::uuid))
                   OR huey.account_school_id(user_id) = ANY ((SELECT huey.admin_school_ids())::integer[])));
-- a supporter's feedback notification to a reader it actively supports (api.md §2.14)
CREATE POLICY events_insert_supporter_feedback ON public.events FOR INSERT TO huey_app
  WITH CHECK (title = 'Notification: Supporter left feedback' AND service_account_id IS NULL
              AND user_id = ANY ((SELECT huey.supported_reader_ids())::uuid[]));

-- ---------------------------------------------------------------------------
-- 3. Task delivery states

ALTER TABLE public.task_queue DROP CONSTRAINT ck_task_queue_status;
ALTER TABLE public.task_queue ADD CONSTRAINT ck_task_queue_status
  CHECK (status IN ('pending', 'running', 'dispatched', 'done', 'failed', 'dead'));
ALTER TABLE public.task_queue ADD COLUMN result jsonb;
-- a running task whose lease (run_after) expired is claimed again
CREATE INDEX ix_task_queue_running ON public.task_queue (run_after) WHERE status = 'running';

-- ---------------------------------------------------------------------------
-- 4. The background-work account

ALTER TABLE public.service_accounts NO FORCE ROW LEVEL SECURITY;
INSERT INTO public.service_accounts (id, name, is_active, type, info, created_at, updated_at)
VALUES ('2c092595-76e8-4ba9-9340-37b7237d6b59', 'Huey background tasks', true, 'BACKEND',
        '{"purpose": "acts for the internal task server (tasks/)"}', now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
ON CONFLICT (id) DO NOTHING;
ALTER TABLE public.service_accounts FORCE ROW LEVEL SECURITY;
