# Tests of collection.rego (one collection) through data.huey.authz.allow.
package huey.resource.collection_test

admin := ["system:authenticated", "user:a0", "role:admin"]

backend := ["system:authenticated", "role:admin"]

schooladmin := ["system:authenticated", "user:sa17", "role:educator", "educator:17", "schooladmin:17"]

educator := ["system:authenticated", "user:e17", "role:educator", "educator:17"]

student := ["system:authenticated", "user:s17", "role:reader", "role:student", "student:17", "child:p1"]

reader := ["system:authenticated", "user:r1", "role:reader"]

parent := ["system:authenticated", "user:p1", "parent:s17"]

lms := ["system:authenticated", "role:lms", "school:17"]

lms_other := ["system:authenticated", "role:lms", "school:18"]

school_sa := ["system:authenticated", "role:school", "role:library", "school:17"]

kiosk := ["system:authenticated", "role:kiosk"]

anonymous := []

allowed(ps, action, school_id, user_id) if {
	inp := {
		"principals": {p: true | some p in array.concat(["system:everyone"], ps)},
		"action": action,
		"resource": {"type": "collection", "id": "c1", "attrs": {"school_id": school_id, "user_id": user_id}},
	}
	data.huey.authz.allow with input as inp
}

# Entry 1: admins.
test_admin_school_delete_allowed if allowed(admin, "delete", "17", "")

test_backend_user_update_allowed if allowed(backend, "update", "", "r1")

# Entry 2: LMS, linked schools only (F2).
test_f2_lms_linked_read_allowed if allowed(lms, "read", "17", "")

test_f2_lms_linked_update_allowed if allowed(lms, "update", "17", "")

test_f2_lms_linked_delete_allowed if allowed(lms, "delete", "17", "")

test_f2_lms_unlinked_read_denied if not allowed(lms_other, "read", "17", "")

test_f2_lms_unlinked_update_denied if not allowed(lms_other, "update", "17", "")

test_f2_lms_user_collection_denied if not allowed(lms, "read", "", "r1")

# Entry 3: linked school accounts read.
test_school_sa_read_allowed if allowed(school_sa, "read", "17", "")

test_school_sa_update_denied if not allowed(school_sa, "update", "17", "")

test_school_sa_other_school_denied if not allowed(school_sa, "read", "18", "")

# Entry 4: school admins All on their school's collection.
test_schooladmin_update_allowed if allowed(schooladmin, "update", "17", "")

test_schooladmin_create_allowed if allowed(schooladmin, "create", "17", "")

test_schooladmin_other_school_denied if not allowed(schooladmin, "read", "18", "")

test_educator_denied if not allowed(educator, "read", "17", "")

test_student_denied if not allowed(student, "read", "17", "")

# Entry 5: the owner of a user collection.
test_owner_update_allowed if allowed(reader, "update", "", "r1")

test_other_user_denied if not allowed(reader, "read", "", "r2")

# Entry 6: the owner's parents.
test_parent_delete_allowed if allowed(parent, "delete", "", "s17")

test_parent_other_child_denied if not allowed(parent, "read", "", "s18")

test_kiosk_denied if not allowed(kiosk, "read", "17", "")

test_anonymous_denied if not allowed(anonymous, "read", "", "r1")
