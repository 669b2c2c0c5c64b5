-- Issue 12 R1: a "Reader timeline event: Reading logged" names a collection
-- item by id; process-event, which runs as the admin worker, recorded the
-- reader's activity on whatever item it named and mailed its title to the
-- reader's supporters — another school's item included. The item must be
-- the reader's: in the reader's own collection, the reader's parent's, or
-- the collection of the reader's school (a student's). The API checks it
-- when the event is posted (422), and the task again before it writes or
-- sends anything (the event may have been written some other way).
CREATE FUNCTION huey.reading_log_item_allowed(p_reader uuid, p_item integer) RETURNS boolean
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN EXISTS (
    SELECT FROM public.collection_items i JOIN public.collections c ON c.id = i.collection_id
    WHERE i.id = p_item
      AND (c.user_id = p_reader
           OR c.user_id = (SELECT r.parent_id FROM public.readers r WHERE r.id = p_reader)
           OR c.school_id = (SELECT s.wriveted_identifier FROM public.students st
                             JOIN public.schools s ON s.id = st.school_id WHERE st.id = p_reader)));
END
$$;
GRANT CREATE ON SCHEMA huey TO huey_definer;
ALTER FUNCTION huey.reading_log_item_allowed(uuid, integer) OWNER TO huey_definer;
REVOKE CREATE ON SCHEMA huey FROM huey_definer;
REVOKE EXECUTE ON FUNCTION huey.reading_log_item_allowed(uuid, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION huey.reading_log_item_allowed(uuid, integer) TO huey_app;
