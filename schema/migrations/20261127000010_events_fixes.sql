-- Fixes to 20261127000009.
--
-- 1. huey.event_attrs (owned by huey_definer) calls huey.supported_reader_ids(),
--    whose EXECUTE 009 revoked from huey_definer: the feedback routes' policy
--    look-up failed with 42501.
-- 2. The task server marks the "Test" event processed by rewriting its
--    info.description (tasks.md §6). Events stay append-only for everyone
--    else: only admins (the background-work account is one) update, and only
--    the info column.

GRANT EXECUTE ON FUNCTION huey.supported_reader_ids() TO huey_definer;

GRANT UPDATE (info) ON public.events TO huey_app;
CREATE POLICY events_update_admin ON public.events FOR UPDATE TO huey_app
  USING ((SELECT huey.is_admin())) WITH CHECK ((SELECT huey.is_admin()));
