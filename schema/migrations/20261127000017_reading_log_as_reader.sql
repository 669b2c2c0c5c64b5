-- Issue 12 R1, second half: process-event records a reading log under the
-- claims of the reader the event was posted for, not the worker's. Two
-- pieces let the reader's own row security decide:
--
-- 1. huey.reading_log_item(item): the item's collection and display title,
--    only when the item is one the reader in the claims may log (its own
--    collection, its parent's, or its school's: huey.reading_log_item_allowed
--    of migration 016). A student cannot read the school's items through the
--    collection_items policies (nor should it), so this door answers just
--    the title the supporters' message needs, and nothing for any other item.
-- 2. collection_item_activity_log_insert_reader: a reader may record its own
--    reading (reader_id = the claims' user) of such an item. The API's routes
--    decide first in policies/ (the item and collection ACLs), so this widens
--    nothing they answer; it is what the task's INSERT runs under.
CREATE FUNCTION huey.reading_log_item(p_item integer)
  RETURNS TABLE (collection_id uuid, title text)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_reader uuid := huey.user_id();
BEGIN
  IF v_reader IS NULL OR NOT huey.reading_log_item_allowed(v_reader, p_item) THEN
    RETURN;
  END IF;
  RETURN QUERY
    SELECT ci.collection_id, coalesce(
      CASE WHEN e.title IS NOT NULL THEN coalesce(nullif(e.leading_article, '') || ' ', '') || e.title END,
      CASE WHEN w.title IS NOT NULL THEN coalesce(nullif(w.leading_article, '') || ' ', '') || w.title END,
      nullif(ci.info ->> 'title', ''), ci.edition_isbn, '')::text
    FROM public.collection_items ci
    LEFT JOIN public.editions e ON e.isbn = ci.edition_isbn
    LEFT JOIN public.works w ON w.id = e.work_id
    WHERE ci.id = p_item;
END
$$;
GRANT CREATE ON SCHEMA huey TO huey_definer;
ALTER FUNCTION huey.reading_log_item(integer) OWNER TO huey_definer;
REVOKE CREATE ON SCHEMA huey FROM huey_definer;
REVOKE EXECUTE ON FUNCTION huey.reading_log_item(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION huey.reading_log_item(integer) TO huey_app;

CREATE POLICY collection_item_activity_log_insert_reader ON public.collection_item_activity_log
  FOR INSERT TO huey_app
  WITH CHECK (reader_id = (SELECT huey.user_id())
              AND huey.reading_log_item_allowed(reader_id, collection_item_id));
