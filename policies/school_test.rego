# Tests of school.rego through data.huey.authz.allow, the path production queries.
package huey.resource.school_test

# Principal sets of spec/access.md §4 (with F2/F5 fixed); allowed adds system:everyone.
admin := ["system:authenticated", "user:a0", "role:admin"]

backend := ["system:authenticated", "role:admin"]

schooladmin := ["system:authenticated", "user:sa17", "role:educator", "educator:17", "schooladmin:17"]

educator := ["system:authenticated", "user:e17", "role:educator", "educator:17"]

student := ["system:authenticated", "user:s17", "role:reader", "role:student", "student:17", "child:p1"]

reader := ["system:authenticated", "user:r1", "role:reader"]

parent := ["system:authenticated", "user:p1", "parent:s17"]

supporter := ["system:authenticated", "user:sp1"]

lms := ["system:authenticated", "role:lms", "school:17"]

school_sa := ["system:authenticated", "role:school", "role:library", "school:17"]

kiosk := ["system:authenticated", "role:kiosk"]

anonymous := []

# allowed holds when the principals ps may perform action on school id.
allowed(ps, action, id) if {
	inp := {
		"principals": {p: true | some p in array.concat(["system:everyone"], ps)},
		"action": action,
		"resource": {"type": "school", "id": id, "attrs": {}},
	}
	data.huey.authz.allow with input as inp
}

# Entry 1: Allow role:admin All.
test_admin_delete_allowed if allowed(admin, "delete", "17")

test_admin_update_allowed if allowed(admin, "update", "18")

test_admin_bind_allowed if allowed(admin, "bind", "17")

test_backend_read_allowed if allowed(backend, "read", "17")

test_reader_update_denied if not allowed(reader, "update", "17")

test_kiosk_bind_denied if not allowed(kiosk, "bind", "17")

# Entry 2b: Deny system:everyone update-state (only admins change a school's state).
test_admin_update_state_allowed if allowed(admin, "update-state", "17")

test_schooladmin_update_state_denied if not allowed(schooladmin, "update-state", "17")

test_lms_linked_update_state_denied if not allowed(lms, "update-state", "17")

test_schooladmin_update_allowed_while_state_denied if {
	allowed(schooladmin, "update", "17")
	not allowed(schooladmin, "update-state", "17")
}

# Entry 2: Deny system:everyone delete.
test_f18_schooladmin_delete_denied if not allowed(schooladmin, "delete", "17")

test_lms_linked_school_delete_denied if not allowed(lms, "delete", "17")

test_anonymous_delete_denied if not allowed(anonymous, "delete", "17")

test_educator_delete_denied if not allowed(educator, "delete", "17")

# Entry 3: Allow schooladmin:{id} All.
test_schooladmin_read_allowed if allowed(schooladmin, "read", "17")

test_schooladmin_update_allowed if allowed(schooladmin, "update", "17")

test_schooladmin_details_allowed if allowed(schooladmin, "details", "17")

test_schooladmin_read_collection_allowed if allowed(schooladmin, "read-collection", "17")

test_schooladmin_bind_allowed if allowed(schooladmin, "bind", "17")

test_schooladmin_other_school_read_denied if not allowed(schooladmin, "read", "18")

test_schooladmin_other_school_update_denied if not allowed(schooladmin, "update", "18")

test_schooladmin_student_update_allowed if {
	# Entry 3 precedes entry 5: a set holding both is decided by schooladmin:{id}.
	allowed(array.concat(schooladmin, ["role:student"]), "update", "17")
}

# Entry 4: Allow school:{id} read, read-collection, update, batch, details (F2).
test_lms_linked_school_read_allowed if allowed(lms, "read", "17")

test_lms_linked_school_read_collection_allowed if allowed(lms, "read-collection", "17")

test_lms_linked_school_update_allowed if allowed(lms, "update", "17")

test_lms_linked_school_batch_allowed if allowed(lms, "batch", "17")

test_lms_linked_school_details_allowed if allowed(lms, "details", "17")

test_lms_linked_school_bind_denied if not allowed(lms, "bind", "17")

test_school_sa_linked_school_read_allowed if allowed(school_sa, "read", "17")

test_school_sa_linked_school_update_allowed if allowed(school_sa, "update", "17")

test_school_sa_unlinked_school_read_denied if not allowed(school_sa, "read", "18")

test_f2_lms_unlinked_school_read_denied if not allowed(lms, "read", "18")

test_f2_lms_unlinked_school_update_denied if not allowed(lms, "update", "18")

test_f2_lms_unlinked_school_batch_denied if not allowed(lms, "batch", "18")

test_f2_lms_unlinked_school_read_collection_denied if not allowed(lms, "read-collection", "18")

test_f2_lms_without_link_read_denied if not allowed(["system:authenticated", "role:lms"], "read", "17")

# Entry 5: Deny role:student update.
test_student_update_denied if not allowed(student, "update", "17")

test_f6_student_update_denied if {
	# Even a (hypothetical) school-scoped read principal does not reach update past entry 5.
	not allowed(array.concat(student, ["educator:17"]), "update", "17")
}

# Entry 6: Allow educator:{id} read (F6).
test_f6_educator_own_school_read_allowed if allowed(educator, "read", "17")

test_educator_other_school_read_denied if not allowed(educator, "read", "18")

test_educator_own_school_update_denied if not allowed(educator, "update", "17")

test_educator_own_school_details_denied if not allowed(educator, "details", "17")

test_educator_own_school_read_collection_denied if not allowed(educator, "read-collection", "17")

# Entry 7: Allow student:{id} read (F6).
test_f6_student_own_school_read_allowed if allowed(student, "read", "17")

test_student_other_school_read_denied if not allowed(student, "read", "18")

test_student_own_school_details_denied if not allowed(student, "details", "17")

# Default deny.
test_reader_read_denied if not allowed(reader, "read", "17")

test_parent_read_denied if not allowed(parent, "read", "17")

test_supporter_read_denied if not allowed(supporter, "read", "17")

test_kiosk_read_denied if not allowed(kiosk, "read", "17")

test_anonymous_read_denied if not allowed(anonymous, "read", "17")

test_role_educator_without_school_read_denied if not allowed(["system:authenticated", "role:educator"], "read", "17")

test_unknown_action_denied if not allowed(educator, "frobnicate", "17")

test_empty_id_denied if not allowed(["system:authenticated", "schooladmin:"], "read", "")
