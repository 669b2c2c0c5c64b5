# Tests of works.rego, editions.rego and labelsets.rego through data.huey.authz.allow.
package huey.resource.catalogue_test

admin := ["system:authenticated", "user:a", "role:admin"]

backend := ["system:authenticated", "role:admin"]

schooladmin := ["system:authenticated", "user:s", "role:educator", "educator:1", "schooladmin:1"]

educator := ["system:authenticated", "user:e", "role:educator", "educator:1"]

student := ["system:authenticated", "user:st", "role:reader", "role:student", "student:1"]

reader := ["system:authenticated", "user:r", "role:reader"]

parent := ["system:authenticated", "user:p", "parent:c"]

lms := ["system:authenticated", "role:lms", "school:1"]

school_sa := ["system:authenticated", "role:school", "role:library", "school:1"]

kiosk := ["system:authenticated", "role:kiosk"]

allowed(type, ps, action) if {
	inp := {
		"principals": {p: true | some p in array.concat(["system:everyone"], ps)},
		"action": action,
		"resource": {"type": type, "id": "", "attrs": {}},
	}
	data.huey.authz.allow with input as inp
}

# works: entry 1 (admins All)
test_admin_work_delete_allowed if allowed("works", admin, "delete")

test_backend_work_generate_labels_allowed if allowed("works", backend, "generate-labels")

# works: entry 2 (F8 editors create and update)
test_f8_educator_work_create_allowed if allowed("works", educator, "create")

test_f8_schooladmin_work_update_allowed if allowed("works", schooladmin, "update")

test_f8_lms_work_create_allowed if allowed("works", lms, "create")

test_f8_school_sa_work_update_allowed if allowed("works", school_sa, "update")

test_f8_student_work_create_denied if not allowed("works", student, "create")

test_f8_reader_work_update_denied if not allowed("works", reader, "update")

test_f8_kiosk_work_create_denied if not allowed("works", kiosk, "create")

test_f8_educator_work_delete_denied if not allowed("works", educator, "delete")

test_f8_lms_work_delete_denied if not allowed("works", lms, "delete")

test_educator_work_generate_labels_denied if not allowed("works", educator, "generate-labels")

# works: entry 3 (everyone signed in reads)
test_student_work_read_allowed if allowed("works", student, "read")

test_parent_work_read_allowed if allowed("works", parent, "read")

test_anonymous_work_read_denied if not allowed("works", [], "read")

# editions
test_admin_edition_batch_allowed if allowed("editions", admin, "batch")

test_f8_educator_edition_create_allowed if allowed("editions", educator, "create")

test_f8_lms_edition_batch_allowed if allowed("editions", lms, "batch")

test_f8_school_sa_edition_update_allowed if allowed("editions", school_sa, "update")

test_f8_student_edition_create_denied if not allowed("editions", student, "create")

test_f8_kiosk_edition_batch_denied if not allowed("editions", kiosk, "batch")

test_f8_reader_edition_update_denied if not allowed("editions", reader, "update")

test_f8_parent_edition_create_denied if not allowed("editions", parent, "create")

test_kiosk_edition_read_allowed if allowed("editions", kiosk, "read")

test_anonymous_edition_read_denied if not allowed("editions", [], "read")

test_educator_edition_delete_denied if not allowed("editions", educator, "delete")

# editions: hydration (api.md §2.17, ADMIN) only through entry 1
test_admin_edition_hydrate_allowed if allowed("editions", admin, "hydrate")

test_backend_edition_hydrate_allowed if allowed("editions", backend, "hydrate")

test_educator_edition_hydrate_denied if not allowed("editions", educator, "hydrate")

test_lms_edition_hydrate_denied if not allowed("editions", lms, "hydrate")

test_school_sa_edition_hydrate_denied if not allowed("editions", school_sa, "hydrate")

# labelsets
test_admin_labelsets_update_allowed if allowed("labelsets", admin, "update")

test_backend_labelsets_update_allowed if allowed("labelsets", backend, "update")

test_educator_labelsets_update_denied if not allowed("labelsets", educator, "update")

test_lms_labelsets_update_denied if not allowed("labelsets", lms, "update")

test_admin_labelsets_read_denied if not allowed("labelsets", admin, "read")
