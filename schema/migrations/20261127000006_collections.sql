-- Collections (api.md §2.11; domain.md §8; access.md §6.4–§6.5 with F2, F5 and
-- F16 fixed). Who may do what is decided first by policies/collection.rego;
-- these policies make the same rule hold for any statement huey_app runs:
--   * a user collection: its owner and the owner's parents read and write it;
--   * a school collection: the school's school admins and the LMS accounts
--     linked to the school (role:lms + school:<id>, F2) read and write it; other
--     accounts linked to the school (school:<id>) read it (the spine's
--     collections_select_school_managers);
--   * items and their activity follow their collection; the school's staff
--     (educator:<id>, F5: the integer id) read its items;
--   * admins everything (the spine's <table>_<command>_admin policies).

-- ---------------------------------------------------------------------------
-- Helpers, SECURITY INVOKER and inlinable (see the spine).

-- The schools whose collection the caller may write: its school admins', and
-- for an LMS account its linked schools (F2).
CREATE FUNCTION huey.collection_writer_school_ids() RETURNS integer[]
  LANGUAGE sql STABLE
AS $$
  SELECT huey.principal_ids('schooladmin:')
      || CASE WHEN huey.has_principal('role:lms') THEN huey.principal_ids('school:') ELSE '{}'::integer[] END
$$;

-- The user collections' owners the caller may write: itself and its children.
CREATE FUNCTION huey.collection_writer_user_ids() RETURNS uuid[]
  LANGUAGE sql STABLE
AS $$
  SELECT CASE WHEN huey.user_id() IS NULL THEN huey.child_ids() ELSE huey.user_id() || huey.child_ids() END
$$;

-- Recursive merge of two JSON objects (api.md §2.11: an update deep-merges
-- the provided info into the stored one); anything but two objects: b wins.
CREATE FUNCTION huey.jsonb_merge_deep(a jsonb, b jsonb) RETURNS jsonb
  LANGUAGE sql IMMUTABLE
AS $$
  SELECT CASE WHEN pg_catalog.jsonb_typeof(a) = 'object' AND pg_catalog.jsonb_typeof(b) = 'object' THEN
    (SELECT coalesce(pg_catalog.jsonb_object_agg(k,
              CASE WHEN a ? k AND b ? k THEN huey.jsonb_merge_deep(a -> k, b -> k)
                   WHEN b ? k THEN b -> k ELSE a -> k END), '{}'::jsonb)
     FROM (SELECT pg_catalog.jsonb_object_keys(a) UNION SELECT pg_catalog.jsonb_object_keys(b)) ks(k))
  ELSE coalesce(b, a) END
$$;

ALTER FUNCTION huey.collection_writer_school_ids() OWNER TO huey_owner;
ALTER FUNCTION huey.collection_writer_user_ids() OWNER TO huey_owner;
ALTER FUNCTION huey.jsonb_merge_deep(jsonb, jsonb) OWNER TO huey_owner;
REVOKE EXECUTE ON FUNCTION huey.collection_writer_school_ids(), huey.collection_writer_user_ids(),
  huey.jsonb_merge_deep(jsonb, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION huey.collection_writer_school_ids(), huey.collection_writer_user_ids(),
  huey.jsonb_merge_deep(jsonb, jsonb) TO huey_app, huey_staff_ro, huey_staff_rw, huey_definer;

-- ---------------------------------------------------------------------------
-- Collections.

-- A parent reads its children's collections (the owner's are the spine's).
CREATE POLICY collections_select_children ON public.collections FOR SELECT TO huey_app
  USING (user_id = ANY ((SELECT huey.child_ids())::uuid[]));
CREATE POLICY collections_insert_owner ON public.collections FOR INSERT TO huey_app
  WITH CHECK ((user_id IS NOT NULL AND school_id IS NULL
               AND user_id = ANY ((SELECT huey.collection_writer_user_ids())::uuid[]))
           OR (school_id IS NOT NULL AND user_id IS NULL
               AND school_id = ANY ((SELECT huey.school_uuids(huey.collection_writer_school_ids()))::uuid[])));
CREATE POLICY collections_update_owner ON public.collections FOR UPDATE TO huey_app
  USING (user_id = ANY ((SELECT huey.collection_writer_user_ids())::uuid[])
         OR school_id = ANY ((SELECT huey.school_uuids(huey.collection_writer_school_ids()))::uuid[]))
  WITH CHECK ((user_id IS NOT NULL AND school_id IS NULL
               AND user_id = ANY ((SELECT huey.collection_writer_user_ids())::uuid[]))
           OR (school_id IS NOT NULL AND user_id IS NULL
               AND school_id = ANY ((SELECT huey.school_uuids(huey.collection_writer_school_ids()))::uuid[])));
CREATE POLICY collections_delete_owner ON public.collections FOR DELETE TO huey_app
  USING (user_id = ANY ((SELECT huey.collection_writer_user_ids())::uuid[])
         OR school_id = ANY ((SELECT huey.school_uuids(huey.collection_writer_school_ids()))::uuid[]));

-- F5: a school's staff read its collection's items (not the collection itself).
CREATE POLICY collection_items_select_school_staff ON public.collection_items FOR SELECT TO huey_app
  USING (collection_id IN (SELECT c.id FROM public.collections c
                           WHERE c.school_id = ANY ((SELECT huey.school_uuids(huey.staff_school_ids()))::uuid[])));
-- Items are written by whoever may write their collection.
CREATE POLICY collection_items_insert_owner ON public.collection_items FOR INSERT TO huey_app
  WITH CHECK (collection_id IN (SELECT c.id FROM public.collections c
    WHERE c.user_id = ANY ((SELECT huey.collection_writer_user_ids())::uuid[])
       OR c.school_id = ANY ((SELECT huey.school_uuids(huey.collection_writer_school_ids()))::uuid[])));
CREATE POLICY collection_items_update_owner ON public.collection_items FOR UPDATE TO huey_app
  USING (collection_id IN (SELECT c.id FROM public.collections c
    WHERE c.user_id = ANY ((SELECT huey.collection_writer_user_ids())::uuid[])
       OR c.school_id = ANY ((SELECT huey.school_uuids(huey.collection_writer_school_ids()))::uuid[])))
  WITH CHECK (collection_id IN (SELECT c.id FROM public.collections c
    WHERE c.user_id = ANY ((SELECT huey.collection_writer_user_ids())::uuid[])
       OR c.school_id = ANY ((SELECT huey.school_uuids(huey.collection_writer_school_ids()))::uuid[])));
CREATE POLICY collection_items_delete_owner ON public.collection_items FOR DELETE TO huey_app
  USING (collection_id IN (SELECT c.id FROM public.collections c
    WHERE c.user_id = ANY ((SELECT huey.collection_writer_user_ids())::uuid[])
       OR c.school_id = ANY ((SELECT huey.school_uuids(huey.collection_writer_school_ids()))::uuid[])));

-- Activity rows follow their item (access.md §6.5: the item's ACL).
CREATE POLICY collection_item_activity_log_select_visible_item ON public.collection_item_activity_log
  FOR SELECT TO huey_app USING (collection_item_id IN (SELECT i.id FROM public.collection_items i));

-- The filters of the item listing compare the reader of activity rows; the
-- read-status filter needs each (item, reader)'s latest row.
CREATE INDEX ix_collection_item_activity_log_reader_item
  ON public.collection_item_activity_log USING btree (reader_id, collection_item_id, "timestamp" DESC);
CREATE INDEX ix_collection_item_activity_log_item_reader_ts
  ON public.collection_item_activity_log USING btree (collection_item_id, reader_id, "timestamp" DESC);

-- ---------------------------------------------------------------------------
-- SECURITY DEFINER doors.

GRANT SELECT, INSERT ON public.editions TO huey_definer;
GRANT USAGE ON SEQUENCE public.editions_id_seq TO huey_definer;
CREATE POLICY editions_select_definer ON public.editions FOR SELECT TO huey_definer USING (true);
-- only bare editions: an ISBN and nothing else
CREATE POLICY editions_insert_definer ON public.editions FOR INSERT TO huey_definer
  WITH CHECK (work_id IS NULL AND edition_title IS NULL AND cover_url IS NULL AND info IS NULL AND hydrated_at IS NULL);

-- Policy attributes of a collection: its school (integer id and uuid) or its
-- user, so an existing collection the caller may not read is refused (403),
-- not hidden (DECISIONS §4).
CREATE FUNCTION huey.collection_attrs(p_id uuid)
RETURNS TABLE (school_id integer, school_wid uuid, user_id uuid)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT s.id, c.school_id, c.user_id FROM public.collections c
  LEFT JOIN public.schools s ON s.wriveted_identifier = c.school_id
  WHERE c.id = p_id;
END
$$;

-- Policy attributes of a collection item: its collection's.
CREATE FUNCTION huey.collection_item_attrs(p_id integer)
RETURNS TABLE (collection_id uuid, school_id integer, school_wid uuid, user_id uuid)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT c.id, s.id, c.school_id, c.user_id FROM public.collection_items i
  JOIN public.collections c ON c.id = i.collection_id
  LEFT JOIN public.schools s ON s.wriveted_identifier = c.school_id
  WHERE i.id = p_id;
END
$$;

-- The existing collection of a school (by uuid) or a user, for the 409 of a
-- create (api.md §2.11); the API asks only after deciding the caller may
-- create a collection for that owner.
CREATE FUNCTION huey.owner_collection_id(p_school_wid uuid, p_user_id uuid) RETURNS uuid
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN (SELECT c.id FROM public.collections c
          WHERE (p_school_wid IS NOT NULL AND c.school_id = p_school_wid)
             OR (p_user_id IS NOT NULL AND c.user_id = p_user_id)
          ORDER BY c.created_at, c.id LIMIT 1);
END
$$;

-- Bare editions for ISBNs the catalogue lacks (api.md §2.11 bulk add): any
-- account that adds books to a collection it may write may name unknown
-- ISBNs; the rows carry the ISBN only. Returns how many were created.
CREATE FUNCTION huey.ensure_bare_editions(p_isbns text[]) RETURNS integer
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_n integer;
BEGIN
  IF NOT huey.is_authenticated() THEN
    RAISE EXCEPTION 'only a signed-in request may add editions' USING ERRCODE = '42501';
  END IF;
  INSERT INTO public.editions (isbn)
  SELECT x FROM pg_catalog.unnest(p_isbns) x
  WHERE x IS NOT NULL AND NOT EXISTS (SELECT FROM public.editions e WHERE e.isbn = x)
  ORDER BY x
  ON CONFLICT (isbn) DO NOTHING;
  GET DIAGNOSTICS v_n = ROW_COUNT;
  RETURN v_n;
END
$$;

GRANT CREATE ON SCHEMA huey TO huey_definer;
ALTER FUNCTION huey.collection_attrs(uuid) OWNER TO huey_definer;
ALTER FUNCTION huey.collection_item_attrs(integer) OWNER TO huey_definer;
ALTER FUNCTION huey.owner_collection_id(uuid, uuid) OWNER TO huey_definer;
ALTER FUNCTION huey.ensure_bare_editions(text[]) OWNER TO huey_definer;
REVOKE CREATE ON SCHEMA huey FROM huey_definer;
REVOKE EXECUTE ON FUNCTION huey.collection_attrs(uuid), huey.collection_item_attrs(integer),
  huey.owner_collection_id(uuid, uuid), huey.ensure_bare_editions(text[])
  FROM PUBLIC, huey_staff_ro, huey_staff_rw, huey_definer;
GRANT EXECUTE ON FUNCTION huey.collection_attrs(uuid), huey.collection_item_attrs(integer),
  huey.owner_collection_id(uuid, uuid), huey.ensure_bare_editions(text[])
  TO huey_app;

-- domain.md §11.1: items bump their collection's updated_at on insert and
-- update. The original's row trigger updates the collection once per item (10 000
-- row versions for an LMS batch); a statement trigger does it once per
-- collection touched, with the same effect.
DROP TRIGGER update_collections_trigger ON public.collection_items;
CREATE FUNCTION huey.update_collections_statement() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  UPDATE public.collections c SET updated_at = now()
  WHERE c.id IN (SELECT DISTINCT n.collection_id FROM new_items n);
  RETURN NULL;
END
$$;
ALTER FUNCTION huey.update_collections_statement() OWNER TO huey_owner;
CREATE TRIGGER update_collections_insert_trigger AFTER INSERT ON public.collection_items
  REFERENCING NEW TABLE AS new_items FOR EACH STATEMENT EXECUTE FUNCTION huey.update_collections_statement();
CREATE TRIGGER update_collections_update_trigger AFTER UPDATE ON public.collection_items
  REFERENCING NEW TABLE AS new_items FOR EACH STATEMENT EXECUTE FUNCTION huey.update_collections_statement();
