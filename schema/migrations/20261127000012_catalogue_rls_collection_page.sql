-- Performance at a real school's size (issue 11): the same answers, at a cost
-- that does not grow with the catalogue or the collection.
--
-- 1. Catalogue row security that costs ~nothing per row. Every signed-in
--    account reads the whole catalogue, so for them each policy is a constant
--    per statement: one wrapped (SELECT huey.is_authenticated()) init-plan.
--    The anonymous branch (public Huey lists, migration 007) was a chain of
--    `IN (SELECT … FROM <another RLS table>)` sub-plans that every catalogue
--    query planned and started up, even when it never ran them (the edition
--    read carried 87 init-plans and 40 sub-plans). It is now one door,
--    huey.public_list_catalogue_ids(kind), evaluated once per statement and
--    only for anonymous callers (init-plans run lazily; the OR stops at the
--    first branch for everyone else). Same rows for every caller: the door
--    computes exactly what the old chain let through. The <t>_select_admin
--    policies of the catalogue go: admins are signed in, so they added
--    nothing but init-plans.
--
-- 2. The collection page (GET /v1/collection/{id}/items) independent of the
--    collection's size:
--    * collection_items.sort_title keeps the item's edition title beside the
--      item (maintained by triggers, whoever writes: this service or the
--      original), and ix_collection_items_collection_sort serves the
--      documented order (title ASC, items without a title last, then id), so
--      a page reads its rows from the index and joins only them;
--    * collections.item_count is the number of items, maintained per
--      statement, so an unfiltered page's `total` is one row, not a count of
--      the collection;
--    * item row security no longer builds a hash of every collection the
--      caller sees through the collections table's own policies: the ids of
--      the collections whose items the caller reads come from one door,
--      huey.readable_collection_ids(), once per statement.

-- ---------------------------------------------------------------------------
-- 1. Catalogue

GRANT SELECT ON public.book_list_works, public.author_work_association, public.labelsets,
  public.illustrator_edition_association TO huey_definer;
CREATE POLICY book_list_works_select_definer ON public.book_list_works FOR SELECT TO huey_definer USING (true);
CREATE POLICY author_work_association_select_definer ON public.author_work_association
  FOR SELECT TO huey_definer USING (true);
CREATE POLICY labelsets_select_definer ON public.labelsets FOR SELECT TO huey_definer USING (true);
CREATE POLICY illustrator_edition_association_select_definer ON public.illustrator_edition_association
  FOR SELECT TO huey_definer USING (true);

-- The catalogue rows an anonymous caller may read: those needed to show the
-- items of public Huey lists (type HUEY, sharing PUBLIC; the rows
-- book_lists_select_public lets anonymous callers see). p_kind names the id:
-- 'works' (the lists' works), 'editions' and 'labelsets' (of those works),
-- 'authors' (of those works), 'illustrators' (of those editions). Public
-- already, so it answers any caller; the policies ask it only for anonymous.
CREATE FUNCTION huey.public_list_catalogue_ids(p_kind text) RETURNS integer[]
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_works integer[] := ARRAY(SELECT DISTINCT bw.work_id FROM public.book_list_works bw
                             JOIN public.book_lists b ON b.id = bw.booklist_id
                             WHERE b.type = 'HUEY' AND b.sharing = 'PUBLIC');
BEGIN
  RETURN CASE p_kind
    WHEN 'works' THEN v_works
    WHEN 'editions' THEN ARRAY(SELECT e.id FROM public.editions e WHERE e.work_id = ANY (v_works))
    WHEN 'labelsets' THEN ARRAY(SELECT l.id FROM public.labelsets l WHERE l.work_id = ANY (v_works))
    WHEN 'authors' THEN ARRAY(SELECT DISTINCT aw.author_id FROM public.author_work_association aw
                              WHERE aw.work_id = ANY (v_works))
    WHEN 'illustrators' THEN ARRAY(SELECT DISTINCT ie.illustrator_id FROM public.illustrator_edition_association ie
                                   JOIN public.editions e ON e.id = ie.edition_id WHERE e.work_id = ANY (v_works))
    ELSE '{}'::integer[] END;
END
$$;
GRANT CREATE ON SCHEMA huey TO huey_definer;
ALTER FUNCTION huey.public_list_catalogue_ids(text) OWNER TO huey_definer;
REVOKE CREATE ON SCHEMA huey FROM huey_definer;
REVOKE EXECUTE ON FUNCTION huey.public_list_catalogue_ids(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION huey.public_list_catalogue_ids(text) TO huey_app;

-- One SELECT policy per catalogue table for huey_app, <t>_select_reader:
-- signed in, or anonymous and the row belongs to a public list.
DO $$
DECLARE
  t record;
BEGIN
  FOR t IN SELECT * FROM (VALUES
      ('works', 'id', 'works'),
      ('editions', 'work_id', 'works'),
      ('labelsets', 'work_id', 'works'),
      ('author_work_association', 'work_id', 'works'),
      ('authors', 'id', 'authors'),
      ('illustrator_edition_association', 'edition_id', 'editions'),
      ('illustrators', 'id', 'illustrators'),
      ('labelset_hue_association', 'labelset_id', 'labelsets'),
      ('labelset_reading_ability_association', 'labelset_id', 'labelsets'),
      ('series', NULL, NULL),
      ('series_works_association', NULL, NULL)) v(tbl, col, kind)
  LOOP
    EXECUTE format('DROP POLICY %I ON public.%I', t.tbl || '_select_authenticated', t.tbl);
    EXECUTE format('DROP POLICY %I ON public.%I', t.tbl || '_select_admin', t.tbl);
    EXECUTE format('DROP POLICY IF EXISTS %I ON public.%I', t.tbl || '_select_public_list', t.tbl);
    IF t.col IS NULL THEN
      EXECUTE format('CREATE POLICY %I ON public.%I FOR SELECT TO huey_app USING ((SELECT huey.is_authenticated()))',
                     t.tbl || '_select_reader', t.tbl);
    ELSE
      EXECUTE format('CREATE POLICY %I ON public.%I FOR SELECT TO huey_app USING ((SELECT huey.is_authenticated()) '
                     || 'OR ((SELECT huey.kind()) = ''anonymous'' AND %I = ANY ((SELECT huey.public_list_catalogue_ids(%L))::integer[])))',
                     t.tbl || '_select_reader', t.tbl, t.col, t.kind);
    END IF;
  END LOOP;
END
$$;

-- ---------------------------------------------------------------------------
-- 2. Collections: the item's title beside it, the count beside the collection

ALTER TABLE public.collection_items ADD COLUMN sort_title character varying(512);
ALTER TABLE public.collections ADD COLUMN item_count integer NOT NULL DEFAULT 0;

-- The doors below run as huey_definer: it writes exactly these two columns.
GRANT UPDATE (sort_title) ON public.collection_items TO huey_definer;
GRANT UPDATE (item_count) ON public.collections TO huey_definer;
CREATE POLICY collection_items_update_definer ON public.collection_items FOR UPDATE TO huey_definer
  USING (true) WITH CHECK (true);
CREATE POLICY collections_update_definer ON public.collections FOR UPDATE TO huey_definer
  USING (true) WITH CHECK (true);

-- An item takes its edition's title when it is inserted or its ISBN changes;
-- any other write keeps the title the triggers maintain (a statement cannot
-- set it: only a trigger's maintenance, at a trigger depth above 1, may).
-- A row trigger, so it runs as the writer (SECURITY INVOKER: a definer's
-- role switch per row is costly); every role that may write items reads the
-- catalogue. Its look-up keeps its cached plan even inside the LMS batch's
-- transaction, which sets plan_cache_mode = force_custom_plan for its large
-- statements (re-planning it per row made a 4,000-item add 4× slower). The update trigger's
-- WHEN clause keeps it off the rows whose ISBN and title a statement leaves
-- alone (copies, info: the LMS batch's updates).
CREATE FUNCTION huey.collection_item_sort_title() RETURNS trigger
  LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
  IF TG_OP = 'INSERT' OR NEW.edition_isbn IS DISTINCT FROM OLD.edition_isbn THEN
    NEW.sort_title := (SELECT e.title FROM public.editions e WHERE e.isbn = NEW.edition_isbn);
  ELSIF pg_catalog.pg_trigger_depth() = 1 THEN
    NEW.sort_title := OLD.sort_title;
  END IF;
  RETURN NEW;
END
$$;

-- An edition's new title reaches the items that hold it (one statement per
-- statement on editions, whatever changed the title: a patch, hydration, the
-- original's update_edition_title triggers).
CREATE FUNCTION huey.edition_title_to_items() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  UPDATE public.collection_items i SET sort_title = n.title
  FROM new_editions n JOIN old_editions o ON o.id = n.id
  WHERE i.edition_isbn = n.isbn AND n.title IS DISTINCT FROM o.title;
  RETURN NULL;
END
$$;

-- collections.item_count follows inserts and deletes by the number of rows
-- each statement touched.
CREATE FUNCTION huey.collection_item_count() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE public.collections c SET item_count = c.item_count + d.n
    FROM (SELECT collection_id, count(*) AS n FROM new_items GROUP BY collection_id) d
    WHERE c.id = d.collection_id;
  ELSE
    UPDATE public.collections c SET item_count = greatest(c.item_count - d.n, 0)
    FROM (SELECT collection_id, count(*) AS n FROM old_items GROUP BY collection_id) d
    WHERE c.id = d.collection_id;
  END IF;
  RETURN NULL;
END
$$;

-- An item moved to another collection (a row trigger whose WHEN clause keeps
-- it off every other update) leaves one and joins the other. When the old
-- collection no longer exists, the collection itself changed its id (ON
-- UPDATE CASCADE) and its count came along with it.
CREATE FUNCTION huey.collection_item_moved() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF EXISTS (SELECT FROM public.collections c WHERE c.id = OLD.collection_id) THEN
    UPDATE public.collections c SET item_count = greatest(c.item_count - 1, 0) WHERE c.id = OLD.collection_id;
    UPDATE public.collections c SET item_count = c.item_count + 1 WHERE c.id = NEW.collection_id;
  END IF;
  RETURN NULL;
END
$$;

GRANT CREATE ON SCHEMA huey TO huey_definer;
ALTER FUNCTION huey.edition_title_to_items() OWNER TO huey_definer;
ALTER FUNCTION huey.collection_item_count() OWNER TO huey_definer;
ALTER FUNCTION huey.collection_item_moved() OWNER TO huey_definer;
REVOKE CREATE ON SCHEMA huey FROM huey_definer;
ALTER FUNCTION huey.collection_item_sort_title() OWNER TO huey_owner;
REVOKE EXECUTE ON FUNCTION huey.collection_item_sort_title(), huey.edition_title_to_items(),
  huey.collection_item_count(), huey.collection_item_moved() FROM PUBLIC;

CREATE TRIGGER collection_item_sort_title_insert BEFORE INSERT ON public.collection_items
  FOR EACH ROW EXECUTE FUNCTION huey.collection_item_sort_title();
CREATE TRIGGER collection_item_sort_title_update BEFORE UPDATE ON public.collection_items
  FOR EACH ROW WHEN (NEW.edition_isbn IS DISTINCT FROM OLD.edition_isbn OR NEW.sort_title IS DISTINCT FROM OLD.sort_title)
  EXECUTE FUNCTION huey.collection_item_sort_title();
CREATE TRIGGER edition_title_to_items AFTER UPDATE ON public.editions
  REFERENCING OLD TABLE AS old_editions NEW TABLE AS new_editions
  FOR EACH STATEMENT EXECUTE FUNCTION huey.edition_title_to_items();
CREATE TRIGGER collection_item_count_insert AFTER INSERT ON public.collection_items
  REFERENCING NEW TABLE AS new_items FOR EACH STATEMENT EXECUTE FUNCTION huey.collection_item_count();
CREATE TRIGGER collection_item_count_delete AFTER DELETE ON public.collection_items
  REFERENCING OLD TABLE AS old_items FOR EACH STATEMENT EXECUTE FUNCTION huey.collection_item_count();
CREATE TRIGGER collection_item_moved AFTER UPDATE OF collection_id ON public.collection_items
  FOR EACH ROW WHEN (NEW.collection_id IS DISTINCT FROM OLD.collection_id)
  EXECUTE FUNCTION huey.collection_item_moved();

-- Keeping sort_title in step is not an update of the item: the collection's
-- updated_at (domain.md §11.1) moves only for item writes made by a
-- statement, not by a trigger's maintenance.
CREATE OR REPLACE FUNCTION huey.update_collections_statement() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF pg_catalog.pg_trigger_depth() > 1 THEN
    RETURN NULL;
  END IF;
  UPDATE public.collections c SET updated_at = now()
  WHERE c.id IN (SELECT DISTINCT n.collection_id FROM new_items n);
  RETURN NULL;
END
$$;

-- Existing rows. Row security is forced on the owner too; lifting FORCE for
-- these two statements inside this transaction lets the owner fill the new
-- columns without a policy that would outlive the migration.
ALTER TABLE public.collection_items NO FORCE ROW LEVEL SECURITY;
ALTER TABLE public.collections NO FORCE ROW LEVEL SECURITY;
ALTER TABLE public.collection_items DISABLE TRIGGER USER;
UPDATE public.collection_items i SET sort_title = e.title
FROM public.editions e WHERE e.isbn = i.edition_isbn AND e.title IS NOT NULL;
ALTER TABLE public.collection_items ENABLE TRIGGER USER;
UPDATE public.collections c SET item_count = x.n
FROM (SELECT collection_id, count(*) AS n FROM public.collection_items GROUP BY collection_id) x
WHERE x.collection_id = c.id;
ALTER TABLE public.collection_items FORCE ROW LEVEL SECURITY;
ALTER TABLE public.collections FORCE ROW LEVEL SECURITY;

-- item_count is the triggers' alone: a statement that inserts or updates a
-- collection cannot set it (trigger depth 1 is the statement's own write; the
-- count's maintenance runs one level deeper).
CREATE FUNCTION huey.keep_collection_item_count() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF pg_trigger_depth() = 1 THEN
    NEW.item_count := CASE WHEN TG_OP = 'INSERT' THEN 0 ELSE OLD.item_count END;
  END IF;
  RETURN NEW;
END
$$;
ALTER FUNCTION huey.keep_collection_item_count() OWNER TO huey_owner;
REVOKE EXECUTE ON FUNCTION huey.keep_collection_item_count() FROM PUBLIC;
CREATE TRIGGER keep_collection_item_count BEFORE INSERT OR UPDATE ON public.collections
  FOR EACH ROW EXECUTE FUNCTION huey.keep_collection_item_count();

-- The page's order: title ascending with items without one last (btree's
-- default for ASC), then id.
CREATE INDEX ix_collection_items_collection_sort ON public.collection_items
  USING btree (collection_id, sort_title, id);

-- ---------------------------------------------------------------------------
-- 3. Item row security through one door

-- The collections whose items the caller reads (admins aside: their own
-- policy): the caller's own and its children's user collections; the school
-- collections of the schools it manages (schooladmin:<id>, and a linked
-- service account's school:<id>, as collections_select_school_managers); and
-- F5, the school collections of the schools it is staff of (educator:<id>, as
-- huey.staff_collection_ids()). Once per statement. It looks each owner up
-- by an index: the generic plans of the API login (plan_cache_mode =
-- force_generic_plan) turned a join over the collections into a sequential
-- scan.
CREATE FUNCTION huey.readable_collection_ids() RETURNS uuid[]
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_out uuid[] := '{}';
  v_user uuid;
  v_school integer;
BEGIN
  -- One look-up per owner, each through an index whatever plan is cached.
  FOREACH v_user IN ARRAY (huey.user_id() || huey.child_ids()) LOOP
    v_out := v_out || ARRAY(SELECT c.id FROM public.collections c WHERE c.user_id = v_user);
  END LOOP;
  -- huey.principal_ids('schooladmin:') || ('school:') || ('educator:'), in one pass
  FOREACH v_school IN ARRAY ARRAY(SELECT pg_catalog.substr(p, pg_catalog.strpos(p, ':') + 1)::integer
                                  FROM pg_catalog.unnest(huey.claims_array('principals')) p
                                  WHERE pg_catalog.split_part(p, ':', 1) IN ('schooladmin', 'school', 'educator')
                                    AND pg_catalog.substr(p, pg_catalog.strpos(p, ':') + 1) ~ '^[0-9]{1,9}$') LOOP
    v_out := v_out || ARRAY(SELECT c.id FROM public.collections c
                            WHERE c.school_id = (SELECT s.wriveted_identifier FROM public.schools s WHERE s.id = v_school));
  END LOOP;
  RETURN v_out;
END
$$;
GRANT CREATE ON SCHEMA huey TO huey_definer;
ALTER FUNCTION huey.readable_collection_ids() OWNER TO huey_definer;
REVOKE CREATE ON SCHEMA huey FROM huey_definer;
REVOKE EXECUTE ON FUNCTION huey.readable_collection_ids() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION huey.readable_collection_ids() TO huey_app;

DROP POLICY collection_items_select_visible_collection ON public.collection_items;
DROP POLICY collection_items_select_school_staff ON public.collection_items;
CREATE POLICY collection_items_select_reader ON public.collection_items FOR SELECT TO huey_app
  USING (collection_id = ANY ((SELECT huey.readable_collection_ids())::uuid[]));

-- The school managers' read of a collection (the spine's policy) as one
-- init-plan: the ids of the schools they manage, once per statement, instead
-- of a hashed sub-plan over schools with four init-plans of its own. Same
-- rows: both look the schools up under the caller's row security.
DROP POLICY collections_select_school_managers ON public.collections;
CREATE POLICY collections_select_school_managers ON public.collections FOR SELECT TO huey_app
  USING (school_id = ANY ((SELECT huey.school_uuids(huey.principal_ids('schooladmin:') || huey.principal_ids('school:')))::uuid[]));
-- ---------------------------------------------------------------------------
-- 4. Claims helpers that cost a few microseconds per statement
--
-- Postgres inlines a SQL-language function only when its body is a single
-- SELECT with no FROM clause and no sub-query. user_id() and
-- service_account_id() had a FROM clause, and principal_ids(), school_ids(),
-- child_ids() and school_uuids() a sub-query, so none was inlined: each call
-- ran through the SQL-function executor, which plans its body again on every
-- call (~50–350 µs per init-plan, and most policies have several). The first
-- two are now inlinable expressions; school_ids() and child_ids() inlinable
-- casts of huey.claims_array(), and principal_ids() and school_uuids()
-- plpgsql: plpgsql caches its plans per connection. Same results, including failing closed: no claims,
-- empty claims, a missing key or an unauthenticated kind give NULL or an
-- empty array. Every name is schema-qualified; as SECURITY INVOKER functions
-- they give a caller nothing it does not already have.

CREATE OR REPLACE FUNCTION huey.user_id() RETURNS uuid
  LANGUAGE sql STABLE
AS $$
  SELECT CASE WHEN huey.claims() ->> 'kind' = 'user' THEN (huey.claims() ->> 'id')::uuid END
$$;

CREATE OR REPLACE FUNCTION huey.service_account_id() RETURNS uuid
  LANGUAGE sql STABLE
AS $$
  SELECT CASE WHEN huey.claims() ->> 'kind' = 'service_account' THEN (huey.claims() ->> 'id')::uuid END
$$;

-- The elements of one array of the claims (principals, school_ids,
-- child_ids) as text, empty unless the caller is signed in.
CREATE FUNCTION huey.claims_array(p_key text) RETURNS text[]
  LANGUAGE plpgsql STABLE
AS $$
DECLARE
  c jsonb := huey.claims();
BEGIN
  IF NOT coalesce(c ->> 'kind' IN ('user', 'service_account'), false)
     OR pg_catalog.jsonb_typeof(c -> p_key) IS DISTINCT FROM 'array' THEN
    RETURN '{}'::text[];
  END IF;
  RETURN ARRAY(SELECT pg_catalog.jsonb_array_elements_text(c -> p_key));
END
$$;
ALTER FUNCTION huey.claims_array(text) OWNER TO huey_owner;
REVOKE EXECUTE ON FUNCTION huey.claims_array(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION huey.claims_array(text) TO huey_app, huey_staff_ro, huey_staff_rw, huey_definer;

CREATE OR REPLACE FUNCTION huey.school_ids() RETURNS integer[]
  LANGUAGE sql STABLE
AS $$ SELECT huey.claims_array('school_ids')::integer[] $$;

CREATE OR REPLACE FUNCTION huey.child_ids() RETURNS uuid[]
  LANGUAGE sql STABLE
AS $$ SELECT huey.claims_array('child_ids')::uuid[] $$;

CREATE OR REPLACE FUNCTION huey.principal_ids(prefix text) RETURNS integer[]
  LANGUAGE plpgsql STABLE
AS $$
BEGIN
  RETURN ARRAY(SELECT pg_catalog.substr(p, pg_catalog.length(prefix) + 1)::integer
               FROM pg_catalog.unnest(huey.claims_array('principals')) p
               WHERE pg_catalog.starts_with(p, prefix)
                 AND pg_catalog.substr(p, pg_catalog.length(prefix) + 1) ~ '^[0-9]{1,9}$');
END
$$;

-- One look-up per school id, each through the primary key whatever plan is
-- cached (a generic `= ANY ($1)` plan may scan every school).
CREATE OR REPLACE FUNCTION huey.school_uuids(p_ids integer[]) RETURNS uuid[]
  LANGUAGE plpgsql STABLE
AS $$
DECLARE
  v_out uuid[] := '{}';
  v_id integer;
  v_wid uuid;
BEGIN
  FOREACH v_id IN ARRAY coalesce(p_ids, '{}'::integer[]) LOOP
    SELECT s.wriveted_identifier INTO v_wid FROM public.schools s WHERE s.id = v_id;
    IF FOUND THEN
      v_out := v_out || v_wid;
    END IF;
  END LOOP;
  RETURN v_out;
END
$$;
