# Tests of schools.rego (the route-level schools ACL) through data.huey.authz.allow.
package huey.resource.schools_test

# Principal sets of spec/access.md §4 (with F2/F5 fixed); allowed adds system:everyone.
admin := ["system:authenticated", "user:a0", "role:admin"]

schooladmin := ["system:authenticated", "user:sa17", "role:educator", "educator:17", "schooladmin:17"]

student := ["system:authenticated", "user:s17", "role:reader", "role:student", "student:17"]

reader := ["system:authenticated", "user:r1", "role:reader"]

lms := ["system:authenticated", "role:lms", "school:17"]

school_sa := ["system:authenticated", "role:school", "role:library", "school:17"]

kiosk := ["system:authenticated", "role:kiosk"]

anonymous := []

# allowed holds when the principals ps may perform action on the schools routes.
allowed(ps, action) if {
	inp := {
		"principals": {p: true | some p in array.concat(["system:everyone"], ps)},
		"action": action,
		"resource": {"type": "schools", "id": "", "attrs": {}},
	}
	data.huey.authz.allow with input as inp
}

# Entry 1: Deny role:lms create (F4).
test_f4_lms_create_denied if not allowed(lms, "create")

test_f4_lms_admin_create_denied if {
	# The deny comes first, so even an LMS set that also held role:admin could not create.
	not allowed(array.concat(lms, ["role:admin"]), "create")
}

# Entry 2: Deny role:lms batch.
test_lms_batch_denied if not allowed(lms, "batch")

test_lms_admin_batch_denied if not allowed(array.concat(lms, ["role:admin"]), "batch")

# Entry 3: Allow system:authenticated read.
test_reader_read_allowed if allowed(reader, "read")

test_lms_read_allowed if allowed(lms, "read")

test_kiosk_read_allowed if allowed(kiosk, "read")

test_admin_read_allowed if allowed(admin, "read")

test_anonymous_read_denied if not allowed(anonymous, "read")

# Entry 4: Allow system:authenticated create (onboarding).
test_reader_create_allowed if allowed(reader, "create")

test_student_create_allowed if allowed(student, "create")

test_kiosk_create_allowed if allowed(kiosk, "create")

test_school_sa_create_allowed if allowed(school_sa, "create")

test_admin_create_allowed if allowed(admin, "create")

test_anonymous_create_denied if not allowed(anonymous, "create")

# Entry 5: Allow role:admin batch, details, read-collection.
test_admin_batch_allowed if allowed(admin, "batch")

test_admin_details_allowed if allowed(admin, "details")

test_admin_read_collection_allowed if allowed(admin, "read-collection")

test_schooladmin_batch_denied if not allowed(schooladmin, "batch")

test_schooladmin_details_denied if not allowed(schooladmin, "details")

test_reader_read_collection_denied if not allowed(reader, "read-collection")

test_f2_lms_details_denied if not allowed(lms, "details")

test_f2_lms_read_collection_denied if not allowed(lms, "read-collection")

test_f2_school_sa_details_denied if not allowed(school_sa, "details")

# Default deny (the original's system:authenticated update and bind entries are gone).
test_admin_update_denied if not allowed(admin, "update")

test_admin_delete_denied if not allowed(admin, "delete")

test_reader_update_denied if not allowed(reader, "update")

test_reader_bind_denied if not allowed(reader, "bind")

test_unknown_action_denied if not allowed(admin, "frobnicate")
