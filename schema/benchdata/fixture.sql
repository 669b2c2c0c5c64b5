-- The benchmark fixture: a database of a realistic size for `make bench` and
-- the plan-guard test (schema/benchdata). Run as a superuser on a freshly
-- migrated database. {{NAME}} placeholders are integers filled in by Go.
--
--   {{SCHOOLS}} schools, each with a school admin, educators and students
--   ({{MEMBERS}} accounts in all), a class, an LMS service account linked to it
--   and one collection of {{ITEMS}} items;
--   a catalogue of {{EDITIONS}} editions (two per work), authors, illustrators
--   (every fourth edition), labelsets with hues and reading abilities;
--   two more schools: "big" with a collection of {{BIG_ITEMS}} items and
--   "lms" with {{LMS_ITEMS}} items (the LMS batch benchmark's target).
--
-- Every id is derived from its ordinal (md5 → uuid), so the benchmark can name
-- any school, account or collection without reading it back:
--   school n          id n, wriveted_identifier md5('school-n')
--   its collection    md5('collection-n')
--   its accounts      md5('user-n-k'), k = 1 school admin, 2..5 educators, rest students
--   its LMS account   md5('lms-n')
--   edition i         isbn huey_bench_isbn(i), work (i+1)/2

SET session_replication_role = replica; -- fixture rows are consistent; skip row triggers and FK checks

CREATE FUNCTION pg_temp.isbn(i integer) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT p || ((10 - (SELECT sum(substr(p, k, 1)::int * CASE WHEN k % 2 = 1 THEN 1 ELSE 3 END)
                      FROM generate_series(1, 12) k) % 10) % 10)::text
  FROM (SELECT '978' || lpad(i::text, 9, '0') AS p) x
$$;

-- Catalogue -----------------------------------------------------------------
INSERT INTO public.authors (id, first_name, last_name)
SELECT a, 'First' || a, 'Author' || md5(a::text) FROM generate_series(1, greatest({{EDITIONS}} / 10, 1)) a;
SELECT setval('public.authors_id_seq', greatest({{EDITIONS}} / 10, 1));

INSERT INTO public.illustrators (id, first_name, last_name)
SELECT a, 'Ill' || a, 'Illustrator' || md5(a::text) FROM generate_series(1, greatest({{EDITIONS}} / 40, 1)) a;
SELECT setval('public.illustrators_id_seq', greatest({{EDITIONS}} / 40, 1));

INSERT INTO public.works (id, type, title, info)
SELECT w, 'BOOK', initcap(substr(md5('work' || w), 1, 12)) || ' ' || w, '{"genres": [], "other": {}}'
FROM generate_series(1, ({{EDITIONS}} + 1) / 2) w;
SELECT setval('public.works_id_seq', ({{EDITIONS}} + 1) / 2);

INSERT INTO public.author_work_association (work_id, author_id)
SELECT w, (w % greatest({{EDITIONS}} / 10, 1)) + 1 FROM generate_series(1, ({{EDITIONS}} + 1) / 2) w;

INSERT INTO public.editions (id, work_id, isbn, title, edition_title, cover_url, date_published, hydrated_at, info)
SELECT i, (i + 1) / 2, pg_temp.isbn(i), w.title, NULL,
       CASE WHEN i % 3 <> 0 THEN 'https://covers.example/' || i || '.jpg' END,
       1990 + i % 35, CASE WHEN i % 5 <> 0 THEN now() AT TIME ZONE 'UTC' END, '{"pages": 32}'
FROM generate_series(1, {{EDITIONS}}) i JOIN public.works w ON w.id = (i + 1) / 2;
SELECT setval('public.editions_id_seq', {{EDITIONS}});

INSERT INTO public.illustrator_edition_association (edition_id, illustrator_id)
SELECT i, (i / 4) % greatest({{EDITIONS}} / 40, 1) + 1 FROM generate_series(4, {{EDITIONS}}, 4) i;

INSERT INTO public.labelsets (id, work_id, min_age, max_age, huey_summary, hue_origin, age_origin,
                              reading_ability_origin, summary_origin, recommend_status, checked)
SELECT w, w, 3 + w % 5, 8 + w % 6, 'A summary of work ' || w, 'HUMAN', 'HUMAN', 'HUMAN', 'HUMAN', 'GOOD', true
FROM generate_series(1, ({{EDITIONS}} + 1) / 2) w;
SELECT setval('public.labelsets_id_seq', ({{EDITIONS}} + 1) / 2);

INSERT INTO public.labelset_hue_association (labelset_id, hue_id, ordinal)
SELECT w, (SELECT h.id FROM public.hues h ORDER BY h.id OFFSET w % 10 LIMIT 1), 'PRIMARY'
FROM generate_series(1, ({{EDITIONS}} + 1) / 2) w;

INSERT INTO public.labelset_reading_ability_association (labelset_id, reading_ability_id)
SELECT w, 1 + w % 5 FROM generate_series(1, ({{EDITIONS}} + 1) / 2) w;

-- Schools and their accounts ----------------------------------------------
INSERT INTO public.schools (id, country_code, official_identifier, state, name, wriveted_identifier, info)
SELECT s, 'AUS', 'bench-' || s, 'ACTIVE',
       CASE s WHEN {{SCHOOLS}} + 1 THEN 'Big Library School' WHEN {{SCHOOLS}} + 2 THEN 'LMS Sync School'
              ELSE 'Bench School ' || s END,
       md5('school-' || s)::uuid, '{"location": {"state": "NSW"}}'
FROM generate_series(1, {{SCHOOLS}} + 2) s;
SELECT setval('public.schools_id_seq', {{SCHOOLS}} + 2);

INSERT INTO public.class_groups (id, school_id, name, join_code)
SELECT md5('class-' || s)::uuid, md5('school-' || s)::uuid, 'Class 1', NULL FROM generate_series(1, {{SCHOOLS}} + 2) s;

CREATE TEMP TABLE bench_members AS
SELECT s, k, md5('user-' || s || '-' || k)::uuid AS id,
       CASE WHEN k = 1 THEN 'SCHOOL_ADMIN' WHEN k <= 5 THEN 'EDUCATOR' ELSE 'STUDENT' END AS type
FROM generate_series(1, {{SCHOOLS}} + 2) s, generate_series(1, {{MEMBERS}}) k;

INSERT INTO public.users (id, is_active, email, name, info, created_at, updated_at, type)
SELECT id, true, CASE WHEN type <> 'STUDENT' THEN 'user-' || s || '-' || k || '@bench.example' END,
       'Member ' || s || '-' || k, '{}', now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC',
       type::public.enum_user_account_type
FROM bench_members;
INSERT INTO public.educators (id, school_id) SELECT id, s FROM bench_members WHERE type <> 'STUDENT';
INSERT INTO public.school_admins (id) SELECT id FROM bench_members WHERE type = 'SCHOOL_ADMIN';
INSERT INTO public.readers (id, first_name, last_name_initial) SELECT id, 'Reader', 'R' FROM bench_members WHERE type = 'STUDENT';
INSERT INTO public.students (id, school_id, class_group_id, username)
SELECT id, s, md5('class-' || s)::uuid, 'student' || k FROM bench_members WHERE type = 'STUDENT';

INSERT INTO public.service_accounts (id, name, is_active, type, info, created_at, updated_at)
SELECT md5('lms-' || s)::uuid, 'LMS of school ' || s, true, 'LMS', '{}', now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
FROM generate_series(1, {{SCHOOLS}} + 2) s;
INSERT INTO public.service_account_school_association (service_account_id, school_id)
SELECT md5('lms-' || s)::uuid, s FROM generate_series(1, {{SCHOOLS}} + 2) s;

-- Collections (with every trigger on: what they maintain is part of the test) --
RESET session_replication_role;

INSERT INTO public.collections (id, school_id, name, info)
SELECT md5('collection-' || s)::uuid, md5('school-' || s)::uuid, 'Library of school ' || s, '{}'
FROM generate_series(1, {{SCHOOLS}} + 2) s;

-- Item j of school s holds edition ((s·7919 + j·104729) mod EDITIONS) + 1:
-- distinct within a collection (104729 is prime), spread over the catalogue.
INSERT INTO public.collection_items (collection_id, edition_isbn, copies_total, copies_available, info)
SELECT md5('collection-' || s)::uuid,
       pg_temp.isbn(((s::bigint * 7919 + j::bigint * 104729) % {{EDITIONS}})::integer + 1), 1 + j % 3, 1, '{}'
FROM generate_series(1, {{SCHOOLS}} + 2) s,
     LATERAL generate_series(1, CASE s WHEN {{SCHOOLS}} + 1 THEN {{BIG_ITEMS}} WHEN {{SCHOOLS}} + 2 THEN {{LMS_ITEMS}}
                                       ELSE {{ITEMS}} END) j
ORDER BY s, j;

