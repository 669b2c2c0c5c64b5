# Tests of booklist.rego (one booklist) through data.huey.authz.allow.
package huey.resource.book_list_test

# Principal sets of spec/access.md §4 (with F2/F5 fixed); allowed adds system:everyone.
admin := ["system:authenticated", "user:a0", "role:admin"]

backend := ["system:authenticated", "role:admin"]

schooladmin := ["system:authenticated", "user:sa17", "role:educator", "educator:17", "schooladmin:17"]

educator := ["system:authenticated", "user:e17", "role:educator", "educator:17"]

educator18 := ["system:authenticated", "user:e18", "role:educator", "educator:18"]

student := ["system:authenticated", "user:s17", "role:reader", "role:student", "student:17", "child:p1"]

reader := ["system:authenticated", "user:r1", "role:reader"]

parent := ["system:authenticated", "user:p1", "parent:s17"]

lms := ["system:authenticated", "role:lms", "school:17"]

kiosk := ["system:authenticated", "role:kiosk"]

anonymous := []

# allowed holds when the principals ps may perform action on a list with the given attributes.
allowed(ps, action, type, sharing, user_id, school_id) if {
	inp := {
		"principals": {p: true | some p in array.concat(["system:everyone"], ps)},
		"action": action,
		"resource": {"type": "book_list", "id": "b1", "attrs": {
			"type": type, "sharing": sharing, "user_id": user_id, "school_id": school_id,
		}},
	}
	data.huey.authz.allow with input as inp
}

# Entry 1: Allow role:admin All.
test_admin_delete_any_allowed if allowed(admin, "delete", "PERSONAL", "PRIVATE", "r1", "")

test_backend_update_huey_allowed if allowed(backend, "update", "HUEY", "PRIVATE", "", "")

# Entry 2: Allow user:{user_id} All.
test_owner_update_allowed if allowed(reader, "update", "PERSONAL", "PRIVATE", "r1", "")

test_owner_delete_allowed if allowed(reader, "delete", "PERSONAL", "PRIVATE", "r1", "")

test_other_reader_read_denied if not allowed(reader, "read", "PERSONAL", "PRIVATE", "s17", "")

test_no_owner_never_matches if not allowed(reader, "read", "PERSONAL", "PRIVATE", "", "")

# Entry 3: Allow parent:{user_id} All.
test_parent_child_list_update_allowed if allowed(parent, "update", "PERSONAL", "PRIVATE", "s17", "")

test_parent_other_list_denied if not allowed(parent, "read", "PERSONAL", "PRIVATE", "r1", "")

# Entry 4: Allow educator:{school_id} All.
test_educator_school_list_update_allowed if allowed(educator, "update", "SCHOOL", "PRIVATE", "", "17")

test_schooladmin_school_list_delete_allowed if allowed(schooladmin, "delete", "SCHOOL", "PRIVATE", "", "17")

test_educator_other_school_denied if not allowed(educator18, "read", "SCHOOL", "PRIVATE", "", "17")

# Entry 5: Allow school:{school_id} All (F2).
test_lms_linked_school_update_allowed if allowed(lms, "update", "SCHOOL", "PRIVATE", "", "17")

test_lms_other_school_denied if not allowed(lms, "read", "SCHOOL", "PRIVATE", "", "18")

# Entry 6 with F19: Huey/Regional read for signed-in accounts only when shared.
test_f19_huey_public_read_allowed if allowed(kiosk, "read", "HUEY", "PUBLIC", "", "")

test_f19_regional_restricted_read_allowed if allowed(reader, "read", "REGION", "RESTRICTED", "", "")

test_f19_huey_private_read_denied if not allowed(reader, "read", "HUEY", "PRIVATE", "", "")

test_f19_regional_private_read_denied if not allowed(student, "read", "REGION", "PRIVATE", "", "")

test_huey_public_update_denied if not allowed(reader, "update", "HUEY", "PUBLIC", "", "")

test_other_list_public_read_denied if not allowed(reader, "read", "OTHER_LIST", "PUBLIC", "", "")

test_anonymous_huey_public_denied if not allowed(anonymous, "read", "HUEY", "PUBLIC", "", "")

# Entry 7: School lists readable by the school's students.
test_student_school_list_read_allowed if allowed(student, "read", "SCHOOL", "PRIVATE", "", "17")

test_student_school_list_update_denied if not allowed(student, "update", "SCHOOL", "PRIVATE", "", "17")

test_student_other_school_denied if not allowed(student, "read", "SCHOOL", "PRIVATE", "", "18")

test_student_personal_list_of_school_denied if not allowed(student, "read", "PERSONAL", "PRIVATE", "e17", "17")

# Entry 4a: Huey, Regional and Other lists are the admins' to change or delete (F3, R8).
test_r8_educator_delete_school_huey_list_denied if not allowed(educator, "delete", "HUEY", "PUBLIC", "a0", "17")

test_r8_lms_delete_school_region_list_denied if not allowed(lms, "delete", "REGION", "RESTRICTED", "", "17")

test_r8_schooladmin_update_school_other_list_denied if not allowed(schooladmin, "update", "OTHER_LIST", "PRIVATE", "", "17")

test_r8_admin_delete_school_huey_list_allowed if allowed(admin, "delete", "HUEY", "PUBLIC", "a0", "17")

test_r8_backend_delete_school_huey_list_allowed if allowed(backend, "delete", "HUEY", "PUBLIC", "", "17")

test_r8_educator_still_reads_school_huey_list if allowed(educator, "read", "HUEY", "PRIVATE", "", "17")

test_r8_educator_still_deletes_school_list if allowed(educator, "delete", "SCHOOL", "PRIVATE", "", "17")
