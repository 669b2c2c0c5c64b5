-- name: ClassAttrs :one
-- The policy attributes of a class through the narrow huey.class_attrs door:
-- its school's integer id (NULL for a class without a school); no row when
-- the class does not exist for the caller.
SELECT a.school_id::integer AS school_id FROM huey.class_attrs(@id::uuid) AS a;

-- name: GetClassBrief :one
-- A ClassGroupBrief and its join code.
SELECT g.id, g.school_id, g.name, g.updated_at,
       (SELECT count(*) FROM students st WHERE st.class_group_id = g.id) AS student_count, g.join_code
FROM class_groups g WHERE g.id = @id;

-- name: ListClassStudents :many
-- A class's students; row security shows all of them to admins and the
-- school's staff, and a student only itself.
SELECT u.id, u.name, r.first_name, r.last_name_initial, st.username,
       s.wriveted_identifier, s.name AS school_name, s.official_identifier, s.country_code
FROM students st
JOIN users u ON u.id = st.id
JOIN readers r ON r.id = st.id
JOIN schools s ON s.id = st.school_id
WHERE st.class_group_id = @class_group_id
ORDER BY u.name, u.id;

-- name: ListClasses :many
-- The base of GET /classes: a Filter adds WHERE, ORDER BY and the page.
SELECT g.id, g.school_id, g.name, g.updated_at,
       (SELECT count(*) FROM students st WHERE st.class_group_id = g.id) AS student_count, g.join_code
FROM class_groups g;

-- name: InsertClass :one
INSERT INTO class_groups (school_id, name, join_code, created_at, updated_at)
VALUES (@school_id, @name, huey.new_join_code(), huey.utcnow(), huey.utcnow())
RETURNING id, school_id, name, updated_at, 0::bigint AS student_count, join_code;

-- name: RenameClass :execrows
UPDATE class_groups SET name = @name, updated_at = huey.utcnow() WHERE id = @id;

-- name: LockClassForDelete :one
SELECT g.id, g.school_id, g.name, g.updated_at,
       (SELECT count(*) FROM students st WHERE st.class_group_id = g.id) AS student_count,
       coalesce(s.name, '')::text AS school_name
FROM class_groups g LEFT JOIN schools s ON s.wriveted_identifier = g.school_id
WHERE g.id = @id FOR UPDATE OF g;

-- name: ListClassStudentIDs :many
SELECT st.id FROM students st WHERE st.class_group_id = @class_group_id ORDER BY st.id;

-- name: DemoteClassStudents :execrows
-- A deleted class's students become inactive public readers.
UPDATE users SET type = 'PUBLIC', is_active = false, updated_at = huey.utcnow() WHERE id = ANY (@ids::uuid[]);

-- name: EnsureClassPublicReaders :exec
-- ON CONFLICT without a target: naming one would need SELECT rights on
-- public_readers.
INSERT INTO public_readers (id, reader_info) SELECT unnest(@ids::uuid[]), '{}' ON CONFLICT DO NOTHING;

-- name: DeleteClassStudents :execrows
DELETE FROM students WHERE id = ANY (@ids::uuid[]);

-- name: DeleteClass :execrows
DELETE FROM class_groups WHERE id = @id;
